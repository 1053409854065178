package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

// The principals of the authorization matrix.
const (
	anonP     = "anonymous"
	adminP    = "admin"
	reviewerP = "reviewer"
	staffP    = "staff"   // of commune C1 (hamlets H1, H2)
	carrierP  = "carrier" // Viettel
)

var matrixPrincipals = []string{anonP, adminP, reviewerP, staffP, carrierP}

// authzRow is one route of the matrix: a request and the status each
// principal gets. want lists statuses in matrixPrincipals order.
type authzRow struct {
	method, template string
	path             string // concrete; template when empty
	ctype, body      string
	want             [5]int
}

// authzRows is the authorization matrix: every route × every principal.
// TestAuthorizationMatrix fails when a route has no row.
func authzRows(spareToken, hole string, hooks [2]string) []authzRow {
	const csv = "lat,lon,observed_at,carrier,signal_dbm\n10.505,105.105,2025-08-30T08:00:00Z,viettel,-120\n"
	//                 anon adm rev staff carrier
	pub := [5]int{200, 200, 200, 200, 200}
	raw := [5]int{401, 200, 200, 200, 403}
	return []authzRow{
		{method: "GET", template: "/healthz", want: pub},
		{method: "GET", template: "/metrics", want: [5]int{401, 200, 403, 403, 403}},
		{method: "GET", template: "/api/v1/openapi.json", want: pub},
		{method: "GET", template: "/api/v1/layers/areas", want: pub},
		{method: "GET", template: "/api/v1/layers/holes", want: pub},
		{method: "GET", template: "/api/v1/layers/teams", want: pub},
		{method: "GET", template: "/api/v1/layers/unobserved", want: pub},
		{method: "GET", template: "/api/v1/layers/reports", want: raw},
		{method: "GET", template: "/api/v1/areas/{code}", path: "/api/v1/areas/H1", want: pub},
		{method: "GET", template: "/api/v1/gaps", path: "/api/v1/gaps?carrier=viettel&format=csv", want: [5]int{401, 200, 200, 403, 200}},
		// hole is Viettel's, in H1: staff of C1 read it. The answers run in
		// order: the admin plans it, the reviewer cannot plan it again (a
		// reviewer's state must change it), Viettel may plan it anew.
		{method: "GET", template: "/api/v1/holes/{id}", path: "/api/v1/holes/" + hole, want: [5]int{401, 200, 200, 200, 200}},
		{method: "POST", template: "/api/v1/holes/{id}/answers", path: "/api/v1/holes/" + hole + "/answers", ctype: "application/json",
			body: `{"state":"planned","planned_date":"2026-01-15","note":"matrix"}`, want: [5]int{401, 201, 409, 403, 201}},
		{method: "POST", template: "/api/v1/holes/{id}/rulings", path: "/api/v1/holes/" + hole + "/rulings", ctype: "application/json",
			body: `{"decision":"upheld"}`, want: [5]int{401, 409, 409, 403, 403}},
		{method: "GET", template: "/api/v1/scorecard", path: "/api/v1/scorecard?period=2025-09", want: [5]int{401, 200, 200, 403, 200}},
		// hooks are two webhooks of every carrier's, made by an admin.
		{method: "GET", template: "/api/v1/webhooks", want: [5]int{401, 200, 403, 403, 200}},
		{method: "POST", template: "/api/v1/webhooks", ctype: "application/json", body: `{"url":"https://example.invalid/hook","events":["hole.verified"]}`,
			want: [5]int{401, 201, 403, 403, 201}},
		{method: "DELETE", template: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + hooks[0], want: [5]int{401, 204, 403, 403, 404}},
		{method: "GET", template: "/api/v1/webhooks/{id}/deliveries", path: "/api/v1/webhooks/" + hooks[1] + "/deliveries", want: [5]int{401, 200, 403, 403, 404}},
		{method: "POST", template: "/api/v1/reports", ctype: "application/json", body: validReport, want: [5]int{401, 201, 403, 201, 403}},
		{method: "POST", template: "/api/v1/reports/import", ctype: "text/csv", body: csv, want: [5]int{401, 200, 403, 200, 403}},
		{method: "GET", template: "/api/v1/reports/{id}", path: "/api/v1/reports/s00", want: raw},
		{method: "PUT", template: "/api/v1/reports/{id}/review", path: "/api/v1/reports/s01/review", ctype: "application/json",
			body: `{"status":"confirmed"}`, want: [5]int{401, 200, 200, 403, 403}},
		{method: "GET", template: "/api/v1/session", want: pub},
		{method: "POST", template: "/api/v1/session", ctype: "application/json", body: `{"name":"nobody","password":"wrong password"}`,
			want: [5]int{401, 401, 401, 401, 401}},
		{method: "DELETE", template: "/api/v1/session", want: [5]int{204, 204, 204, 204, 204}},
		{method: "GET", template: "/api/v1/users", want: [5]int{401, 200, 403, 403, 403}},
		{method: "POST", template: "/api/v1/users", ctype: "application/json", body: `{"name":"new-reviewer","role":"reviewer"}`,
			want: [5]int{401, 201, 403, 403, 403}},
		{method: "GET", template: "/api/v1/tokens", want: [5]int{401, 200, 200, 200, 200}},
		{method: "POST", template: "/api/v1/tokens", ctype: "application/json", body: `{"label":"matrix"}`, want: [5]int{401, 201, 201, 201, 201}},
		{method: "DELETE", template: "/api/v1/tokens/{id}", path: "/api/v1/tokens/" + spareToken, want: [5]int{401, 204, 404, 404, 404}},
		{method: "GET", template: "/api/v1/audit", want: [5]int{401, 200, 403, 403, 403}},
		{method: "GET", template: "/api/v1/tasks", path: "/api/v1/tasks?area=H1", want: [5]int{401, 200, 403, 200, 403}},
		{method: "GET", template: "/api/v1/speedtest/download", path: "/api/v1/speedtest/download?bytes=1000", want: pub},
		{method: "POST", template: "/api/v1/speedtest/upload", ctype: "application/octet-stream", body: "xxxx", want: pub},
		{method: "GET", template: "/tiles/areas/{z}/{x}/{y}.mvt", path: "/tiles/areas/12/3243/1905.mvt", want: pub},
		{method: "GET", template: "/tiles/holes/{z}/{x}/{y}.mvt", path: "/tiles/holes/12/3243/1905.mvt", want: pub},
		{method: "GET", template: "/tiles/reports/{z}/{x}/{y}.mvt", path: "/tiles/reports/12/3243/1905.mvt", want: raw},
		{method: "GET", template: "/ogc", want: pub},
		{method: "GET", template: "/ogc/conformance", want: pub},
		{method: "GET", template: "/ogc/collections", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}", path: "/ogc/collections/areas", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}", path: "/ogc/collections/reports", want: raw},
		{method: "GET", template: "/ogc/collections/{collectionId}/items", path: "/ogc/collections/holes/items", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}/items", path: "/ogc/collections/reports/items", want: raw},
		{method: "GET", template: "/ogc/collections/{collectionId}/schema", path: "/ogc/collections/areas/schema", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}/schema", path: "/ogc/collections/reports/schema", want: raw},
		{method: "GET", template: "/ogc/collections/{collectionId}/queryables", path: "/ogc/collections/holes/queryables", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}/items/{featureId}", path: "/ogc/collections/areas/items/H1", want: pub},
		{method: "GET", template: "/ogc/collections/{collectionId}/items/{featureId}", path: "/ogc/collections/reports/items/s00", want: raw},
	}
}

// principals adds the matrix's users and returns each one's API token
// ("" for the public).
func (e *env) principals() map[string]string {
	return map[string]string{
		anonP:     "",
		adminP:    e.auth,
		reviewerP: e.user("reviewer", geo.RoleReviewer, geo.CarrierUnknown),
		staffP:    e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"),
		carrierP:  e.user("viettel-planning", geo.RoleCarrier, geo.Viettel),
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, Options{})
	toks := e.principals()
	spare, _ := e.token("admin", "spare")
	var hooks [2]string
	for i := range hooks {
		w, _, err := e.svc.CreateWebhook(context.Background(), service.CommandLine("test"),
			service.WebhookSpec{URL: "https://example.invalid/spare", Events: []string{geo.EventHoleVerified}})
		if err != nil {
			t.Fatal(err)
		}
		hooks[i] = w.ID
	}
	rows := authzRows(spare.ID, e.holeOf(geo.Viettel), hooks)

	// Every route of the router has a row.
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method+" "+r.template] = true
	}
	err := e.srv.router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, _ := rt.GetMethods()
		for _, m := range ms {
			if m == "HEAD" {
				continue // GET's guard and handler (see TestHeadLikeGet)
			}
			if !covered[m+" "+tpl] {
				t.Errorf("route %s %s has no row in the authorization matrix", m, tpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, row := range rows {
		path := row.path
		if path == "" {
			path = row.template
		}
		for i, who := range matrixPrincipals {
			r := e.as(toks[who]).do(row.method, path, row.ctype, []byte(row.body))
			if r.status != row.want[i] {
				t.Errorf("%s %s as %s: status %d, want %d: %.200s", row.method, path, who, r.status, row.want[i], r.body)
			}
		}
	}
}

func TestPublicSeesAggregatesOnly(t *testing.T) {
	e := newEnv(t, Options{})
	pub := e.anon()
	var cols struct{ Collections []struct{ ID string } }
	r := pub.get("/ogc/collections")
	if err := json.Unmarshal(r.body, &cols); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cols.Collections {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "areas,holes,teams,unobserved" {
		t.Errorf("the public lists collections %v, want areas, holes, teams, unobserved", ids)
	}
	for _, p := range []string{"/api/v1/layers/areas", "/api/v1/layers/holes", "/api/v1/layers/teams", "/api/v1/areas/C1", "/ogc/collections/holes/items"} {
		r := pub.get(p)
		for _, secret := range []string{"Tổ CNS", "Mất sóng", `"reporter"`} {
			if bytes.Contains(r.body, []byte(secret)) {
				t.Errorf("%s shows %q to the public", p, secret)
			}
		}
	}
	r = pub.get("/api/v1/layers/reports")
	wantProblem(t, r, 401, "")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, Options{})
	for _, p := range []string{"/api/v1/layers/areas", "/nope", "/api/v1/session"} {
		h := e.anon().get(p).header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}

// TestStaffScope: staff of commune C1 neither read nor write the raw
// reports of commune C2 (hamlet H3), by any route.
func TestStaffScope(t *testing.T) {
	e := newEnv(t, Options{})
	c1 := e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	h3 := strings.NewReplacer("10.505", "10.705", "105.105", "105.305").Replace(validReport)
	// An admin puts a report in H3; staff of C1 cannot see it.
	r := e.do("POST", "/api/v1/reports", "application/json", []byte(strings.Replace(h3, "{", `{"id":"in-h3",`, 1)))
	if r.status != 201 {
		t.Fatalf("admin post in H3: %d %s", r.status, r.body)
	}
	e.srv.WaitIdle()
	wantProblem(t, c1.get("/api/v1/reports/in-h3"), 404, "")
	wantProblem(t, c1.get("/ogc/collections/reports/items/in-h3"), 404, "")
	if r := e.get("/ogc/collections/reports/items/in-h3"); r.status != 200 {
		t.Errorf("admin reads in-h3: %d", r.status)
	}
	for _, p := range []string{"/api/v1/layers/reports", "/api/v1/layers/reports?limit=10000", "/ogc/collections/reports/items?limit=1000"} {
		r := c1.get(p)
		fc := parseFC(t, r.body)
		if len(fc.Features) == 0 {
			t.Errorf("%s: staff of C1 see no reports at all", p)
		}
		for _, f := range fc.Features {
			pt := f.Geometry.Bound().Min
			if f.ID == "in-h3" || pt[0] > 105.2 {
				t.Errorf("%s: staff of C1 see report %v at %v", p, f.ID, pt)
			}
		}
	}
	// Writing outside the scope is refused, naming the place.
	wantProblem(t, c1.do("POST", "/api/v1/reports", "application/json", []byte(h3)), 403, "lat")
	csv := "id,lat,lon,observed_at,carrier,signal_dbm\n" +
		"ok1,10.505,105.105,2025-08-30T08:00:00Z,viettel,-120\n" +
		"bad1,10.705,105.305,2025-08-30T08:00:00Z,viettel,-120\n"
	r = c1.do("POST", "/api/v1/reports/import", "text/csv", []byte(csv))
	var res importResult
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if res.Accepted != 1 || res.Rejected != 1 || len(res.Errors) == 0 || res.Errors[0].Row != 2 || !strings.Contains(res.Errors[0].Reason, "scope") {
		t.Errorf("import across the scope: %+v", res)
	}
	if _, err := e.store.Report(context.Background(), "bad1"); err == nil {
		t.Error("a row outside the scope was stored")
	}
	// An Idempotency-Key of a report in H3 does not reveal it to staff of C1.
	r = e.do("POST", "/api/v1/reports", "application/json", []byte(h3), "Idempotency-Key", "key-h3")
	if r.status != 201 {
		t.Fatalf("admin post with a key: %d %s", r.status, r.body)
	}
	// Keys are each submitter's own: staff of C1 sending it store their
	// own report.
	r = c1.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "key-h3")
	if r.status != 201 || bytes.Contains(r.body, []byte("10.705")) {
		t.Errorf("staff with the admin's key: %d %s, want a report of their own", r.status, r.body)
	}
	// Staff of C2 see H3's report.
	c2 := e.as(e.user("staff-c2", geo.RoleStaff, geo.CarrierUnknown, "C2"))
	if r := c2.get("/api/v1/reports/in-h3"); r.status != 200 {
		t.Errorf("staff of C2 read in-h3: %d", r.status)
	}
}

// importVinaPhone imports the seed's weak Viettel reports again as
// VinaPhone ones, so that both carriers have holes (in hamlet H1), and
// returns the IDs of the holes of each.
func (e *env) importVinaPhone() (viettel, vina []string) {
	e.t.Helper()
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n")
	for _, r := range seedReports() {
		fmt.Fprintf(&b, "v%s,%g,%g,%s,vinaphone,4G,%g,%s\n", r.ID, r.Lat, r.Lon, r.ObservedAt.Format("2006-01-02T15:04:05Z"), *r.SignalDBm, r.Reporter)
	}
	// From the command line, whose typed reporters count as reporters.
	if _, err := e.svc.ImportReports(context.Background(), service.CommandLine("test"), strings.NewReader(b.String()),
		service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
		e.t.Fatalf("import: %v", err)
	}
	e.srv.WaitIdle()
	for _, h := range e.srv.cur.load().result.Holes {
		switch h.Carrier {
		case geo.Viettel:
			viettel = append(viettel, h.ID)
		case geo.VinaPhone:
			vina = append(vina, h.ID)
		}
	}
	if len(viettel) == 0 || len(vina) == 0 {
		e.t.Fatalf("holes of Viettel %v, of VinaPhone %v: want some of each", viettel, vina)
	}
	return viettel, vina
}

// TestCarrierSeesOwnOnly: when the public sees no holes, a carrier reads
// its own holes and gap list and cannot reach another carrier's by
// asking or by guessing IDs.
func TestCarrierSeesOwnOnly(t *testing.T) {
	e := newEnv(t, Options{PublicHoles: geo.HoleHidden})
	_, vina := e.importVinaPhone()
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	wantProblem(t, vt.get("/api/v1/gaps?carrier=vinaphone"), 403, "carrier")
	wantProblem(t, vt.get("/api/v1/gaps?carrier=all"), 403, "carrier")
	wantProblem(t, vt.get("/api/v1/layers/holes?carrier=vinaphone"), 403, "carrier")
	for _, id := range vina {
		wantProblem(t, vt.get("/ogc/collections/holes/items/"+url.PathEscape(id)), 404, "")
	}
	r := vt.get("/api/v1/gaps")
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), "viettel") {
		t.Errorf("own gap list: %d %q", r.status, r.header.Get("Content-Disposition"))
	}
	for _, p := range []string{"/api/v1/layers/holes", "/api/v1/layers/holes?limit=100", "/ogc/collections/holes/items", "/api/v1/gaps?format=geojson"} {
		fc := parseFC(t, vt.get(p).body)
		if len(fc.Features) == 0 {
			t.Errorf("%s: Viettel sees no holes", p)
		}
		for _, f := range fc.Features {
			if c := f.Properties["carrier"]; c != "viettel" {
				t.Errorf("%s: Viettel sees a hole of %v", p, c)
			}
		}
	}
	// Reviewers see both; the public none.
	rv := e.as(e.user("reviewer", geo.RoleReviewer, geo.CarrierUnknown))
	if fc := parseFC(t, rv.get("/api/v1/layers/holes?carrier=vinaphone").body); len(fc.Features) != len(vina) {
		t.Errorf("a reviewer sees %d VinaPhone holes, want %d", len(fc.Features), len(vina))
	}
	wantProblem(t, e.anon().get("/api/v1/layers/holes"), 401, "")
}

// The properties of a hole feature: those of its outline, and those only
// its carrier and the province see.
var (
	outlineProps  = []string{"area_codes", "area_km2", "area_names", "carrier", "id", "state"}
	evidenceProps = []string{"rank", "priority", "severity", "confidence", "prob_weak", "weak_share_p05",
		"weak_share_p95", "cells", "population_affected", "households_affected", "reports", "weak_reports",
		"reporters", "weak_share", "weak_low", "median_signal_dbm", "first_observed", "last_observed"}
)

// holeSeen says how a hole feature shows: "full" (every property),
// "outline" (exactly the outline's), or what is wrong with it.
func holeSeen(props map[string]any) string {
	has := func(k string) bool { _, ok := props[k]; return ok }
	for _, k := range outlineProps {
		if !has(k) {
			return "lacks " + k
		}
	}
	n := 0
	for _, k := range evidenceProps {
		if has(k) {
			n++
		}
	}
	switch {
	case n == len(evidenceProps) && len(props) >= len(outlineProps)+n:
		return "full"
	case n == 0 && len(props) == len(outlineProps):
		return "outline"
	}
	return fmt.Sprintf("%d of %d evidence properties, %d properties", n, len(evidenceProps), len(props))
}

// TestHolesVisibilityMatrix: for each public setting and each kind of
// viewer, how a Viettel hole shows by every path that serves holes — in
// full (its carrier and the province), as its outline (everyone else,
// by default), or not at all — while the gap list stays with the carrier
// and the province whatever the setting.
func TestHolesVisibilityMatrix(t *testing.T) {
	const (
		F = "full"
		O = "outline"
		H = "hidden" // not in collections; 404 for the item
		U = "401"    // the public is asked to sign in
	)
	viewers := []string{"anonymous", "another carrier", "own carrier", "staff of the hole's commune", "staff elsewhere", "admin"}
	tests := []struct {
		public geo.HoleView
		want   [6]string // in viewers' order
	}{
		{geo.HoleOutline, [6]string{O, O, F, F, O, F}},
		{geo.HoleFull, [6]string{F, F, F, F, F, F}},
		{geo.HoleHidden, [6]string{U, H, F, F, H, F}},
	}
	gaps := [6]int{401, 403, 200, 403, 403, 200} // GET /api/v1/gaps?carrier=viettel, whatever the setting
	for _, tc := range tests {
		t.Run("public "+tc.public.String(), func(t *testing.T) {
			e := newEnv(t, Options{PublicHoles: tc.public})
			vtHoles, _ := e.importVinaPhone()
			hole := vtHoles[0]
			toks := []string{"",
				e.user("vina-planning", geo.RoleCarrier, geo.VinaPhone),
				e.user("viettel-planning", geo.RoleCarrier, geo.Viettel),
				e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"),
				e.user("staff-c2", geo.RoleStaff, geo.CarrierUnknown, "C2"),
				e.auth}
			paths := []string{"/api/v1/layers/holes", "/api/v1/layers/holes?limit=500", "/api/v1/layers/holes?carrier=viettel",
				"/api/v1/layers/holes?zoom=9", "/api/v1/layers/holes?bbox=105,10,106,11", "/ogc/collections/holes/items",
				"/ogc/collections/holes/items?bbox=105.1,10.5,105.11,10.51", "/ogc/collections/holes/items/" + url.PathEscape(hole)}
			for i, who := range viewers {
				c := e.as(toks[i])
				want := tc.want[i]
				for _, p := range paths {
					r := c.get(p)
					single := strings.Contains(p, "/items/")
					got := ""
					switch {
					case want == U:
						wantProblem(t, r, 401, "")
						continue
					case single && r.status == 404:
						got = H
					case strings.Contains(p, "carrier=") && r.status == 403:
						// Asking for holes of which none can be seen.
						wantProblem(t, r, 403, "carrier")
						got = H
					case r.status != 200:
						got = fmt.Sprintf("status %d", r.status)
					case single:
						var f struct{ Properties map[string]any }
						if err := json.Unmarshal(r.body, &f); err != nil {
							t.Fatalf("%s: %v", p, err)
						}
						got = holeSeen(f.Properties)
					default:
						got = H
						for _, f := range parseFC(t, r.body).Features {
							if f.ID == hole {
								got = holeSeen(f.Properties)
							}
						}
					}
					if got != want {
						t.Errorf("%s: %s sees Viettel's hole: %s, want %s", p, who, got, want)
					}
				}
				// The collection's listing and description follow the same rule.
				var cols struct{ Collections []struct{ ID string } }
				json.Unmarshal(c.get("/ogc/collections").body, &cols)
				listed := false
				for _, col := range cols.Collections {
					listed = listed || col.ID == "holes"
				}
				if listed != (want != U) {
					t.Errorf("%s: holes listed %v", who, listed)
				}
				if r := c.get("/api/v1/gaps?carrier=viettel"); r.status != gaps[i] {
					t.Errorf("gap list as %s: %d, want %d", who, r.status, gaps[i])
				}
			}
			// What the public sees of the holes in outline is in the
			// order of carrier and ID, not of priority.
			if tc.public == geo.HoleOutline {
				type key struct {
					c  geo.Carrier
					id string
				}
				var keys []key
				for _, f := range parseFC(t, e.anon().get("/api/v1/layers/holes").body).Features {
					c, _ := geo.ParseCarrier(f.Properties["carrier"].(string))
					keys = append(keys, key{c, f.Properties["id"].(string)})
				}
				sorted := slices.IsSortedFunc(keys, func(a, b key) int {
					if a.c != b.c {
						return int(a.c) - int(b.c)
					}
					return strings.Compare(a.id, b.id)
				})
				if !sorted || len(keys) != len(e.srv.cur.load().result.Holes) {
					t.Errorf("the public's holes come in the order %v", keys)
				}
			}
		})
	}
}

func TestTokenRevokedAtOnce(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1")
	st := e.as(tok)
	if r := st.get("/api/v1/layers/reports"); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	var list struct{ Tokens []tokenOut }
	if err := json.Unmarshal(st.get("/api/v1/tokens").body, &list); err != nil || len(list.Tokens) != 1 {
		t.Fatalf("tokens: %v %+v", err, list)
	}
	if list.Tokens[0].LastUsedAt == nil {
		t.Error("last used time not recorded")
	}
	// Revoked through the API by its owner: the next request fails.
	if r := st.do("DELETE", "/api/v1/tokens/"+list.Tokens[0].ID, "", nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	wantProblem(t, st.get("/api/v1/layers/reports"), 401, "")
	wantProblem(t, st.get("/api/v1/layers/areas"), 401, "")

	// Revoked in the store by another process (gapmap token revoke).
	e.token("staff-c1", "second")
	t2, secret := e.token("staff-c1", "third")
	if r := e.as(secret).get("/api/v1/layers/reports"); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	if err := e.store.RevokeToken(context.Background(), t2.ID, testNow, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.as(secret).get("/api/v1/layers/reports"), 401, "")
	wantProblem(t, e.as("gmt_made-up").get("/api/v1/layers/areas"), 401, "")
	wantProblem(t, e.anon().do("GET", "/api/v1/layers/areas", "", nil, "Authorization", "Basic YTpi"), 401, "")
}

// browser is a client with a cookie jar, as a browser signs in.
type browser struct {
	e      *env
	client *http.Client
	csrf   string
}

func (e *env) signIn(name, password string) (*browser, resp) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, client: &http.Client{Jar: jar}}
	r := b.do("POST", "/api/v1/session", "application/json", fmt.Sprintf(`{"name":%q,"password":%q}`, name, password))
	var s sessionOut
	json.Unmarshal(r.body, &s)
	b.csrf = s.CSRF
	return b, r
}

func (b *browser) do(method, path, ctype, body string, hdr ...string) resp {
	b.e.t.Helper()
	req, _ := http.NewRequest(method, b.e.ts.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body2, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, body2}
}

func (e *env) userWithPassword(name string, role geo.Role, pw string, scope ...string) {
	e.t.Helper()
	h, err := credential.HashPassword(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddUser(context.Background(), geo.User{Name: name, Role: role, Scope: scope, PasswordHash: h}, geo.AuditEntry{}); err != nil {
		e.t.Fatal(err)
	}
}

func TestSignInAndCSRF(t *testing.T) {
	e := newEnv(t, Options{})
	e.userWithPassword("cán-bộ.xã", geo.RoleStaff, "mật khẩu đủ dài", "C1")

	// Wrong password and unknown user: the same reply.
	_, r1 := e.signIn("cán-bộ.xã", "wrong password")
	_, r2 := e.signIn("no-such-user", "wrong password")
	wantProblem(t, r1, 401, "")
	wantProblem(t, r2, 401, "")
	if !bytes.Equal(r1.body, r2.body) {
		t.Errorf("replies differ, telling which names exist:\n%s\n%s", r1.body, r2.body)
	}

	b, r := e.signIn("cán-bộ.xã", "mật khẩu đủ dài")
	if r.status != 200 || b.csrf == "" {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	c := r.header.Get("Set-Cookie")
	for _, want := range []string{sessionCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %s", c, want)
		}
	}
	var s sessionOut
	json.Unmarshal(b.do("GET", "/api/v1/session", "", "").body, &s)
	if s.User == nil || s.User.Name != "cán-bộ.xã" || s.User.Role != geo.RoleStaff || s.CSRF != b.csrf {
		t.Errorf("session: %+v", s)
	}
	if r := b.do("GET", "/api/v1/layers/reports", "", ""); r.status != 200 {
		t.Errorf("signed-in staff read reports: %d", r.status)
	}
	// A write with the cookie but without the CSRF token is refused.
	wantProblem(t, b.do("POST", "/api/v1/reports", "application/json", validReport), 403, csrfHeader)
	wantProblem(t, b.do("POST", "/api/v1/reports", "application/json", validReport, csrfHeader, "guess"), 403, csrfHeader)
	wantProblem(t, b.do("POST", "/api/v1/tokens", "application/json", `{}`), 403, csrfHeader)
	// A cross-site request is refused even with the token.
	r = b.do("POST", "/api/v1/reports", "application/json", validReport, csrfHeader, b.csrf,
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.status != 403 {
		t.Errorf("cross-site write: %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("cross-site write refused as %q, want application/problem+json", ct)
	}
	if r := b.do("POST", "/api/v1/reports", "application/json", validReport, csrfHeader, b.csrf); r.status != 201 {
		t.Errorf("write with the CSRF token: %d %s", r.status, r.body)
	}
	// Sign-out needs the token too, and ends the session.
	wantProblem(t, b.do("DELETE", "/api/v1/session", "", ""), 403, csrfHeader)
	if r := b.do("DELETE", "/api/v1/session", "", "", csrfHeader, b.csrf); r.status != 204 {
		t.Fatalf("sign-out: %d", r.status)
	}
	wantProblem(t, b.do("GET", "/api/v1/layers/reports", "", ""), 401, "")

	// The audit log has the sign-in, the report and the sign-out, with
	// who and from where.
	var log struct{ Entries []geo.AuditEntry }
	json.Unmarshal(e.get("/api/v1/audit").body, &log)
	seen := map[string]geo.AuditEntry{}
	for _, en := range log.Entries {
		seen[en.Action] = en
	}
	for _, a := range []string{"session.fail", "session.create", "report.create", "session.delete"} {
		en, ok := seen[a]
		if !ok {
			t.Errorf("audit log lacks %s: %+v", a, log.Entries)
			continue
		}
		if en.Remote == "" || en.At.IsZero() || a != "session.fail" && en.Actor != "cán-bộ.xã" {
			t.Errorf("audit entry %+v", en)
		}
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t, Options{})
	e.userWithPassword("admin2", geo.RoleAdmin, "correct horse battery")
	var last resp
	for range pairFree {
		_, last = e.signIn("admin2", "wrong password")
	}
	wantProblem(t, last, 401, "")
	// The name from this address is backed off: even the right password
	// waits, since it is not checked while the pair waits.
	_, r := e.signIn("admin2", "correct horse battery")
	wantProblem(t, r, 429, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	m := string(e.get("/metrics").body)
	for _, want := range []string{`gapmap_signins_total{result="failed"} 5`, `gapmap_signins_total{result="throttled"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The name is not locked: from another address it signs in.
	if _, r := e.signInFrom("127.0.0.2", "admin2", "correct horse battery"); r.status != 200 {
		t.Errorf("sign-in from another address: %d %s", r.status, r.body)
	}
}

func TestReviewRejectLeavesAnalysis(t *testing.T) {
	e := newEnv(t, Options{})
	count := func() int {
		var a struct{ Reports int }
		json.Unmarshal(e.get("/api/v1/areas/H1").body, &a)
		return a.Reports
	}
	before := count()
	rv := e.as(e.user("reviewer", geo.RoleReviewer, geo.CarrierUnknown))
	if r := rv.do("PUT", "/api/v1/reports/s00/review", "application/json", []byte(`{"status":"rejected","comment":"trùng lặp"}`)); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e.srv.WaitIdle()
	if got := count(); got != before-1 {
		t.Errorf("H1 reports %d after a rejection, want %d", got, before-1)
	}
	wantProblem(t, rv.do("PUT", "/api/v1/reports/s00/review", "application/json", []byte(`{"status":"maybe"}`)), 400, "status")
	wantProblem(t, rv.do("PUT", "/api/v1/reports/nope/review", "application/json", []byte(`{"status":"rejected"}`)), 404, "")
	rv.do("PUT", "/api/v1/reports/s00/review", "application/json", []byte(`{"status":"confirmed"}`))
	e.srv.WaitIdle()
	if got := count(); got != before {
		t.Errorf("H1 reports %d after confirming again, want %d", got, before)
	}
}

func TestUserAdmin(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"tổ-cns-h1","role":"staff","scope":["H1"],"password":"mật khẩu đủ dài"}`))
	if r.status != 201 || bytes.Contains(r.body, []byte("argon2")) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"tổ-cns-h1","role":"staff","scope":["H1"]}`)), 409, "name")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x","role":"staff","scope":["NOWHERE"]}`)), 400, "scope")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x","role":"carrier"}`)), 400, "carrier")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x","role":"king"}`)), 400, "role")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x y","role":"admin"}`)), 400, "name")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x","role":"admin","password":"short"}`)), 400, "password")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"x","role":"admin","is_root":true}`)), 400, "is_root")
	wantProblem(t, e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":5,"role":"admin"}`)), 400, "name")
	b, r := e.signIn("tổ-cns-h1", "mật khẩu đủ dài")
	if r.status != 200 {
		t.Fatalf("new user signs in: %d %s", r.status, r.body)
	}
	// A staff user makes a token for itself, not for others.
	r = b.do("POST", "/api/v1/tokens", "application/json", `{"label":"điện thoại"}`, csrfHeader, b.csrf)
	var tok tokenOut
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 201 || !strings.HasPrefix(tok.Token, "gmt_") || tok.User != "tổ-cns-h1" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	wantProblem(t, b.do("POST", "/api/v1/tokens", "application/json", `{"user":"admin"}`, csrfHeader, b.csrf), 403, "user")
	if r := e.as(tok.Token).get("/api/v1/reports/s00"); r.status != 200 {
		t.Errorf("the new token reads a report in scope: %d", r.status)
	}
	var list struct{ Tokens []tokenOut }
	json.Unmarshal(b.do("GET", "/api/v1/tokens", "", "").body, &list)
	if len(list.Tokens) != 1 || list.Tokens[0].Token != "" {
		t.Errorf("listing shows secrets or others' tokens: %+v", list)
	}
}

// TestAbandonedRequestIsNoError: a client that goes away while its token
// is being looked up is not logged as a server error.
func TestAbandonedRequestIsNoError(t *testing.T) {
	var logs syncLog
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/api/v1/layers/areas", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+e.auth)
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code == 500 || strings.Contains(logs.String(), "request failed") {
		t.Errorf("status %d, logs:\n%s", w.Code, logs.String())
	}
}

// syncLog is a log sink safe for concurrent use.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
