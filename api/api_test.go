package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/xuri/excelize/v2"
)

// testNow is the clock of the tests.
var testNow = time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)

func square(x, y, d float64) orb.Ring {
	return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
}

// testAreas are three hamlets side by side in An Giang.
var testAreas = []geo.Area{
	{Code: "H1", Name: "Ấp Phú Hòa", ParentCode: "C1", Level: geo.LevelHamlet, Population: 1200,
		Geometry: orb.MultiPolygon{{square(105.10, 10.50, 0.02)}}},
	{Code: "H2", Name: "Ấp Bình Thạnh", ParentCode: "C1", Level: geo.LevelHamlet, Population: 900,
		Geometry: orb.MultiPolygon{{square(105.12, 10.50, 0.02)}}},
	{Code: "H3", Name: "Khóm Mỹ Lợi", ParentCode: "C2", Level: geo.LevelHamlet, Population: 1500,
		Geometry: orb.MultiPolygon{{square(105.30, 10.70, 0.02)}}},
}

type env struct {
	t     *testing.T
	path  string // the store's file
	store *gpkg.Store
	svc   *service.Service
	srv   *Server
	ts    *httptest.Server
	// auth is the API token requests carry: an admin's unless changed
	// with as or anon.
	auth string
}

// as returns e acting with API token tok ("" for the public).
func (e *env) as(tok string) *env { c := *e; c.auth = tok; return &c }

// anon returns e acting as the public.
func (e *env) anon() *env { return e.as("") }

// user adds a user (without a password) and returns an API token of
// theirs.
func (e *env) user(name string, role geo.Role, carrier geo.Carrier, scope ...string) string {
	e.t.Helper()
	ctx := context.Background()
	if err := e.store.AddUser(ctx, geo.User{Name: name, Role: role, Carrier: carrier, Scope: scope, CreatedAt: testNow}, geo.AuditEntry{}); err != nil {
		e.t.Fatal(err)
	}
	_, secret := e.token(name, "test")
	return secret
}

// accounts adds n admins named prefix-1 … prefix-n (once per env and
// prefix) and returns e acting as each: distinct reporters, as the
// evidence rules count them.
func (e *env) accounts(prefix string, n int) []*env {
	e.t.Helper()
	out := make([]*env, n)
	for i := range out {
		out[i] = e.as(e.user(fmt.Sprintf("%s-%d", prefix, i+1), geo.RoleAdmin, geo.CarrierUnknown))
	}
	return out
}

// token makes an API token of user's, from the command line, and returns
// it with its secret.
func (e *env) token(user, label string) (geo.Token, string) {
	e.t.Helper()
	t, secret, err := e.svc.CreateToken(context.Background(), service.CommandLine("test"), user, label)
	if err != nil {
		e.t.Fatal(err)
	}
	return t, secret
}

func ptr(f float64) *float64 { return &f }

// seedReports are weak reports in H1 over several days and reporters,
// and good ones in H2.
func seedReports() []geo.Report {
	var rs []geo.Report
	for i := range 30 {
		r := geo.Report{
			ID:         fmt.Sprintf("s%02d", i),
			Lat:        10.502 + float64(i%6)*0.003,
			Lon:        105.102 + float64(i/6)*0.003,
			ObservedAt: time.Date(2025, time.Month(6+i%3), 1+i%20, 8, 0, 0, 0, time.UTC),
			Carrier:    geo.Viettel,
			Tech:       geo.Tech4G,
			SignalDBm:  ptr(-125),
			Source:     geo.SourceTeam,
			Reporter:   fmt.Sprintf("Tổ CNS %d", i%4),
		}
		if i >= 20 { // in H2, good signal
			r.Lon += 0.02
			r.SignalDBm = ptr(-80)
		}
		rs = append(rs, r)
	}
	return rs
}

func newEnv(t *testing.T, opt Options) *env {
	t.Helper()
	return newEnvSvc(t, opt, service.Options{})
}

// newEnvSvc is newEnv with service options (the clock and logger are the
// test's).
func newEnvSvc(t *testing.T, opt Options, so service.Options) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gapmap.gpkg")
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, "2025", testAreas); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceTeams(ctx, []geo.Team{{ID: "T1", Name: "Tổ công nghệ số Ấp Phú Hòa", AreaCode: "H1", Members: 6,
		Lat: 10.51, Lon: 105.11, HasLocation: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReports(ctx, seedReports(), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if so.Now == nil {
		so.Now = func() time.Time { return testNow }
	}
	so.Logger = opt.Logger
	svc, err := service.New(ctx, st, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	srv, err := New(svc, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{t: t, path: path, store: st, svc: svc, srv: srv, ts: ts}
	e.auth = e.user("admin", geo.RoleAdmin, geo.CarrierUnknown)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, ctype string, body []byte, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if e.auth != "" {
		req.Header.Set("Authorization", "Bearer "+e.auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) get(path string) resp { e.t.Helper(); return e.do("GET", path, "", nil) }

// wantProblem checks r is a problem with status naming field.
func wantProblem(t *testing.T, r resp, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem does not parse: %v: %s", err, r.body)
	}
	if p.Status != status || p.Title == "" || p.Type == "" {
		t.Errorf("problem %+v", p)
	}
	if field == "" {
		return
	}
	for _, fe := range p.Errors {
		if fe.Field == field {
			return
		}
	}
	t.Errorf("problem does not name %q: %s", field, r.body)
}

func parseFC(t *testing.T, b []byte) *geojson.FeatureCollection {
	t.Helper()
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatalf("not GeoJSON: %v: %.300s", err, b)
	}
	return fc
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get("/healthz")
	want := fmt.Sprintf(`{"status":"ok","analysis":"current","reports_loaded":%d}`, e.svc.Reports())
	if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestLayers(t *testing.T) {
	e := newEnv(t, Options{})
	for _, l := range []string{"areas", "holes", "reports", "teams", "unobserved"} {
		r := e.get("/api/v1/layers/" + l)
		if r.status != 200 || r.header.Get("Content-Type") != "application/geo+json" {
			t.Fatalf("%s: %d %q %s", l, r.status, r.header.Get("Content-Type"), r.body)
		}
		fc := parseFC(t, r.body)
		// The filtered path gives the same features as the cached one.
		r2 := e.get("/api/v1/layers/" + l + "?limit=10000")
		if !bytes.Equal(r.body, r2.body) {
			t.Errorf("%s: cached and filtered bodies differ", l)
		}
		switch l {
		case "areas":
			if len(fc.Features) != 3 {
				t.Errorf("areas: %d features", len(fc.Features))
			}
			for _, name := range []string{"Ấp Phú Hòa", "Ấp Bình Thạnh", "Khóm Mỹ Lợi"} {
				if !bytes.Contains(r.body, []byte(`"`+name+`"`)) {
					t.Errorf("areas: %q not found byte for byte", name)
				}
			}
		case "reports":
			if len(fc.Features) != 30 {
				t.Errorf("reports: %d features", len(fc.Features))
			}
			if bytes.Contains(r.body, []byte("Tổ CNS")) || bytes.Contains(r.body, []byte("reporter")) {
				t.Error("reports layer exposes reporters")
			}
			p := fc.Features[0].Properties
			for _, k := range []string{"id", "observed_at", "carrier", "tech", "signal_dbm", "download_mbps", "no_service", "source", "weak"} {
				if _, ok := p[k]; !ok {
					t.Errorf("reports: no property %q", k)
				}
			}
		case "teams":
			if !bytes.Contains(r.body, []byte("Tổ công nghệ số Ấp Phú Hòa")) {
				t.Error("teams: name not found byte for byte")
			}
		case "unobserved":
			// One feature per carrier and one for all, the last no larger
			// than any carrier's.
			if len(fc.Features) != 5 || fc.Features[4].ID != "all" {
				t.Fatalf("unobserved: %d features, last %v", len(fc.Features), fc.Features[len(fc.Features)-1].ID)
			}
			all := fc.Features[4].Properties.MustFloat64("area_km2")
			for _, f := range fc.Features[:4] {
				if km := f.Properties.MustFloat64("area_km2"); km < all || f.ID != f.Properties["carrier"] {
					t.Errorf("unobserved %v: %.3f km² (all carriers: %.3f)", f.ID, km, all)
				}
			}
			if all <= 0 || len(fc.Features[4].Geometry.(orb.MultiPolygon)) == 0 {
				t.Errorf("unobserved for all carriers: %.3f km², geometry %v", all, fc.Features[4].Geometry)
			}
			one := parseFC(t, e.get("/api/v1/layers/unobserved?carrier=all&zoom=10").body)
			if len(one.Features) != 1 || one.Features[0].ID != "all" {
				t.Errorf("carrier=all: %d features", len(one.Features))
			}
			if r := e.get("/ogc/collections/unobserved/items/all"); r.status != 200 {
				t.Errorf("OGC unobserved item: %d %s", r.status, r.body)
			}
		}
	}
}

func TestLayerFilters(t *testing.T) {
	e := newEnv(t, Options{})
	count := func(path string) int {
		t.Helper()
		r := e.get(path)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return len(parseFC(t, r.body).Features)
	}
	if n := count("/api/v1/layers/areas?bbox=105.09,10.49,105.115,10.53"); n != 1 {
		t.Errorf("areas in bbox: %d, want 1", n)
	}
	if n := count("/api/v1/layers/areas?bbox=105.09,10.49,105.13,10.53"); n != 2 {
		t.Errorf("areas in wider bbox: %d, want 2", n)
	}
	if n := count("/api/v1/layers/reports?bbox=105.10,10.50,105.12,10.52"); n != 20 {
		t.Errorf("reports in H1 bbox: %d, want 20", n)
	}
	if n := count("/api/v1/layers/reports?carrier=mobifone"); n != 0 {
		t.Errorf("mobifone reports: %d", n)
	}
	if n := count("/api/v1/layers/reports?carrier=452-04&limit=5"); n != 5 {
		t.Errorf("limit 5: %d", n)
	}
	if n := count("/api/v1/layers/reports?from=2025-07-01T00:00:00Z&to=2025-07-31T23:59:59Z"); n != 10 {
		t.Errorf("July reports: %d, want 10", n)
	}
	if n := count("/api/v1/layers/holes?carrier=all"); n < 0 {
		t.Fatal()
	}
	for _, q := range []string{
		"bbox=1,2,3", "bbox=a,b,c,d", "bbox=NaN,0,1,1", "bbox=0,0,Inf,1", "bbox=-181,0,0,1",
		"bbox=0,-91,1,1", "bbox=2,0,1,1", "bbox=0,2,1,1", "bbox=",
	} {
		wantProblem(t, e.get("/api/v1/layers/areas?"+q), 400, "bbox")
	}
	wantProblem(t, e.get("/api/v1/layers/reports?carrier=sfone"), 400, "carrier")
	wantProblem(t, e.get("/api/v1/layers/reports?carrier=all"), 400, "carrier")
	wantProblem(t, e.get("/api/v1/layers/reports?limit=0"), 400, "limit")
	wantProblem(t, e.get("/api/v1/layers/reports?limit=10001"), 400, "limit")
	wantProblem(t, e.get("/api/v1/layers/reports?from=yesterday"), 400, "from")
	wantProblem(t, e.get("/api/v1/layers/areas?level=galaxy"), 400, "level")
	wantProblem(t, e.get("/api/v1/layers/reports?tech=6G"), 400, "tech")
	wantProblem(t, e.get("/api/v1/layers/nope"), 404, "")
}

func TestArea(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get("/api/v1/areas/H1")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var a struct {
		Code    string `json:"code"`
		Name    string `json:"name"`
		Reports int    `json:"reports"`
		Monthly []month
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Name != "Ấp Phú Hòa" || a.Reports != 20 || len(a.Monthly) != 3 {
		t.Errorf("%+v", a)
	}
	sum := 0
	for _, m := range a.Monthly {
		sum += m.Reports
		if m.Weak != m.Reports {
			t.Errorf("month %+v: all H1 reports are weak", m)
		}
	}
	if sum != 20 {
		t.Errorf("monthly sum %d, want 20", sum)
	}
	// A roll-up covers its children.
	r = e.get("/api/v1/areas/C1")
	if r.status != 200 {
		t.Fatalf("roll-up: %d %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	sum = 0
	for _, m := range a.Monthly {
		sum += m.Reports
	}
	if sum != 30 {
		t.Errorf("roll-up monthly sum %d, want 30", sum)
	}
	wantProblem(t, e.get("/api/v1/areas/NOPE"), 404, "")
}

const validReport = `{"lat":10.505,"lon":105.105,"observed_at":"2025-08-30T08:00:00+07:00","carrier":"Viettel","tech":"4G","signal_dbm":-121,"reporter":"Tổ CNS 9","note":"Mất sóng cuối ấp"}`

func TestPostAndGetReport(t *testing.T) {
	e := newEnv(t, Options{})
	// Staff of commune C1 submit; they do not see reporters (admins and
	// reviewers do).
	admin := e.auth
	e = e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	r := e.do("POST", "/api/v1/reports", "application/json", []byte(validReport))
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	id, _ := got["id"].(string)
	if id == "" || loc != "/api/v1/reports/"+id {
		t.Fatalf("id %q, Location %q", id, loc)
	}
	if _, ok := got["reporter"]; ok {
		t.Error("reply shows the reporter")
	}
	// GET adds the hole the report is in, once analysed.
	r2 := e.get(loc)
	var got2 map[string]any
	json.Unmarshal(r2.body, &got2)
	delete(got2, "hole_id")
	delete(got2, "hole_state")
	if b, _ := json.Marshal(got2); r2.status != 200 || !bytes.Equal(b, mustRemarshal(t, r.body)) {
		t.Errorf("GET %s: %d %s, want %s", loc, r2.status, r2.body, r.body)
	}
	wantProblem(t, e.get("/api/v1/reports/nope"), 404, "")
	r3 := e.as(admin).get(loc)
	if err := json.Unmarshal(r3.body, &got); err != nil || got["reporter"] != "Tổ CNS 9" {
		t.Errorf("an admin does not see the reporter: %s", r3.body)
	}

	// GeoJSON Feature, MCC-MNC carrier as a number.
	feat := `{"type":"Feature","geometry":{"type":"Point","coordinates":[105.106,10.506]},"properties":{"id":"g1","observed_at":"2025-08-30T09:00:00Z","carrier":45204,"no_service":true}}`
	// A staff member's id is theirs: kept as client_id, with the report
	// stored under an id made from it.
	r = e.do("POST", "/api/v1/reports", "application/geo+json", []byte(feat))
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 201 || got["client_id"] != "g1" ||
		r.header.Get("Location") != "/api/v1/reports/"+got["id"].(string) {
		t.Fatalf("feature: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	// The same id again is a conflict.
	wantProblem(t, e.do("POST", "/api/v1/reports", "application/geo+json", []byte(feat)), 409, "id")
	// An admin's id is kept as given.
	r = e.as(admin).do("POST", "/api/v1/reports", "application/geo+json", []byte(feat))
	if r.status != 201 || r.header.Get("Location") != "/api/v1/reports/g1" {
		t.Fatalf("admin's feature: %d %s", r.status, r.body)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, Options{})
	_, before, _, _, _ := e.store.Counts(context.Background())
	r1 := e.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "k1")
	r2 := e.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "k1")
	if r1.status != 201 || r2.status != 200 || !bytes.Equal(r1.body, r2.body) {
		t.Fatalf("%d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if r1.header.Get("Location") != r2.header.Get("Location") {
		t.Error("Locations differ")
	}
	var wg sync.WaitGroup
	res := make([]resp, 10)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = e.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "k2")
		}()
	}
	wg.Wait()
	created := 0
	for _, r := range res {
		switch r.status {
		case 201:
			created++
		case 200:
		default:
			t.Fatalf("%d %s", r.status, r.body)
		}
		if !bytes.Equal(r.body, res[0].body) {
			t.Errorf("bodies differ: %s vs %s", r.body, res[0].body)
		}
	}
	if created != 1 {
		t.Errorf("%d created, want 1", created)
	}
	_, after, _, _, _ := e.store.Counts(context.Background())
	if after != before+2 {
		t.Errorf("stored %d reports, want %d", after, before+2)
	}
	e.srv.WaitIdle()
	if n := len(e.srv.cur.load().obs); n != after {
		t.Errorf("state holds %d reports, store %d", n, after)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 4096})
	with := func(k, v string) string {
		var m map[string]json.RawMessage
		json.Unmarshal([]byte(validReport), &m)
		m[k] = json.RawMessage(v)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"malformed JSON", "application/json", `{"lat":`, 400, "body"},
		{"not an object", "application/json", `[1,2]`, 400, "body"},
		{"trailing data", "application/json", validReport + `{}`, 400, "body"},
		{"lat 95", "application/json", with("lat", "95"), 400, "lat"},
		{"lon NaN as string", "application/json", with("lon", `"NaN"`), 400, "lon"},
		{"lon missing", "application/json", strings.Replace(validReport, `"lon":105.105,`, "", 1), 400, "lon"},
		{"unknown carrier", "application/json", with("carrier", `"S-Fone"`), 400, "carrier"},
		{"future observed_at", "application/json", with("observed_at", `"2026-01-01T00:00:00Z"`), 400, "observed_at"},
		{"bad observed_at", "application/json", with("observed_at", `"hôm qua"`), 400, "observed_at"},
		{"unknown field", "application/json", with("signal_strength", `-100`), 400, "signal_strength"},
		{"wrong type signal_dbm", "application/json", with("signal_dbm", `true`), 400, "signal_dbm"},
		{"object signal_dbm", "application/json", with("signal_dbm", `{}`), 400, "signal_dbm"},
		{"wrong type note", "application/json", with("note", `5`), 400, "note"},
		{"wrong type no_service", "application/json", with("no_service", `"maybe"`), 400, "no_service"},
		{"huge number", "application/json", with("signal_dbm", `1e999`), 400, "signal_dbm"},
		{"too large", "application/json", `{"note":"` + strings.Repeat("x", 5000) + `"}`, 413, "body"},
		{"text/plain", "text/plain", validReport, 415, "Content-Type"},
		{"no content type", "", validReport, 415, "Content-Type"},
		{"feature without geometry", "application/geo+json", `{"type":"Feature","properties":{}}`, 400, "geometry"},
		{"feature line", "application/geo+json", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{}}`, 400, "geometry"},
		{"feature string coords", "application/geo+json", `{"type":"Feature","geometry":{"type":"Point","coordinates":["a",2]},"properties":{}}`, 400, "geometry.coordinates"},
		{"feature unknown property", "application/geo+json", `{"type":"Feature","geometry":{"type":"Point","coordinates":[105,10]},"properties":{"colour":"red"}}`, 400, "colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, e.do("POST", "/api/v1/reports", tc.ctype, []byte(tc.body)), tc.status, tc.field)
		})
	}
	_, n, _, _, _ := e.store.Counts(context.Background())
	if n != 30 {
		t.Errorf("%d reports stored, want 30", n)
	}
	wantProblem(t, e.do("PUT", "/api/v1/reports", "application/json", nil), 405, "")
}

func TestImport(t *testing.T) {
	e := newEnv(t, Options{})
	csv := "\ufeffid,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n" +
		"i1,10.503,105.103,2025-08-01T08:00:00+07:00,Viettel,4G,-122,Tổ CNS 5\n" +
		"i2,95,105.104,2025-08-01T08:00:00+07:00,Viettel,4G,-122,\n" +
		",10.504,105.104,2025-08-02 08:00:00,452-04,4G,-123,\n" +
		"s01,10.505,105.105,2025-08-02 08:00:00,452-04,4G,-123,\n"
	r := e.do("POST", "/api/v1/reports/import", "text/csv; charset=utf-8", []byte(csv))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var res struct {
		Accepted, Rejected int
		Errors             []fieldError
	}
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Rejected != 2 || len(res.Errors) != 2 {
		t.Fatalf("%s", r.body)
	}
	if e0 := res.Errors[0]; e0.Row != 2 || e0.Field != "lat" {
		t.Errorf("first error %+v, want row 2 lat", e0)
	}
	if e1 := res.Errors[1]; e1.Row != 4 || e1.Field != "id" {
		t.Errorf("second error %+v, want row 4 id", e1)
	}
	_, n, _, _, _ := e.store.Counts(context.Background())
	if n != 32 {
		t.Errorf("%d stored, want 32", n)
	}
	wantProblem(t, e.do("POST", "/api/v1/reports/import", "text/csv", []byte("a,b\n1,2\n")), 400, "")
	wantProblem(t, e.do("POST", "/api/v1/reports/import", "application/pdf", []byte("%PDF")), 415, "Content-Type")
	gj := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[105.103,10.503]},"properties":{"observed_at":"2025-08-03T08:00:00Z","carrier":"mobifone"}}]}`
	r = e.do("POST", "/api/v1/reports/import", "application/geo+json", []byte(gj))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"accepted":1`)) {
		t.Errorf("geojson import: %d %s", r.status, r.body)
	}
}

func areaReports(t *testing.T, e *env, code string) int {
	t.Helper()
	fc := parseFC(t, e.get("/api/v1/layers/areas").body)
	for _, f := range fc.Features {
		if f.Properties["code"] == code {
			return int(f.Properties["reports"].(float64))
		}
	}
	t.Fatalf("no area %s", code)
	return 0
}

func TestReanalysis(t *testing.T) {
	e := newEnv(t, Options{})
	before := areaReports(t, e, "H3")
	holesBefore := e.get("/api/v1/layers/holes").body
	accounts := e.accounts("p", 3)
	for i := range 12 {
		body := fmt.Sprintf(`{"lat":%g,"lon":%g,"observed_at":"2025-08-%02dT08:00:00Z","carrier":"mobifone","no_service":true,"reporter":"p%d"}`,
			10.702+float64(i%4)*0.003, 105.302+float64(i/4)*0.003, 1+i, i%3)
		if r := accounts[i%3].do("POST", "/api/v1/reports", "application/json", []byte(body)); r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	e.srv.WaitIdle()
	if after := areaReports(t, e, "H3"); after != before+12 {
		t.Errorf("H3 reports %d, want %d", after, before+12)
	}
	holes := parseFC(t, e.get("/api/v1/layers/holes?carrier=mobifone").body)
	if len(holes.Features) == 0 {
		t.Errorf("no mobifone hole after 12 no-service reports; before: %.200s", holesBefore)
	}
}

func TestGaps(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get("/api/v1/gaps?carrier=viettel&format=csv")
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(r.body, []byte("\ufeff")) {
		t.Error("no BOM")
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="gaps-viettel.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	r = e.get("/api/v1/gaps?carrier=viettel")
	parseFC(t, r.body)
	r = e.get("/api/v1/gaps?carrier=viettel&format=kml")
	if r.status != 200 || !bytes.Contains(r.body, []byte("<kml")) {
		t.Errorf("kml: %d %.200s", r.status, r.body)
	}
	wantProblem(t, e.get("/api/v1/gaps"), 400, "carrier")
	wantProblem(t, e.get("/api/v1/gaps?carrier=sfone"), 400, "carrier")
	wantProblem(t, e.get("/api/v1/gaps?carrier=viettel&format=ods"), 400, "format")
}

// TestGapsXLSX: the gap list as a workbook has the CSV's holes, in its
// order, with typed cells.
func TestGapsXLSX(t *testing.T) {
	e := newEnv(t, Options{})
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(e.get("/api/v1/gaps?carrier=viettel&format=csv").body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("the fixture has no Viettel hole to list: %q", rows)
	}
	r := e.get("/api/v1/gaps?carrier=viettel&format=xlsx")
	if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("%d %q %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="gaps-viettel.xlsx"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetList()[0]
	got, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows in the workbook, %d in the CSV", len(got), len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if got[i][0] != rows[i][0] || got[i][1] != rows[i][1] {
			t.Errorf("row %d: rank %s id %s, the CSV's rank %s id %s", i, got[i][0], got[i][1], rows[i][0], rows[i][1])
		}
		if typ, _ := f.GetCellType(sh, fmt.Sprintf("A%d", i+1)); typ != excelize.CellTypeUnset {
			t.Errorf("row %d: rank is a cell of type %v, want a number", i, typ)
		}
	}
}

// TestGapsGPKG: with a GeoPackage writer (cmd hands it data/gpkg's), the
// gap list is a GeoPackage with one feature table holding the CSV's
// holes, its median typed REAL; without one the format is refused.
func TestGapsGPKG(t *testing.T) {
	wantProblem(t, newEnv(t, Options{}).get("/api/v1/gaps?carrier=viettel&format=gpkg"), 400, "format")

	e := newEnv(t, Options{GapListGPKG: gpkg.WriteGapList})
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(e.get("/api/v1/gaps?carrier=viettel&format=csv").body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("the fixture has no Viettel hole to list: %q", rows)
	}
	r := e.get("/api/v1/gaps?carrier=viettel&format=gpkg")
	if r.status != 200 || r.header.Get("Content-Type") != "application/geopackage+sqlite3" {
		t.Fatalf("%d %q %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="gaps-viettel.gpkg"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	path := filepath.Join(t.TempDir(), "gaps-viettel.gpkg")
	if err := os.WriteFile(path, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, reals int
	var typ string
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE typeof(median_signal_dbm) = 'real'),
  (SELECT type FROM pragma_table_info('gaps_viettel') WHERE name = 'median_signal_dbm') FROM gaps_viettel`).Scan(&n, &reals, &typ); err != nil {
		t.Fatal(err)
	}
	if n != len(rows)-1 || typ != "REAL" || reals == 0 {
		t.Errorf("%d features (the CSV has %d), median column %s with %d real values", n, len(rows)-1, typ, reals)
	}
	q, err := db.Query(`SELECT rank, id FROM gaps_viettel ORDER BY fid`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := 1; q.Next(); i++ {
		var rank, id string
		if err := q.Scan(&rank, &id); err != nil {
			t.Fatal(err)
		}
		if rank != rows[i][0] || id != rows[i][1] {
			t.Errorf("feature %d: rank %s id %s, the CSV's rank %s id %s", i, rank, id, rows[i][0], rows[i][1])
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, Options{})
	e.get("/healthz")
	e.get("/nope")
	r := e.get("/metrics")
	for _, want := range []string{
		`gapmap_http_requests_total{route="/healthz",code="200"} 1`,
		`gapmap_http_requests_total{route="unmatched",code="404"} 1`,
		`gapmap_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1`,
		"gapmap_reports_accepted_total 0", "gapmap_store_reports 30", "gapmap_analysis_seconds ",
		"gapmap_reports_rejected_total 0",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q:\n%s", want, r.body)
		}
	}
}

func TestOpenAPI(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get("/api/v1/openapi.json")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	n := 0
	err := e.srv.router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := rt.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := rt.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			if m == "HEAD" {
				continue // answered as GET is, without the body
			}
			n++
			if _, ok := doc.Paths[path][strings.ToLower(m)]; !ok {
				t.Errorf("openapi.json lacks %s %s", m, path)
			}
		}
		return nil
	})
	if err != nil || n < 12 {
		t.Errorf("walked %d routes: %v", n, err)
	}
}

// mustRemarshal is the JSON b decoded and encoded again, so two bodies
// compare whatever the order of their members.
func mustRemarshal(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

func TestPanicRecovered(t *testing.T) {
	e := newEnv(t, Options{})
	h := e.srv.logRequests(e.srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") })))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	wantProblem(t, resp{w.Code, w.Header(), w.Body.Bytes()}, 500, "")
}
