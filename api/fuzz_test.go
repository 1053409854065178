package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/api"
	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// fuzzNow is the clock of the fuzz servers.
var fuzzNow = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

// newFuzzHandler is a server over a fresh store with one hamlet and a few
// reports in it, shared by all the inputs of one fuzz target.
func newFuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	ctx := context.Background()
	st, err := gpkg.Open(ctx, filepath.Join(f.TempDir(), "f.gpkg"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ring := orb.Ring{{105.0, 9.0}, {105.1, 9.0}, {105.1, 9.1}, {105.0, 9.1}, {105.0, 9.0}}
	areas := []geo.Area{{Code: "F1", Name: "Ấp Phú Hòa", ParentCode: "C1", Level: geo.LevelHamlet,
		Population: 1000, Geometry: orb.MultiPolygon{{ring}}}}
	if err := st.ReplaceAreas(ctx, "2025", areas); err != nil {
		f.Fatal(err)
	}
	var reps []geo.Report
	for i := range 5 {
		dbm := -110.0 - float64(i)
		reps = append(reps, geo.Report{
			ID:         "seed" + strconv.Itoa(i),
			Lat:        9.01 + float64(i)*0.01,
			Lon:        105.01 + float64(i)*0.01,
			ObservedAt: time.Date(2026, 1, 10+i, 8, 0, 0, 0, time.UTC),
			Carrier:    geo.Viettel,
			Tech:       geo.Tech4G,
			SignalDBm:  &dbm,
			Source:     geo.SourceTeam,
			Reporter:   "Tổ CNS",
		})
	}
	if _, err := st.AddReports(ctx, reps, geo.AuditEntry{}); err != nil {
		f.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{Now: func() time.Time { return fuzzNow }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(svc.Close)
	srv, err := api.New(svc, api.Options{})
	if err != nil {
		f.Fatal(err)
	}
	// Fuzzed requests are an admin's, so they reach the decoders.
	if err := st.AddUser(ctx, geo.User{Name: "admin", Role: geo.RoleAdmin}, geo.AuditEntry{}); err != nil {
		f.Fatal(err)
	}
	_, secret, err := svc.CreateToken(ctx, service.CommandLine("fuzz"), "admin", "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	fuzzToken = secret
	return srv.Handler()
}

// fuzzToken is an admin's API token.
var fuzzToken string

// serve sends one request to h and returns the recorded reply.
func serve(h http.Handler, method, path, rawQuery, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.URL.RawQuery = rawQuery
	req.Header.Set("Authorization", "Bearer "+fuzzToken)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// checkReply fails t when w is a server error, or a client error that is
// not a problem+json document.
func checkReply(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: status %d: %.500s", what, w.Code, w.Body.Bytes())
	}
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s: status %d with Content-Type %q: %.300s", what, w.Code, ct, w.Body.Bytes())
		}
		var p map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s: status %d problem is not JSON: %v: %.300s", what, w.Code, err, w.Body.Bytes())
		}
	}
}

var reportTypes = []string{
	"application/json",
	"application/geo+json",
	"application/json; charset=utf-8",
	"APPLICATION/GEO+JSON; charset=UTF-8",
	"text/plain",
	"",
	"application/json; charset=\x00",
}

func FuzzPostReport(f *testing.F) {
	seeds := []string{
		`{"lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-115}`,
		`{"id":"x1","lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"452-04","tech":"4G","signal_dbm":-118,"reporter":"Tổ công nghệ số Ấp Phú Hòa"}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[105.05,9.05]},"properties":{"observed_at":"2026-01-20T08:00:00Z","carrier":"mobifone"}}`,
		`{"lat":NaN,"lon":105.05,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel"}`,
		`{"lat":1e999,"lon":-1e999,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel"}`,
		`{"lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel","signal_dbm":123456789012345678901234567890}`,
		`{"lat":"9.05","lon":[105.05],"observed_at":{"a":{"b":{"c":[[[[[]]]]]}}},"carrier":null}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[[[[105.05]]]]},"properties":null}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,9],[105.1,9],[105.1,9.1],[105,9]]]},"properties":{}}`,
		`{"type":"Feature","geometry":null,"properties":{"lat":9.05,"lon":105.05}}`,
		`{"id":"\u0000","lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel"}`,
		"{\"id\":\"a\x00b\",\"lat\":9.05,\"lon\":105.05,\"observed_at\":\"2026-01-20T08:00:00Z\",\"carrier\":\"viettel\"}",
		`{"id":"Ấp/../..%2F?#","lat":9.05,"lon":105.05,"observed_at":"0001-01-01T00:00:00Z","carrier":"viettel"}`,
		`{"lat":9.05,"lon":105.05,"observed_at":"9999-12-31T23:59:59Z","carrier":"viettel","lat":10}`,
		`{"lat":-0,"lon":1e-400,"observed_at":"2026-01-20","carrier":"VIETTEL","tech":"5G","signal_dbm":-1e308}`,
		`[]`, `null`, `""`, `0`, ``, `{`, `{}`, `{"":""}`, "\x00\x00\x00", "\ufeff{}",
		strings.Repeat(`{"a":`, 2000) + strings.Repeat(`}`, 2000),
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Add([]byte(seeds[0]), uint8(4))
	f.Add([]byte(seeds[0]), uint8(6))
	h := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		ctype := reportTypes[int(ct)%len(reportTypes)]
		w := serve(h, "POST", "/api/v1/reports", "", ctype, body)
		checkReply(t, "POST /api/v1/reports", w)
		if w.Code == http.StatusCreated || w.Code == http.StatusOK {
			var out struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.ID == "" {
				t.Fatalf("status %d reply without an id (%v): %.300s", w.Code, err, w.Body.Bytes())
			}
		}
	})
}

// querySeeds are query strings for the layer and OGC fuzzers.
var querySeeds = []string{
	"",
	"bbox=105,9,105.1,9.1",
	"bbox=105.1,9.1,105,9",
	"bbox=NaN,NaN,NaN,NaN",
	"bbox=-1e999,-1e999,1e999,1e999",
	"bbox=1,2,3",
	"bbox=1,2,3,4,5,6",
	"bbox=%00,%00,%00,%00",
	"carrier=viettel&tech=4G&limit=2",
	"carrier=all",
	"carrier=Ấp%20Phú%20Hòa",
	"tech=%F0%9F%93%B6",
	"from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
	"from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
	"level=hamlet",
	"level=-1",
	"limit=0", "limit=1", "limit=10000", "limit=10001", "limit=-1",
	"limit=99999999999999999999999999",
	"limit=1&limit=0",
	"offset=-1", "offset=9223372036854775807", "offset=1&limit=1",
	"datetime=2026-01-01T00:00:00Z/..",
	"datetime=../..",
	"datetime=2026-01-12T08:00:00Z",
	"datetime=2027-01-01T00:00:00Z/2026-01-01T00:00:00Z",
	"f=json", "f=geojson", "f=html",
	"properties=carrier,signal_dbm",
	"%zz", "a=%", ";", "&&&=&", "a=b;c=d", "\x00", "%00=%00",
	strings.Repeat("a=b&", 500),
}

func FuzzLayerQuery(f *testing.F) {
	for _, q := range querySeeds {
		f.Add(q)
	}
	h := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, layer := range []string{"reports", "areas"} {
			path := "/api/v1/layers/" + layer
			w := serve(h, "GET", path, q, "", nil)
			checkReply(t, path+"?"+q, w)
			if w.Code == http.StatusOK {
				if _, err := geojson.UnmarshalFeatureCollection(w.Body.Bytes()); err != nil {
					t.Fatalf("%s?%s: not GeoJSON: %v: %.300s", path, q, err, w.Body.Bytes())
				}
			}
		}
	})
}

func FuzzOGCItems(f *testing.F) {
	for _, q := range querySeeds {
		f.Add(q)
	}
	h := newFuzzHandler(f)
	const path = "/ogc/collections/reports/items"
	f.Fuzz(func(t *testing.T, q string) {
		w := serve(h, "GET", path, q, "", nil)
		checkReply(t, path+"?"+q, w)
		if w.Code != http.StatusOK {
			return
		}
		var doc struct {
			Type           string            `json:"type"`
			NumberReturned *int              `json:"numberReturned"`
			Features       []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s?%s: not JSON: %v: %.300s", path, q, err, w.Body.Bytes())
		}
		if doc.NumberReturned == nil {
			t.Fatalf("%s?%s: no numberReturned: %.300s", path, q, w.Body.Bytes())
		}
		limit := 100
		if v, err := url.ParseQuery(q); err == nil && v.Has("limit") {
			n, err := strconv.Atoi(v.Get("limit"))
			if err != nil {
				t.Fatalf("%s?%s: 200 for limit %q", path, q, v.Get("limit"))
			}
			limit = n
		}
		if n := *doc.NumberReturned; n > limit || n != len(doc.Features) {
			t.Fatalf("%s?%s: numberReturned %d, %d features, limit %d", path, q, n, len(doc.Features), limit)
		}
	})
}

func FuzzImportCSV(f *testing.F) {
	const header = "id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n"
	seeds := []string{
		header + "c1,9.05,105.05,2026-01-20T08:00:00+07:00,Viettel,4G,-122,Tổ CNS 5\n",
		"\ufeff" + header + ",9.06,105.06,2026-01-20 08:00:00,452-04,4G,-123,\n",
		header + "c2,NaN,105.05,2026-01-20T08:00:00Z,viettel,4G,-1,\n",
		header + "c3,1e999,-1e999,2026-01-20T08:00:00Z,viettel,4G,1e999,\n",
		header + "c4,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,123456789012345678901234567890,\n",
		header + "c5,9.05,105.05,2026-01-20T08:00:00Z,viettel\n",
		header + "c6,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,-100,x,extra,fields\n",
		header + "\"c7\",\"9.05\",\"105.05\",\"2026-01-20T08:00:00Z\",\"viettel\",\"4G\",\"-100\",\"a \"\"quoted\"\" name\"\n",
		header + "\"unterminated,9.05\n",
		header + "c8\x00,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,-100,\x00\n",
		header + "c9,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,-100,\nc9,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,-100,\n",
		header + "seed0,9.05,105.05,2026-01-20T08:00:00Z,viettel,4G,-100,\n",
		"lat;lon;observed_at;carrier\r\n9.05;105.05;2026-01-20T08:00:00Z;viettel\r\n",
		"lat,lon,observed_at,carrier\r\n9,105,2026-01-20T08:00:00Z,viettel",
		"lat,lat,lat\n1,2,3\n",
		"a,b\n1,2\n",
		header,
		"", "\n", "\x00", "\ufeff", ",,,,\n,,,,\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	h := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := serve(h, "POST", "/api/v1/reports/import", "", "text/csv", body)
		checkReply(t, "POST /api/v1/reports/import", w)
		if w.Code != http.StatusOK {
			return
		}
		var res map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("import reply not JSON: %v: %.300s", err, w.Body.Bytes())
		}
		for _, k := range []string{"accepted", "rejected"} {
			var n float64
			if err := json.Unmarshal(res[k], &n); err != nil || n < 0 || math.Trunc(n) != n {
				t.Fatalf("import reply %s = %s: %.300s", k, res[k], w.Body.Bytes())
			}
		}
	})
}
