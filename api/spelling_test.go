package api

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// spelt is a report as members of a JSON object, in order, with the
// position apart so that it can also be a GeoJSON geometry.
type spelt struct {
	latName, lonName string
	lat, lon         float64
	members          [][2]string // name, JSON value
}

func (s spelt) json(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":%q,%q:%v,%q:%v`, id, s.latName, s.lat, s.lonName, s.lon)
	for _, m := range s.members {
		fmt.Fprintf(&b, ",%q:%s", m[0], m[1])
	}
	return b.String() + "}"
}

func (s spelt) feature(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"id":%q`, s.lon, s.lat, id)
	for _, m := range s.members {
		fmt.Fprintf(&b, ",%q:%s", m[0], m[1])
	}
	return b.String() + "}}"
}

func (s spelt) csv(id string) string {
	header := []string{"id", s.latName, s.lonName}
	row := []string{id, fmt.Sprint(s.lat), fmt.Sprint(s.lon)}
	for _, m := range s.members {
		var v any
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			panic(err)
		}
		header = append(header, m[0])
		text := fmt.Sprint(v)
		if strings.ContainsAny(text, `,"`) {
			text = `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
		}
		row = append(row, text)
	}
	return strings.Join(header, ",") + "\n" + strings.Join(row, ",") + "\n"
}

// TestReportSpellingsAgreeOverHTTP posts one report, spelt with aliases, a
// local time and a Vietnamese no_service, through each route that takes
// reports, and reads back the same report from each; then a misspelt
// field, refused on every route with its name.
func TestReportSpellingsAgreeOverHTTP(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	good := spelt{latName: "Latitude", lonName: "lng", lat: 10.505, lon: 105.105, members: [][2]string{
		{"Observed_At", `"2025-08-30 08:00:00"`}, {"carrier", `"452-04"`}, {"tech", `"LTE"`},
		{"no_service", `"có"`}, {"reporter", `"Tổ CNS 9"`}, {"note", `"Mất sóng, cuối ấp \"Phú Hòa\""`},
	}}
	var routes = []struct {
		name, path, ctype string
		body              func(spelt, string) string
	}{
		{"POST JSON", "/api/v1/reports", "application/json", spelt.json},
		{"POST Feature", "/api/v1/reports", "application/geo+json", spelt.feature},
		{"import CSV", "/api/v1/reports/import", "text/csv", spelt.csv},
		{"import GeoJSON", "/api/v1/reports/import", "application/geo+json", func(s spelt, id string) string {
			return `{"type":"FeatureCollection","features":[` + s.feature(id) + `]}`
		}},
	}
	var first map[string]any
	for i, rt := range routes {
		id := fmt.Sprintf("spelt-%d", i)
		r := e.do("POST", rt.path, rt.ctype, []byte(rt.body(good, id)))
		if r.status != 201 && !(r.status == 200 && strings.Contains(string(r.body), `"accepted":1`)) {
			t.Fatalf("%s: %d %s", rt.name, r.status, r.body)
		}
		r = e.get("/api/v1/reports/" + id)
		var got map[string]any
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
			t.Fatalf("%s: GET %s: %d %s", rt.name, id, r.status, r.body)
		}
		delete(got, "id")
		if first == nil {
			first = got
			if got["no_service"] != true || got["carrier"] != "viettel" || got["tech"] != "4G" || got["observed_at"] != "2025-08-30T01:00:00Z" {
				t.Errorf("%s: stored %v", rt.name, got)
			}
		} else if !reflect.DeepEqual(got, first) {
			t.Errorf("%s stored\n%v\n%s stored\n%v", rt.name, got, routes[0].name, first)
		}
	}

	_, before, _, _, _ := e.store.Counts(ctx)
	bad := good
	bad.members = append([][2]string{{"singal_dbm", "-110"}}, good.members...)
	for i, rt := range routes {
		r := e.do("POST", rt.path, rt.ctype, []byte(rt.body(bad, fmt.Sprintf("misspelt-%d", i))))
		var p problem
		var res importResult
		var errs []fieldError
		switch {
		case r.status == 400 && json.Unmarshal(r.body, &p) == nil:
			errs = p.Errors
		case r.status == 200 && json.Unmarshal(r.body, &res) == nil && res.Accepted == 0:
			errs = res.Errors
		default:
			t.Errorf("%s: %d %s, want the report refused", rt.name, r.status, r.body)
			continue
		}
		if len(errs) != 1 || errs[0].Field != "singal_dbm" || errs[0].Reason != "unknown field (did you mean signal_dbm?)" {
			t.Errorf("%s: errors %+v, want singal_dbm named with a suggestion", rt.name, errs)
		}
	}
	if _, after, _, _, _ := e.store.Counts(ctx); after != before {
		t.Errorf("%d reports stored after the misspelt ones, want %d", after, before)
	}
}
