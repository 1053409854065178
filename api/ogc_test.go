package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

type ogcLinks []ogcLink

func (ls ogcLinks) find(rel string) *ogcLink {
	for i := range ls {
		if ls[i].Rel == rel {
			return &ls[i]
		}
	}
	return nil
}

// ogcItemsDoc is the part of an items response the tests look at.
type ogcItemsDoc struct {
	Type           string   `json:"type"`
	NumberMatched  int      `json:"numberMatched"`
	NumberReturned int      `json:"numberReturned"`
	TimeStamp      string   `json:"timeStamp"`
	Links          ogcLinks `json:"links"`
	Features       []struct {
		Type       string         `json:"type"`
		ID         any            `json:"id"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func (e *env) getJSON(path, ctype string, v any) resp {
	e.t.Helper()
	r := e.get(path)
	if r.status != 200 {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if got := r.header.Get("Content-Type"); got != ctype {
		e.t.Errorf("%s: Content-Type %q, want %q", path, got, ctype)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		e.t.Fatalf("%s: %v: %s", path, err, r.body)
	}
	return r
}

// items gets an items page; path is relative to the server or absolute.
func (e *env) items(path string) ogcItemsDoc {
	e.t.Helper()
	path = strings.TrimPrefix(path, e.ts.URL)
	var d ogcItemsDoc
	e.getJSON(path, "application/geo+json", &d)
	if d.Type != "FeatureCollection" || d.NumberReturned != len(d.Features) || d.Features == nil {
		e.t.Errorf("%s: type %q, numberReturned %d, %d features", path, d.Type, d.NumberReturned, len(d.Features))
	}
	if _, err := time.Parse(time.RFC3339, d.TimeStamp); err != nil {
		e.t.Errorf("%s: timeStamp %q", path, d.TimeStamp)
	}
	for _, f := range d.Features {
		if s, ok := f.ID.(string); !ok || s == "" {
			e.t.Errorf("%s: feature id %#v is not a string", path, f.ID)
		}
	}
	return d
}

func TestOGCLanding(t *testing.T) {
	e := newEnv(t, Options{})
	var d struct {
		Title string   `json:"title"`
		Links ogcLinks `json:"links"`
	}
	e.getJSON("/ogc", "application/json", &d)
	if d.Title != "gapmap" {
		t.Errorf("title %q", d.Title)
	}
	want := map[string][2]string{
		"self":         {e.ts.URL + "/ogc", "application/json"},
		"service-desc": {e.ts.URL + "/api/v1/openapi.json", "application/vnd.oai.openapi+json;version=3.0"},
		"conformance":  {e.ts.URL + "/ogc/conformance", "application/json"},
		"data":         {e.ts.URL + "/ogc/collections", "application/json"},
	}
	for rel, w := range want {
		l := d.Links.find(rel)
		if l == nil || l.Href != w[0] || l.Type != w[1] {
			t.Errorf("link %s: %+v, want %v", rel, l, w)
		}
	}
	var c struct {
		ConformsTo []string `json:"conformsTo"`
	}
	e.getJSON("/ogc/conformance?f=json", "application/json", &c)
	for _, cl := range []string{"core", "geojson", "oas30"} {
		u := "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/" + cl
		found := false
		for _, got := range c.ConformsTo {
			found = found || got == u
		}
		if !found {
			t.Errorf("conformsTo lacks %s: %v", u, c.ConformsTo)
		}
	}
	wantProblem(t, e.get("/ogc?f=html"), 400, "f")
}

func TestOGCCollections(t *testing.T) {
	e := newEnv(t, Options{})
	var d struct {
		Links       ogcLinks           `json:"links"`
		Collections []ogcCollectionDoc `json:"collections"`
	}
	e.getJSON("/ogc/collections", "application/json", &d)
	if d.Links.find("self") == nil {
		t.Error("no self link")
	}
	var ids []string
	for _, c := range d.Collections {
		ids = append(ids, c.ID)
		if c.ItemType != "feature" || c.Title == "" || c.Description == "" || len(c.CRS) == 0 {
			t.Errorf("%s: %+v", c.ID, c)
		}
		if c.Extent == nil || c.Extent.Spatial == nil || len(c.Extent.Spatial.BBox) != 1 ||
			c.Extent.Spatial.CRS != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
			t.Errorf("%s: extent %+v", c.ID, c.Extent)
			continue
		}
		b := c.Extent.Spatial.BBox[0]
		if b[0] < 105 || b[2] > 105.4 || b[1] < 10.4 || b[3] > 10.8 || b[0] > b[2] || b[1] > b[3] {
			t.Errorf("%s: bbox %v", c.ID, b)
		}
		items := ogcLinks(c.Links).find("items")
		if items == nil || items.Type != "application/geo+json" ||
			items.Href != e.ts.URL+"/ogc/collections/"+c.ID+"/items" {
			t.Errorf("%s: items link %+v", c.ID, items)
		}
		if self := ogcLinks(c.Links).find("self"); self == nil || self.Href != e.ts.URL+"/ogc/collections/"+c.ID {
			t.Errorf("%s: self link %+v", c.ID, self)
		}
		if c.ID == "reports" {
			tmp := c.Extent.Temporal
			if tmp == nil || len(tmp.Interval) != 1 || tmp.Interval[0][0] == nil || tmp.Interval[0][1] == nil ||
				*tmp.Interval[0][0] != "2025-06-01T08:00:00Z" || *tmp.Interval[0][1] != "2025-08-18T08:00:00Z" {
				t.Errorf("reports: temporal extent %+v", tmp)
			} else {
				t.Logf("reports: temporal extent %s/%s", *tmp.Interval[0][0], *tmp.Interval[0][1])
			}
		}
	}
	if strings.Join(ids, ",") != "areas,holes,reports,teams,unobserved" {
		t.Errorf("collections %v", ids)
	}
	// Areas' bbox is the union of the three hamlets.
	want := [4]float64{105.10, 10.50, 105.32, 10.72}
	for i, v := range d.Collections[0].Extent.Spatial.BBox[0] {
		if math.Abs(v-want[i]) > 1e-9 {
			t.Errorf("areas bbox %v, want %v", d.Collections[0].Extent.Spatial.BBox[0], want)
		}
	}
	var one ogcCollectionDoc
	e.getJSON("/ogc/collections/teams", "application/json", &one)
	if one.ID != "teams" {
		t.Errorf("collection %+v", one)
	}
	wantProblem(t, e.get("/ogc/collections/nope"), 404, "")
	wantProblem(t, e.get("/ogc/collections/nope/items"), 404, "")
	wantProblem(t, e.get("/ogc/collections/nope/items/x"), 404, "")
}

func TestOGCPaging(t *testing.T) {
	e := newEnv(t, Options{})
	for _, c := range []string{"areas", "holes", "reports", "teams"} {
		all := e.items("/ogc/collections/" + c + "/items?limit=10000")
		if all.Links.find("next") != nil || all.Links.find("prev") != nil {
			t.Errorf("%s: one page has next/prev: %+v", c, all.Links)
		}
		seen := map[string]bool{}
		next := "/ogc/collections/" + c + "/items?limit=2&offset=0&unknown=1"
		pages := 0
		for next != "" {
			p := e.items(next)
			if p.NumberMatched != all.NumberMatched {
				t.Fatalf("%s: numberMatched %d, want %d", c, p.NumberMatched, all.NumberMatched)
			}
			if pages == 0 && all.NumberMatched > 2 {
				n := p.Links.find("next")
				if n == nil || n.Type != "application/geo+json" {
					t.Fatalf("%s: no next link: %+v", c, p.Links)
				}
				u, _ := url.Parse(n.Href)
				if u.Query().Get("offset") != "2" || u.Query().Get("limit") != "2" || u.Query().Get("unknown") != "1" {
					t.Errorf("%s: next %s", c, n.Href)
				}
			}
			if pages > 0 && p.Links.find("prev") == nil {
				t.Errorf("%s: page %d has no prev", c, pages)
			}
			for _, f := range p.Features {
				id := f.ID.(string)
				if seen[id] {
					t.Errorf("%s: id %s twice", c, id)
				}
				seen[id] = true
			}
			next = ""
			if n := p.Links.find("next"); n != nil {
				next = n.Href
			}
			if pages++; pages > 100 {
				t.Fatal("too many pages")
			}
		}
		if len(seen) != all.NumberMatched || len(all.Features) != all.NumberMatched {
			t.Errorf("%s: %d ids over pages, %d features, numberMatched %d", c, len(seen), len(all.Features), all.NumberMatched)
		}
		if want := map[string]int{"areas": 3, "reports": 30, "teams": 1}[c]; want != 0 && all.NumberMatched != want {
			t.Errorf("%s: numberMatched %d, want %d", c, all.NumberMatched, want)
		}
		if c == "holes" && all.NumberMatched == 0 {
			t.Error("no holes: the test data should make some")
		}
	}
	if d := e.items("/ogc/collections/reports/items"); len(d.Features) != 30 || d.NumberMatched != 30 {
		t.Errorf("default limit: %d features", len(d.Features))
	}
	if d := e.items("/ogc/collections/reports/items?offset=100"); len(d.Features) != 0 || d.NumberMatched != 30 {
		t.Errorf("offset past the end: %d features, matched %d", len(d.Features), d.NumberMatched)
	}
}

func TestOGCProperties(t *testing.T) {
	e := newEnv(t, Options{})
	// The properties are the layers'.
	for _, c := range []string{"areas", "holes", "reports", "teams"} {
		layer := parseFC(t, e.get("/api/v1/layers/"+c).body)
		d := e.items("/ogc/collections/" + c + "/items?limit=10000")
		if len(layer.Features) != len(d.Features) {
			t.Fatalf("%s: layer %d features, ogc %d", c, len(layer.Features), len(d.Features))
		}
		if len(d.Features) == 0 {
			continue
		}
		lp := layer.Features[0].Properties
		for k := range d.Features[0].Properties {
			if _, ok := lp[k]; !ok {
				t.Errorf("%s: property %q not in the layer", c, k)
			}
		}
		if len(lp) != len(d.Features[0].Properties) {
			t.Errorf("%s: %d properties, layer has %d", c, len(d.Features[0].Properties), len(lp))
		}
	}
	r := e.get("/ogc/collections/reports/items?limit=10000")
	if bytes.Contains(r.body, []byte("Tổ CNS")) || bytes.Contains(r.body, []byte("reporter")) {
		t.Error("reports expose reporters")
	}
	r = e.get("/ogc/collections/areas/items")
	for _, name := range []string{"Ấp Phú Hòa", "Ấp Bình Thạnh", "Khóm Mỹ Lợi"} {
		if !bytes.Contains(r.body, []byte(`"`+name+`"`)) {
			t.Errorf("areas: %q not found byte for byte", name)
		}
	}
	r = e.get("/ogc/collections/teams/items/T1")
	if !bytes.Contains(r.body, []byte(`"Tổ công nghệ số Ấp Phú Hòa"`)) {
		t.Errorf("team name not byte for byte: %s", r.body)
	}
}

func TestOGCFilters(t *testing.T) {
	e := newEnv(t, Options{})
	count := func(path string) int {
		t.Helper()
		d := e.items(path)
		if d.NumberMatched != len(d.Features) {
			t.Errorf("%s: numberMatched %d, %d features", path, d.NumberMatched, len(d.Features))
		}
		return d.NumberMatched
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"areas/items?bbox=105.09,10.49,105.115,10.53", 1},
		{"areas/items?bbox=105.09,10.49,105.13,10.53", 2},
		{"areas/items?bbox=0,0,1,1", 0},
		{"reports/items?bbox=105.10,10.50,105.12,10.52", 20},
		{"teams/items?bbox=105.10,10.50,105.12,10.52", 1},
		{"teams/items?bbox=105.2,10.6,105.4,10.8", 0},
		// Reports: day 1+i%20 of month 6+i%3, 08:00 UTC.
		{"reports/items?datetime=2025-06-01T08:00:00Z", 1},
		{"reports/items?datetime=2025-06-01T15:00:00%2B07:00", 1},
		{"reports/items?datetime=2025-06-01T08:00:00.5Z", 0},
		{"reports/items?datetime=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z", 10},
		{"reports/items?datetime=2025-08-01T00:00:00Z/..", 10},
		{"reports/items?datetime=2025-08-01T00:00:00Z/", 10},
		{"reports/items?datetime=../2025-06-30T23:59:59Z", 10},
		{"reports/items?datetime=/2025-06-30T23:59:59Z", 10},
		{"reports/items?datetime=2024-01-01T00:00:00Z/2024-12-31T00:00:00Z", 0},
		{"reports/items?datetime=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z&bbox=105.10,10.50,105.12,10.52&limit=10000", 7},
		// Areas have no time: datetime does not filter them.
		{"areas/items?datetime=2024-01-01T00:00:00Z", 3},
	} {
		if n := count("/ogc/collections/" + tc.path); n != tc.want {
			t.Errorf("%s: %d, want %d", tc.path, n, tc.want)
		}
	}
	// Holes overlap the interval they were observed in, and none outside.
	holes := e.items("/ogc/collections/holes/items")
	if holes.NumberMatched > 0 {
		if n := count("/ogc/collections/holes/items?datetime=2025-06-15T00:00:00Z/2025-07-15T00:00:00Z"); n == 0 {
			t.Error("no holes overlap June–July")
		}
		if n := count("/ogc/collections/holes/items?datetime=../2025-01-01T00:00:00Z"); n != 0 {
			t.Errorf("%d holes before 2025", n)
		}
	}
	for _, tc := range []struct{ q, field string }{
		{"limit=0", "limit"}, {"limit=x", "limit"}, {"offset=-1", "offset"},
		{"offset=a", "offset"}, {"bbox=1,2,3", "bbox"}, {"bbox=2,0,1,1", "bbox"}, {"bbox=a,b,c,d", "bbox"},
		{"datetime=yesterday", "datetime"}, {"datetime=2025-07-01", "datetime"}, {"datetime=", "datetime"},
		{"datetime=..", "datetime"}, {"datetime=../..", "datetime"}, {"datetime=/", "datetime"},
		{"datetime=2025-07-02T00:00:00Z/2025-07-01T00:00:00Z", "datetime"},
		{"datetime=2025-07-01T00:00:00Z/2025-07-02T00:00:00Z/2025-07-03T00:00:00Z", "datetime"},
		{"f=html", "f"},
	} {
		wantProblem(t, e.get("/ogc/collections/reports/items?"+tc.q), 400, tc.field)
	}
}

func TestOGCItem(t *testing.T) {
	e := newEnv(t, Options{})
	for c, id := range map[string]string{"areas": "H1", "reports": "s07", "teams": "T1"} {
		var f struct {
			Type       string         `json:"type"`
			ID         string         `json:"id"`
			Geometry   map[string]any `json:"geometry"`
			Properties map[string]any `json:"properties"`
			Links      ogcLinks       `json:"links"`
		}
		e.getJSON("/ogc/collections/"+c+"/items/"+id+"?f=geojson", "application/geo+json", &f)
		if f.Type != "Feature" || f.ID != id || f.Geometry == nil || len(f.Properties) == 0 {
			t.Errorf("%s/%s: %+v", c, id, f)
		}
		if l := f.Links.find("self"); l == nil || l.Href != e.ts.URL+"/ogc/collections/"+c+"/items/"+id {
			t.Errorf("%s/%s: self %+v", c, id, l)
		}
		if l := f.Links.find("collection"); l == nil || l.Href != e.ts.URL+"/ogc/collections/"+c {
			t.Errorf("%s/%s: collection %+v", c, id, l)
		}
		wantProblem(t, e.get("/ogc/collections/"+c+"/items/nope"), 404, "")
	}
	holes := e.items("/ogc/collections/holes/items?limit=1")
	if len(holes.Features) == 1 {
		id := holes.Features[0].ID.(string)
		r := e.get("/ogc/collections/holes/items/" + url.PathEscape(id))
		if r.status != 200 || !bytes.Contains(r.body, []byte(`"id":`+strconv.Quote(id))) {
			t.Errorf("hole %s: %d %s", id, r.status, r.body)
		}
	}
}

// TestOGCReanalysis checks the collections follow a new analysis.
func TestOGCReanalysis(t *testing.T) {
	e := newEnv(t, Options{})
	if d := e.items("/ogc/collections/reports/items?limit=1"); d.NumberMatched != 30 {
		t.Fatalf("numberMatched %d", d.NumberMatched)
	}
	body := `{"id":"new1","lat":10.71,"lon":105.31,"observed_at":"2025-08-30T10:00:00Z","carrier":"viettel","signal_dbm":-120}`
	if r := e.do("POST", "/api/v1/reports", "application/json", []byte(body)); r.status != 201 {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	e.srv.WaitIdle()
	if d := e.items("/ogc/collections/reports/items?limit=1"); d.NumberMatched != 31 {
		t.Errorf("after a new report: numberMatched %d", d.NumberMatched)
	}
	if r := e.get("/ogc/collections/reports/items/new1"); r.status != 200 {
		t.Errorf("new report: %d %s", r.status, r.body)
	}
}

// TestOGCWithGDAL reads the service with GDAL's OAPIF driver, when
// ogrinfo is installed.
func TestOGCWithGDAL(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not on PATH (install gdal-bin)")
	}
	e := newEnv(t, Options{})
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, ogrinfo, args...)
		cmd.Env = append(cmd.Environ(), "GDAL_HTTP_TIMEOUT=30", "CPL_DEBUG=OFF",
			"GDAL_HTTP_HEADERS=Authorization: Bearer "+e.auth)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	src := "OAPIF:" + e.ts.URL + "/ogc"
	out := run("-ro", "-so", src)
	for _, c := range []string{"areas", "holes", "reports", "teams"} {
		if !regexp.MustCompile(`(?m)^\d+: ` + c + `\b`).MatchString(out) {
			t.Errorf("ogrinfo -so does not list %s:\n%s", c, out)
		}
	}
	t.Logf("ogrinfo -so:\n%s", out)
	out = run("-ro", "-al", "-q", src, "areas")
	n := len(regexp.MustCompile(`(?m)^OGRFeature\(areas\):`).FindAllString(out, -1))
	if n != len(testAreas) {
		t.Errorf("ogrinfo read %d areas, want %d:\n%s", n, len(testAreas), out)
	}
	for _, a := range testAreas {
		if !strings.Contains(out, a.Name) {
			t.Errorf("ogrinfo output lacks %q", a.Name)
		}
	}
	t.Logf("ogrinfo -al areas: %d features, %d bytes", n, len(out))
	// Reports over pages of 7, so GDAL follows the next links.
	out = run("-ro", "-al", "-q", "-oo", "PAGE_SIZE=7", src, "reports")
	if n := len(regexp.MustCompile(`(?m)^OGRFeature\(reports\):`).FindAllString(out, -1)); n != 30 {
		t.Errorf("ogrinfo read %d reports over pages, want 30", n)
	}
	if strings.Contains(out, "Tổ CNS") {
		t.Error("ogrinfo output shows a reporter")
	}
	// Every real-valued property is read as Real, never cut to Integer:
	// the medians, shares and levels above all.
	for layer, fields := range map[string][]string{
		"areas":   {"viettel_median_signal_dbm", "weak_share", "observed_share", "land_km2"},
		"holes":   {"median_signal_dbm", "area_km2", "prob_weak"},
		"reports": {"signal_dbm"},
	} {
		out := run("-ro", "-so", src, layer)
		for _, f := range fields {
			if m := regexp.MustCompile(`(?m)^` + f + `: (\w+)`).FindStringSubmatch(out); m == nil || m[1] != "Real" {
				t.Errorf("ogrinfo types %s.%s as %v, want Real:\n%s", layer, f, m, out)
			}
		}
	}
}

// TestOGCSchema: each collection links its JSON Schema and queryables;
// the schema types every property of its features (the medians as
// numbers, counts as integers, times as date-times), and the public's
// holes schema has the outline's properties only.
func TestOGCSchema(t *testing.T) {
	e := newEnv(t, Options{})
	var col struct{ Links []ogcLink }
	if err := json.Unmarshal(e.get("/ogc/collections/areas").body, &col); err != nil {
		t.Fatal(err)
	}
	if l := ogcLinks(col.Links).find("describedby"); l == nil || l.Type != "application/schema+json" || !strings.HasSuffix(l.Href, "/ogc/collections/areas/schema") {
		t.Errorf("describedby link %+v", l)
	}
	if l := ogcLinks(col.Links).find(relQueryable); l == nil || !strings.HasSuffix(l.Href, "/ogc/collections/areas/queryables") {
		t.Errorf("queryables link %+v", l)
	}
	type schema struct {
		Type       string
		Properties map[string]struct{ Type, Format string }
	}
	get := func(e *env, path string) schema {
		t.Helper()
		r := e.get(path)
		if r.status != 200 || r.header.Get("Content-Type") != "application/schema+json" {
			t.Fatalf("%s: %d %q %s", path, r.status, r.header.Get("Content-Type"), r.body)
		}
		var sc schema
		if err := json.Unmarshal(r.body, &sc); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	areas := get(e, "/ogc/collections/areas/schema")
	for f, want := range map[string]string{"code": "string", "viettel_median_signal_dbm": "number", "reports": "integer",
		"observed_share": "number", "households_estimated": "boolean"} {
		if got := areas.Properties[f].Type; got != want {
			t.Errorf("areas.%s: %q, want %q", f, got, want)
		}
	}
	if areas.Properties["geometry"].Format != "geometry-multipolygon" {
		t.Errorf("areas geometry %+v", areas.Properties["geometry"])
	}
	// Every property of a feature is in the schema.
	fc := parseFC(t, e.get("/ogc/collections/areas/items").body)
	for k := range fc.Features[0].Properties {
		if _, ok := areas.Properties[k]; !ok {
			t.Errorf("areas: property %q of a feature is not in the schema", k)
		}
	}
	rep := get(e, "/ogc/collections/reports/schema")
	if p := rep.Properties["observed_at"]; p.Type != "string" || p.Format != "date-time" {
		t.Errorf("reports.observed_at %+v", p)
	}
	full := get(e, "/ogc/collections/holes/schema")
	pub := get(e.anon(), "/ogc/collections/holes/schema")
	if _, ok := full.Properties["median_signal_dbm"]; !ok {
		t.Error("the province's holes schema lacks the evidence")
	}
	if _, ok := pub.Properties["median_signal_dbm"]; ok {
		t.Error("the public's holes schema describes the evidence it does not get")
	}
	if _, ok := pub.Properties["area_km2"]; !ok {
		t.Error("the public's holes schema lacks the size")
	}
	if q := get(e, "/ogc/collections/reports/queryables"); q.Properties["carrier"].Type != "string" {
		t.Errorf("queryables %+v", q)
	}
	wantProblem(t, e.anon().get("/ogc/collections/reports/schema"), 401, "")
	wantProblem(t, e.get("/ogc/collections/nope/schema"), 404, "")
}

// TestOGCLimitClamped: a limit above the most a page holds gives that
// many, with next links at that limit (OWSLib asks for 100,000).
func TestOGCLimitClamped(t *testing.T) {
	e := newEnv(t, Options{})
	page := e.items("/ogc/collections/reports/items?limit=100000")
	if len(page.Features) != 30 || page.NumberReturned != 30 {
		t.Errorf("limit=100000: %d features (%d returned), want all 30", len(page.Features), page.NumberReturned)
	}
	if self := ogcLinks(page.Links).find("self"); self == nil || !strings.Contains(self.Href, "limit=10000") {
		t.Errorf("self link %+v, want the clamped limit", self)
	}
}

// TestHeadLikeGet: HEAD answers wherever GET does, with GET's status and
// headers and no body, under GET's access rules.
func TestHeadLikeGet(t *testing.T) {
	e := newEnv(t, Options{})
	for _, p := range []string{"/", "/ogc", "/ogc/collections/areas/items", "/api/v1/layers/areas", "/healthz", "/api/v1/openapi.json"} {
		get, head := e.anon().get(p), e.anon().do("HEAD", p, "", nil)
		if head.status != get.status || head.header.Get("Content-Type") != get.header.Get("Content-Type") || len(head.body) != 0 {
			t.Errorf("HEAD %s: %d %q %d bytes; GET: %d %q", p, head.status, head.header.Get("Content-Type"), len(head.body), get.status, get.header.Get("Content-Type"))
		}
	}
	if r := e.anon().do("HEAD", "/api/v1/layers/reports", "", nil); r.status != 401 {
		t.Errorf("HEAD of the reports layer by the public: %d, want 401", r.status)
	}
	if r := e.anon().do("HEAD", "/metrics", "", nil); r.status != 401 {
		t.Errorf("HEAD /metrics by the public: %d, want 401", r.status)
	}
}

// TestOGCLinksIgnoreHost: OGC links are built on the configured base URL,
// else on the listener's address, else are paths; never on the Host or
// X-Forwarded-* headers a client sends.
func TestOGCLinksIgnoreHost(t *testing.T) {
	spoof := []string{"Host", "evil.example", "X-Forwarded-Host", "evil2.example", "X-Forwarded-Proto", "https",
		"Forwarded", "host=evil3.example;proto=https"}
	docs := []string{"/ogc", "/ogc/collections", "/ogc/collections/holes", "/ogc/collections/areas/items?limit=1",
		"/ogc/collections/areas/items?limit=1&offset=1", "/ogc/collections/areas/items/H1"}
	// hrefs returns every link of the documents, asked for with the
	// spoofing headers through get.
	hrefs := func(t *testing.T, get func(path string) resp) []string {
		var out []string
		for _, p := range docs {
			r := get(p)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", p, r.status, r.body)
			}
			var d struct {
				Links       ogcLinks `json:"links"`
				Collections []struct {
					Links ogcLinks `json:"links"`
				} `json:"collections"`
			}
			if err := json.Unmarshal(r.body, &d); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, c := range d.Collections {
				d.Links = append(d.Links, c.Links...)
			}
			if len(d.Links) == 0 {
				t.Fatalf("%s: no links", p)
			}
			for _, l := range d.Links {
				out = append(out, l.Href)
			}
		}
		return out
	}
	check := func(t *testing.T, links []string, root string) {
		for _, h := range links {
			rest, ok := strings.CutPrefix(h, root)
			if !ok || !strings.HasPrefix(rest, "/ogc") && rest != "/api/v1/openapi.json" || strings.Contains(h, "evil") {
				t.Errorf("link %q, want one on %q", h, root)
			}
		}
	}

	// over sends the request over e's listener, with a Host of its own.
	over := func(e *env) func(p string) resp {
		return func(p string) resp {
			req, err := http.NewRequest("GET", e.ts.URL+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(spoof); i += 2 {
				req.Header.Set(spoof[i], spoof[i+1])
			}
			req.Host = "evil.example"
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return resp{res.StatusCode, res.Header, b}
		}
	}
	t.Run("listener address", func(t *testing.T) {
		e := newEnv(t, Options{})
		check(t, hrefs(t, over(e)), e.ts.URL)
	})
	t.Run("base URL", func(t *testing.T) {
		e := newEnv(t, Options{BaseURL: "https://gapmap.example.vn/gis/"})
		check(t, hrefs(t, over(e)), "https://gapmap.example.vn/gis")
		var d struct{ Links ogcLinks }
		e.getJSON("/ogc", "application/json", &d)
		if l := d.Links.find("service-desc"); l == nil || l.Href != "https://gapmap.example.vn/gis/api/v1/openapi.json" {
			t.Errorf("service-desc %+v", l)
		}
	})
	t.Run("no connection", func(t *testing.T) {
		e := newEnv(t, Options{})
		check(t, hrefs(t, func(p string) resp {
			req := httptest.NewRequest("GET", p, nil)
			for i := 0; i+1 < len(spoof); i += 2 {
				req.Header.Set(spoof[i], spoof[i+1])
			}
			req.Host = "evil.example"
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			return resp{w.Code, w.Header(), w.Body.Bytes()}
		}), "")
	})
	for _, bad := range []string{"gapmap.example.vn", "ftp://gapmap.example.vn", "https://", "https://x.vn/?a=1", "https://u:p@x.vn", "https://x.vn/#top", "http://[::1"} {
		if _, err := New(newEnv(t, Options{}).svc, Options{BaseURL: bad}); err == nil || !strings.Contains(err.Error(), "base URL") {
			t.Errorf("BaseURL %q: err %v, want one naming the base URL", bad, err)
		}
	}
}
