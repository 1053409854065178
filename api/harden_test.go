package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// makeToken creates a token through the API as e and returns its ID and
// secret.
func (e *env) makeToken(label string) (id, secret string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/tokens", "application/json", []byte(fmt.Sprintf(`{"label":%q}`, label)))
	var out tokenOut
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 201 || out.Token == "" {
		e.t.Fatalf("create token %s: %d %s", label, r.status, r.body)
	}
	return out.ID, out.Token
}

// TestChildTokenDiesWithParent: a token made with a token is revoked with
// it, and so are the tokens it made in turn; a token made otherwise is
// not. A revoked token makes no more.
func TestChildTokenDiesWithParent(t *testing.T) {
	e := newEnv(t, Options{})
	parent := e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	_, childSecret := parent.makeToken("child")
	child := e.as(childSecret)
	_, grandSecret := child.makeToken("grandchild")
	grand := e.as(grandSecret)
	_, siblingSecret := e.token("staff-c1", "made on the command line")
	sibling := e.as(siblingSecret)
	for name, c := range map[string]*env{"child": child, "grandchild": grand, "sibling": sibling} {
		if r := c.get("/api/v1/layers/reports"); r.status != 200 {
			t.Fatalf("%s before: %d %s", name, r.status, r.body)
		}
	}
	var list struct{ Tokens []tokenOut }
	json.Unmarshal(parent.get("/api/v1/tokens").body, &list)
	var parentID, childParent string
	for _, tk := range list.Tokens {
		switch tk.Label {
		case "test":
			parentID = tk.ID
		case "child":
			childParent = tk.Parent
		}
	}
	if parentID == "" || childParent != parentID {
		t.Errorf("the child's parent is %q, want %q", childParent, parentID)
	}
	if r := parent.do("DELETE", "/api/v1/tokens/"+parentID, "", nil); r.status != 204 {
		t.Fatalf("revoke the parent: %d %s", r.status, r.body)
	}
	for name, c := range map[string]*env{"parent": parent, "child": child, "grandchild": grand} {
		if r := c.get("/api/v1/layers/reports"); r.status != 401 {
			t.Errorf("the %s after the parent's revocation: %d, want 401", name, r.status)
		}
	}
	if r := sibling.get("/api/v1/layers/reports"); r.status != 200 {
		t.Errorf("a token the parent did not make was revoked: %d", r.status)
	}
	wantProblem(t, child.do("POST", "/api/v1/tokens", "application/json", []byte(`{}`)), 401, "")
}

// TestPasswordChangeRevokesTokens: a new password ends the user's
// sessions and revokes every token of theirs, those made in a browser
// and those made for them on the command line, and what those made.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	e := newEnv(t, Options{})
	e.userWithPassword("lan", geo.RoleStaff, "mật khẩu đủ dài", "C1")
	b, r := e.signIn("lan", "mật khẩu đủ dài")
	if r.status != 200 {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	r = b.do("POST", "/api/v1/tokens", "application/json", `{"label":"from the browser"}`, csrfHeader, b.csrf)
	var out tokenOut
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 201 {
		t.Fatalf("token from the session: %d %s", r.status, r.body)
	}
	browserTok := e.as(out.Token)
	_, cliSecret := e.token("lan", "from the command line")
	cliTok := e.as(cliSecret)
	_, childSecret := cliTok.makeToken("made by a token")
	childTok := e.as(childSecret)
	other := e.as(e.user("other", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	for _, c := range []*env{browserTok, cliTok, childTok} {
		if r := c.get("/api/v1/layers/reports"); r.status != 200 {
			t.Fatalf("before: %d %s", r.status, r.body)
		}
	}
	if err := e.svc.SetPassword(context.Background(), service.CommandLine("ict"), "lan", "một mật khẩu khác"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*env{"browser's": browserTok, "command line's": cliTok, "token's": childTok} {
		if r := c.get("/api/v1/layers/reports"); r.status != 401 {
			t.Errorf("the %s token after the password change: %d, want 401", name, r.status)
		}
	}
	wantProblem(t, b.do("GET", "/api/v1/layers/reports", "", ""), 401, "")
	if r := other.get("/api/v1/layers/reports"); r.status != 200 {
		t.Errorf("another user's token: %d", r.status)
	}
	var log struct{ Entries []geo.AuditEntry }
	json.Unmarshal(e.get("/api/v1/audit").body, &log)
	if len(log.Entries) == 0 || log.Entries[0].Action != "user.passwd" || log.Entries[0].Target != "lan" {
		t.Errorf("audit, newest first: %+v, want user.passwd of lan", log.Entries[:min(3, len(log.Entries))])
	}
	if _, r := e.signIn("lan", "một mật khẩu khác"); r.status != 200 {
		t.Errorf("sign-in with the new password: %d", r.status)
	}
}

// TestIdempotencyKeyPerUser: two accounts sending the same key each
// store their own report, and each replay returns its sender's.
func TestIdempotencyKeyPerUser(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.as(e.user("staff-a", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	b := e.as(e.user("staff-b", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	ra := a.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "same-key")
	rb := b.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "same-key")
	if ra.status != 201 || rb.status != 201 || ra.header.Get("Location") == rb.header.Get("Location") {
		t.Fatalf("a: %d %s; b: %d %s; want two reports", ra.status, ra.body, rb.status, rb.body)
	}
	for name, w := range map[string]struct {
		c     *env
		first resp
	}{"a": {a, ra}, "b": {b, rb}} {
		r := w.c.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "same-key")
		if r.status != 200 || !bytes.Equal(r.body, w.first.body) {
			t.Errorf("%s replays: %d %s, want 200 %s", name, r.status, r.body, w.first.body)
		}
	}
}

// TestIdempotencyKeyDifferentBody422: a key sent again with another
// report is refused, naming the header, and stores nothing; sent again
// with the same report, however spelt, it returns the first.
func TestIdempotencyKeyDifferentBody422(t *testing.T) {
	e := newEnv(t, Options{})
	r1 := e.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", "k-422")
	if r1.status != 201 {
		t.Fatalf("%d %s", r1.status, r1.body)
	}
	_, before, _, _, _ := e.store.Counts(context.Background())
	other := bytes.Replace([]byte(validReport), []byte(`-121`), []byte(`-99`), 1)
	wantProblem(t, e.do("POST", "/api/v1/reports", "application/json", other, "Idempotency-Key", "k-422"), 422, "Idempotency-Key")
	// The same report, its members in another order and spelling.
	same := `{"note":"Mất sóng cuối ấp","reporter":"Tổ CNS 9","signal_dbm":"-121","tech":"LTE","carrier":"viettel",` +
		`"observed_at":"2025-08-30T01:00:00Z","longitude":105.105,"latitude":10.505}`
	if r := e.do("POST", "/api/v1/reports", "application/json", []byte(same), "Idempotency-Key", "k-422"); r.status != 200 || !bytes.Equal(r.body, r1.body) {
		t.Errorf("the same report again: %d %s, want 200 %s", r.status, r.body, r1.body)
	}
	if _, after, _, _, _ := e.store.Counts(context.Background()); after != before {
		t.Errorf("stored %d reports, want %d", after, before)
	}
}

// TestReportIDNoProbeAcrossScopes: an id that a report outside the
// caller's scope has gets the same answer as one no report has, so
// posting reports tells nothing of others' ids.
func TestReportIDNoProbeAcrossScopes(t *testing.T) {
	e := newEnv(t, Options{})
	h3 := `{"id":%q,"lat":10.705,"lon":105.305,"observed_at":"2025-08-30T08:00:00+07:00","carrier":"viettel","no_service":true}`
	if r := e.do("POST", "/api/v1/reports", "application/json", []byte(fmt.Sprintf(h3, "in-h3"))); r.status != 201 {
		t.Fatalf("admin: %d %s", r.status, r.body)
	}
	c1 := e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	h1 := `{"id":%q,"lat":10.505,"lon":105.105,"observed_at":"2025-08-30T08:00:00+07:00","carrier":"viettel","no_service":true}`
	// answer is the reply to a post of id, with the id and client id
	// taken out.
	answer := func(c *env, id string) (int, map[string]any) {
		r := c.do("POST", "/api/v1/reports", "application/json", []byte(fmt.Sprintf(h1, id)))
		var m map[string]any
		json.Unmarshal(r.body, &m)
		if m["client_id"] != nil && m["client_id"] != id {
			t.Errorf("post of %s: client_id %v", id, m["client_id"])
		}
		delete(m, "id")
		delete(m, "client_id")
		return r.status, m
	}
	taken, takenBody := answer(c1, "in-h3")
	free, freeBody := answer(c1, "never-used")
	if taken != free || fmt.Sprint(takenBody) != fmt.Sprint(freeBody) {
		t.Errorf("an id stored outside the scope: %d %v; an unused one: %d %v", taken, takenBody, free, freeBody)
	}
	// An import tells nothing either.
	csv := "id,lat,lon,observed_at,carrier,no_service\nin-h3,10.505,105.105,2025-08-30T01:00:00Z,viettel,true\n"
	c2 := e.as(e.user("staff-c2", geo.RoleStaff, geo.CarrierUnknown, "C2"))
	r := c1.do("POST", "/api/v1/reports/import", "text/csv", []byte(csv))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"accepted":0`)) || !bytes.Contains(r.body, []byte("already used")) {
		// in-h3 is c1's own by now (posted above): a conflict with their
		// own report, which they can see.
		t.Errorf("import of an id of c1's own: %s", r.body)
	}
	csv2 := "id,lat,lon,observed_at,carrier,no_service\nalso-in-h3,10.505,105.105,2025-08-30T01:00:00Z,viettel,true\n"
	if r := e.do("POST", "/api/v1/reports", "application/json", []byte(fmt.Sprintf(h3, "also-in-h3"))); r.status != 201 {
		t.Fatalf("admin: %d %s", r.status, r.body)
	}
	if r := c1.do("POST", "/api/v1/reports/import", "text/csv", []byte(csv2)); r.status != 200 || !bytes.Contains(r.body, []byte(`"accepted":1`)) {
		t.Errorf("import of an id stored outside the scope: %s, want it accepted as any new id", r.body)
	}
	// Staff read their own report by the id they gave it, or its own.
	if r := c1.get("/api/v1/reports/never-used"); r.status != 200 || !bytes.Contains(r.body, []byte(`"client_id":"never-used"`)) {
		t.Errorf("staff reading their report by their id: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/reports", "application/json", []byte(fmt.Sprintf(h3, "only-in-h3"))); r.status != 201 {
		t.Fatalf("admin: %d %s", r.status, r.body)
	}
	wantProblem(t, c1.get("/api/v1/reports/only-in-h3"), 404, "")
	// Staff of C2, who see in-h3, may use the id too: it is theirs.
	if r := c2.do("POST", "/api/v1/reports", "application/json", []byte(fmt.Sprintf(h3, "in-h3"))); r.status != 201 {
		t.Errorf("staff of C2 with id in-h3: %d %s", r.status, r.body)
	}
}

// TestOneAccountManyNamesNoHoleHTTP: one token posting 60 weak reports
// in H3 under 12 invented reporter names makes no hole there; the same
// reports from 12 accounts do.
func TestOneAccountManyNamesNoHoleHTTP(t *testing.T) {
	mobifoneHoles := func(e *env) int {
		e.srv.WaitIdle()
		return len(parseFC(t, e.get("/api/v1/layers/holes?carrier=mobifone").body).Features)
	}
	post := func(e *env, senders []*env) {
		for i := range 60 {
			body := fmt.Sprintf(`{"lat":%.4f,"lon":%.4f,"observed_at":"2025-08-%02dT08:00:00+07:00","carrier":"MobiFone","tech":"4G","signal_dbm":-124,"reporter":"Tên bịa %d"}`,
				10.702+float64(i%6)*0.0025, 105.302+float64(i/6)*0.0015, 1+i%10, i%12)
			if r := senders[i%len(senders)].do("POST", "/api/v1/reports", "application/json", []byte(body)); r.status != 201 {
				t.Fatalf("report %d: %d %s", i, r.status, r.body)
			}
		}
	}
	e := newEnv(t, Options{})
	before := mobifoneHoles(e)
	post(e, []*env{e.as(e.user("one-account", geo.RoleStaff, geo.CarrierUnknown, "C2"))})
	if after := mobifoneHoles(e); after != before {
		t.Errorf("one account under 12 names: %d MobiFone holes, was %d", after, before)
	}
	e2 := newEnv(t, Options{})
	post(e2, e2.accounts("tổ", 12))
	if after := mobifoneHoles(e2); after <= before {
		t.Errorf("12 accounts: %d MobiFone holes, was %d: the reports are too few to tell", after, before)
	}
}
