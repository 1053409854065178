package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// layerProps returns each feature's properties of a layer response, by
// feature id.
func layerProps(t *testing.T, body []byte) map[string]map[string]json.RawMessage {
	t.Helper()
	var fc struct {
		Features []struct {
			ID       string                     `json:"id"`
			Geometry json.RawMessage            `json:"geometry"`
			Props    map[string]json.RawMessage `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("%v: %.200s", err, body)
	}
	m := map[string]map[string]json.RawMessage{}
	for _, f := range fc.Features {
		if len(f.Geometry) == 0 {
			t.Errorf("feature %s without geometry", f.ID)
		}
		m[f.ID] = f.Props
	}
	return m
}

// TestSlimAreasAtLowZoom: below slimZoom the areas carry the properties
// the map styles and labels by, each with the bytes the full feature
// has (Vietnamese names exactly); properties=* gives them all at any
// zoom, and properties= a list picks them, on every layer.
func TestSlimAreasAtLowZoom(t *testing.T) {
	e := newEnv(t, Options{})
	full := layerProps(t, e.get("/api/v1/layers/areas").body)
	if len(full) != len(testAreas) {
		t.Fatalf("%d areas, want %d", len(full), len(testAreas))
	}
	for _, z := range []int{0, 5, 8, slimZoom - 1, slimZoom, 14, 15} {
		path := "/api/v1/layers/areas?zoom=" + strconv.Itoa(z)
		r := e.do("GET", path, "", nil, "Accept-Encoding", "identity")
		got := layerProps(t, r.body)
		all := layerProps(t, e.get(path+"&properties=*").body)
		if len(got) != len(full) || len(all) != len(full) {
			t.Fatalf("%s: %d and %d areas, want %d", path, len(got), len(all), len(full))
		}
		for id, fp := range full {
			if len(all[id]) != len(fp) {
				t.Errorf("%s&properties=*: area %s has %d properties, want %d", path, id, len(all[id]), len(fp))
			}
			want := len(fp)
			if z < slimZoom {
				want = len(areaMapProps)
			}
			if len(got[id]) != want {
				t.Errorf("%s: area %s has %d properties, want %d", path, id, len(got[id]), want)
			}
			for k, v := range got[id] {
				if z < slimZoom && !areaMapProps[k] {
					t.Errorf("%s: area %s carries %s", path, id, k)
				}
				if !bytes.Equal(v, fp[k]) {
					t.Errorf("%s: area %s %s = %s, want %s", path, id, k, v, fp[k])
				}
			}
		}
	}
	for _, a := range testAreas {
		if got := string(layerProps(t, e.get("/api/v1/layers/areas?zoom=8").body)[a.Code]["name"]); got != `"`+a.Name+`"` {
			t.Errorf("name of %s at zoom 8: %s, want %q", a.Code, got, a.Name)
		}
	}
	// A list picks, from what the zoom has or from the full feature.
	for _, path := range []string{
		"/api/v1/layers/areas?zoom=8&properties=code,population",
		"/api/v1/layers/areas?zoom=13&properties=code,%20population",
		"/api/v1/layers/areas?properties=population,code,no_such",
	} {
		for id, p := range layerProps(t, e.get(path).body) {
			if len(p) != 2 || !bytes.Equal(p["population"], full[id]["population"]) || !bytes.Equal(p["code"], full[id]["code"]) {
				t.Errorf("%s: area %s: %v", path, id, p)
			}
		}
	}
	for _, layer := range []string{"holes", "teams", "reports", "unobserved"} {
		r := e.get("/api/v1/layers/" + layer + "?properties=carrier")
		if r.status != 200 {
			t.Fatalf("%s: status %d", layer, r.status)
		}
		for id, p := range layerProps(t, r.body) {
			if _, ok := p["carrier"]; len(p) > 1 || layer != "teams" && !ok {
				t.Errorf("%s %s: properties %v", layer, id, p)
			}
		}
	}
	wantProblem(t, e.get("/api/v1/layers/areas?properties=,"), 400, "properties")
}

func TestPickProps(t *testing.T) {
	f := `{"type":"Feature","id":"a\",\"properties\":{","geometry":null,"properties":{"code":"A","name":"Ấp \"Mỹ\" \\ Lợi","n":-1.5e3,"o":{"x":[1,"}"]},"a":[1,{"b":"]"}],"t\u0065":true,"z":null}}`
	keep := func(names ...string) func([]byte) bool {
		return func(n []byte) bool {
			for _, k := range names {
				if k == string(n) {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		names []string
		want  string
	}{
		{nil, `{}`},
		{[]string{"name"}, `{"name":"Ấp \"Mỹ\" \\ Lợi"}`},
		{[]string{"o", "z", "te"}, `{"o":{"x":[1,"}"]},"t\u0065":true,"z":null}`},
		{[]string{"a", "n", "code"}, `{"code":"A","n":-1.5e3,"a":[1,{"b":"]"}]}`},
	}
	head := `{"type":"Feature","id":"a\",\"properties\":{","geometry":null,"properties":`
	for _, tc := range tests {
		got := string(pickProps(nil, []byte(f), keep(tc.names...)))
		if want := head + tc.want + "}"; got != want {
			t.Errorf("%v:\n got %s\nwant %s", tc.names, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%v: not JSON: %s", tc.names, got)
		}
	}
}
