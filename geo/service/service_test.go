package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/gapmap/gapmap/geo/service"
)

var testNow = time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)

// Two communes of one hamlet each: H1 in C1, H2 in C2.
var testAreas = []geo.Area{
	{Code: "H1", Name: "Ấp Phú Hòa", ParentCode: "C1", Level: geo.LevelHamlet, Population: 1000,
		Geometry: geotest.Square(105.10, 10.50, 105.12, 10.52)},
	{Code: "H2", Name: "Khóm Mỹ Lợi", ParentCode: "C2", Level: geo.LevelHamlet, Population: 800,
		Geometry: geotest.Square(105.30, 10.70, 105.32, 10.72)},
}

func ptr(f float64) *float64 { return &f }

// weak is a weak Viettel report with the given ID at (lon, lat).
func weak(id string, lon, lat float64) geo.Report {
	return geo.Report{ID: id, Lat: lat, Lon: lon, ObservedAt: testNow.Add(-24 * time.Hour),
		Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: ptr(-125), Reporter: "Tổ CNS"}
}

// openStore opens a new store in a temporary folder holding testAreas
// and two weak reports.
func openStore(t *testing.T) *gpkg.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "s.gpkg"))
}

// openStoreAt is openStore at path.
func openStoreAt(t *testing.T, path string) *gpkg.Store {
	t.Helper()
	ctx := context.Background()
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, "2025", testAreas); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReports(ctx, []geo.Report{weak("s1", 105.105, 10.505), weak("s2", 105.305, 10.705)}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func newService(t *testing.T, st service.Store, opt service.Options) *service.Service {
	t.Helper()
	opt.Now = func() time.Time { return testNow }
	svc, err := service.New(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

// staff returns the viewer of a staff user scoped to codes.
func staff(svc *service.Service, codes ...string) *geo.Viewer {
	return svc.ViewerOf(&geo.User{Name: "staff-" + strings.Join(codes, "-"), Role: geo.RoleStaff, Scope: codes})
}

func wantKind(t *testing.T, what string, err, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error %v, want one matching %v", what, err, kind)
	}
	if field == "" {
		return
	}
	var fs geo.FieldErrors
	var ge *geo.Error
	switch {
	case errors.As(err, &ge):
		fs = ge.Fields
	default:
		fs = geo.AsFieldErrors(err)
	}
	for _, f := range fs {
		if f.Field == field {
			return
		}
	}
	t.Errorf("%s: %v names no field %q", what, err, field)
}

func TestSnapshotsAndSubscribers(t *testing.T) {
	svc := newService(t, openStore(t), service.Options{})
	first := svc.Snapshot()
	if first == nil || first.Seq != 1 || len(first.IDs) != 2 || len(first.Obs) != 2 || first.Result == nil {
		t.Fatalf("first snapshot %+v", first)
	}
	var mu sync.Mutex
	var seen []uint64
	if err := svc.Subscribe(func(s *service.Snapshot) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, s.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	admin := service.CommandLine("ict")
	for i := range 3 {
		r := weak(fmt.Sprintf("n%d", i), 105.106+float64(i)*0.001, 10.506)
		if _, created, err := svc.AddReport(context.Background(), admin, r, ""); err != nil || !created {
			t.Fatalf("add %s: %v %v", r.ID, created, err)
		}
	}
	svc.WaitIdle()
	last := svc.Snapshot()
	if len(last.IDs) != 5 || last.IDs[4] != "n2" {
		t.Errorf("last snapshot holds %v, want the 5 reports ending with n2", last.IDs)
	}
	if svc.Reports() != 5 {
		t.Errorf("Reports() = %d, want 5", svc.Reports())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0] != 1 || seen[len(seen)-1] != last.Seq {
		t.Fatalf("subscriber saw %v, want 1 first and %d last", seen, last.Seq)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Errorf("snapshots out of order: %v", seen)
		}
	}
	// The first snapshot is untouched by what came after.
	if len(first.IDs) != 2 || first.Seq != 1 {
		t.Errorf("first snapshot changed: %d reports, seq %d", len(first.IDs), first.Seq)
	}
	// A subscriber that fails at once is not subscribed.
	bad := errors.New("cannot encode")
	if err := svc.Subscribe(func(*service.Snapshot) error { return bad }); !errors.Is(err, bad) {
		t.Errorf("Subscribe returned %v, want %v", err, bad)
	}
}

func TestAddReportRules(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st, service.Options{})
	c1 := staff(svc, "C1")
	in, out := weak("", 105.105, 10.506), weak("", 105.305, 10.706)

	admin0 := service.CommandLine("ict")
	r, created, err := svc.AddReport(ctx, c1, in, "")
	if err != nil || !created || r.ID == "" {
		t.Fatalf("staff of C1 in H1: %+v %v %v", r, created, err)
	}
	if r.Reporter != "Tổ CNS" {
		t.Errorf("reporter %q, want the report's own", r.Reporter)
	}
	noRep := in
	noRep.Reporter = ""
	if r, _, err := svc.AddReport(ctx, c1, noRep, ""); err != nil || r.Reporter != c1.User {
		t.Errorf("a report without a reporter is the submitter's: %q %v", r.Reporter, err)
	}
	_, _, err = svc.AddReport(ctx, c1, out, "")
	wantKind(t, "staff of C1 in H2", err, geo.ErrForbidden, "lat")
	bad := in
	bad.Lat = 95
	_, _, err = svc.AddReport(ctx, c1, bad, "")
	wantKind(t, "lat 95", err, geo.ErrInvalid, "lat")
	// A staff member's ids are their own: s1, stored by an admin, is free
	// to them, and taken once they used it.
	own, created, err := svc.AddReport(ctx, c1, weak("s1", 105.105, 10.506), "")
	if err != nil || !created || own.ID == "s1" || own.ClientID != "s1" {
		t.Errorf("staff's own s1: %+v %v %v, want a new report with client id s1", own, created, err)
	}
	_, _, err = svc.AddReport(ctx, c1, weak("s1", 105.105, 10.507), "")
	wantKind(t, "staff's own id again", err, geo.ErrConflict, "id")
	_, _, err = svc.AddReport(ctx, admin0, weak("s1", 105.105, 10.506), "")
	wantKind(t, "an id already stored, for an admin", err, geo.ErrConflict, "id")
	_, _, err = svc.AddReport(ctx, &geo.Viewer{}, in, "")
	wantKind(t, "the public", err, geo.ErrUnauthenticated, "")
	rev := svc.ViewerOf(&geo.User{Name: "rv", Role: geo.RoleReviewer})
	_, _, err = svc.AddReport(ctx, rev, in, "")
	wantKind(t, "a reviewer", err, geo.ErrForbidden, "")

	// Idempotency: the same key gives the same report, once; a key used
	// for a report outside the caller's scope does not show it.
	admin := service.CommandLine("ict")
	a, created, err := svc.AddReport(ctx, admin, out, "k1")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	b, created, err := svc.AddReport(ctx, admin, out, "k1")
	if err != nil || created || b.ID != a.ID {
		t.Errorf("replay: %v %v %v, want %s not created", b.ID, created, err, a.ID)
	}
	// Keys are each submitter's own: staff sending an admin's key store
	// their own report, and learn nothing of the admin's.
	if c, created, err := svc.AddReport(ctx, c1, in, "k1"); err != nil || !created || c.ID == a.ID {
		t.Errorf("staff with an admin's key: %+v %v %v, want a report of their own", c, created, err)
	}

	// Reading follows the scope; outside it is as if missing.
	if _, err := svc.Report(ctx, c1, "s1"); err != nil {
		t.Errorf("staff of C1 read s1: %v", err)
	}
	_, err = svc.Report(ctx, c1, "s2")
	wantKind(t, "staff of C1 read s2", err, geo.ErrNotFound, "")
	_, err = svc.Report(ctx, c1, "nope")
	wantKind(t, "unknown id", err, geo.ErrNotFound, "")
	carrier := svc.ViewerOf(&geo.User{Name: "vt", Role: geo.RoleCarrier, Carrier: geo.Viettel})
	_, err = svc.Report(ctx, carrier, "s1")
	wantKind(t, "a carrier reads a raw report", err, geo.ErrForbidden, "")
}

// TestImportErrorsCut: with MaxErrors, the reader's own errors are kept
// first, then the rows the service rejects (outside the scope, an ID
// given twice) in row order, and Truncated says some were left out; every
// rejected row is still counted.
func TestImportErrorsCut(t *testing.T) {
	ctx := context.Background()
	const csv = "id,lat,lon,observed_at,carrier,signal_dbm\n" +
		"a1,10.505,105.105,2025-08-30T08:00:00Z,viettel,-120\n" + // row 1: H1
		"a2,10.705,105.305,2025-08-30T08:00:00Z,viettel,-120\n" + // row 2: H2, outside C1
		"a1,10.506,105.106,2025-08-30T08:00:00Z,viettel,-120\n" + // row 3: a1 again
		"a3,95,105.107,2025-08-30T08:00:00Z,viettel,-120\n" + // row 4: bad lat
		"a5,10.507,105.107,2025-08-30T08:00:00Z,viettel,-120\n" // row 5: H1
	for _, tc := range []struct {
		max   int
		want  string
		trunc bool
	}{
		{1, "[4:lat]", true},
		{3, "[2:lat 2:lon 4:lat]", true},
		{4, "[2:lat 2:lon 3:id 4:lat]", false},
	} {
		svc := newService(t, openStore(t), service.Options{})
		res, err := svc.ImportReports(ctx, staff(svc, "C1"), strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV, MaxErrors: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, fmt.Sprintf("%d:%s", e.Row, e.Field))
		}
		if fmt.Sprint(got) != tc.want || res.Truncated != tc.trunc || res.Rejected != 3 || res.Accepted != 2 {
			t.Errorf("MaxErrors %d: errors %v truncated %v, rejected %d accepted %d; want %s truncated %v, 3 rejected, 2 accepted",
				tc.max, got, res.Truncated, res.Rejected, res.Accepted, tc.want, tc.trunc)
		}
	}
}

// TestImportRules: one duplicate rule and one scope rule, whoever
// imports.
func TestImportRules(t *testing.T) {
	ctx := context.Background()
	const csv = "id,lat,lon,observed_at,carrier,signal_dbm\n" +
		"a1,10.505,105.105,2025-08-30T08:00:00Z,viettel,-120\n" + // row 1: H1
		"a2,10.705,105.305,2025-08-30T08:00:00Z,viettel,-120\n" + // row 2: H2
		"a1,10.506,105.106,2025-08-30T08:00:00Z,viettel,-120\n" + // row 3: a1 again
		"s1,10.506,105.106,2025-08-30T08:00:00Z,viettel,-120\n" + // row 4: already stored
		",10.507,105.107,2025-08-30T08:00:00Z,viettel,-120\n" + // row 5: no id
		"a3,95,105.107,2025-08-30T08:00:00Z,viettel,-120\n" + // row 6: bad lat
		"a4,9.0,104.0,2025-08-30T08:00:00Z,viettel,-120\n" // row 7: outside every area
	type rowErr struct {
		row   int
		field string
	}
	tests := []struct {
		name     string
		viewer   func(*service.Service) *geo.Viewer
		noAnal   bool
		accepted int
		errs     []rowErr
	}{
		// Staff ids are their own: s1, an admin's, is free to them.
		{"staff of C1", func(s *service.Service) *geo.Viewer { return staff(s, "C1") }, false, 3,
			[]rowErr{{2, "lat"}, {2, "lon"}, {3, "id"}, {6, "lat"}, {7, "lat"}, {7, "lon"}}},
		{"command line", func(*service.Service) *geo.Viewer { return service.CommandLine("ict") }, true, 4,
			[]rowErr{{3, "id"}, {4, "id"}, {6, "lat"}}},
		{"admin of a running service", func(s *service.Service) *geo.Viewer {
			return s.ViewerOf(&geo.User{Name: "ict", Role: geo.RoleAdmin})
		}, false, 4, []rowErr{{3, "id"}, {4, "id"}, {6, "lat"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			svc := newService(t, st, service.Options{NoAnalysis: tc.noAnal})
			res, err := svc.ImportReports(ctx, tc.viewer(svc), strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV})
			if err != nil {
				t.Fatal(err)
			}
			var got []rowErr
			for _, e := range res.Errors {
				got = append(got, rowErr{e.Row, e.Field})
			}
			if res.Accepted != tc.accepted || fmt.Sprint(got) != fmt.Sprint(tc.errs) {
				t.Errorf("accepted %d, errors %v; want %d, %v", res.Accepted, got, tc.accepted, tc.errs)
			}
			rejectedRows := map[int]bool{}
			for _, e := range tc.errs {
				rejectedRows[e.row] = true
			}
			if res.Rejected != len(rejectedRows) {
				t.Errorf("rejected %d, want %d", res.Rejected, len(rejectedRows))
			}
			_, n, _, _, _ := st.Counts(ctx)
			if n != 2+tc.accepted {
				t.Errorf("store holds %d reports, want %d", n, 2+tc.accepted)
			}
			var a1 []geo.Report
			st.EachReport(ctx, func(r *geo.Report) error {
				if r.ID == "a1" || r.ClientID == "a1" {
					a1 = append(a1, *r)
				}
				return nil
			})
			if len(a1) != 1 || a1[0].Lat != 10.505 {
				t.Errorf("a1 is the first row's: %+v", a1)
			}
			if !tc.noAnal {
				svc.WaitIdle()
				if got := len(svc.Snapshot().IDs); got != 2+tc.accepted {
					t.Errorf("snapshot holds %d reports, want %d", got, 2+tc.accepted)
				}
			} else if svc.Snapshot() != nil {
				t.Error("a service without analysis published a snapshot")
			}
		})
	}
	// The public and carriers import nothing.
	svc := newService(t, openStore(t), service.Options{})
	_, err := svc.ImportReports(ctx, &geo.Viewer{}, strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV})
	wantKind(t, "public import", err, geo.ErrUnauthenticated, "")
	_, err = svc.ImportReports(ctx, staff(svc, "C1"), strings.NewReader("a,b\n1,2\n"), service.ImportOptions{Format: ingest.FormatCSV})
	wantKind(t, "a file without the columns", err, geo.ErrInvalid, "")
}

func TestReviewLeavesAnalysis(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t), service.Options{})
	rv := svc.ViewerOf(&geo.User{Name: "rv", Role: geo.RoleReviewer})
	count := func() int {
		svc.WaitIdle()
		for _, a := range svc.Snapshot().Result.Areas {
			if a.Code == "H1" {
				return a.Reports
			}
		}
		t.Fatal("no H1")
		return 0
	}
	before := count()
	if _, err := svc.Review(ctx, rv, "s1", geo.ReviewRejected, "trùng lặp"); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before-1 {
		t.Errorf("H1 reports %d after a rejection, want %d", got, before-1)
	}
	if _, err := svc.Review(ctx, rv, "s1", geo.ReviewConfirmed, ""); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before {
		t.Errorf("H1 reports %d after confirming again, want %d", got, before)
	}
	_, err := svc.Review(ctx, rv, "s1", "maybe", "")
	wantKind(t, "unknown status", err, geo.ErrInvalid, "status")
	_, err = svc.Review(ctx, rv, "nope", geo.ReviewRejected, "")
	wantKind(t, "unknown report", err, geo.ErrNotFound, "")
	_, err = svc.Review(ctx, staff(svc, "C1"), "s1", geo.ReviewRejected, "")
	wantKind(t, "staff review", err, geo.ErrForbidden, "")
}

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st, service.Options{NoAnalysis: true})
	cli := service.CommandLine("root")
	spec := service.UserSpec{Name: "cán-bộ.xã", Role: "staff", Scope: []string{"C1"}, Password: "mật khẩu đủ dài"}
	u, err := svc.AddUser(ctx, cli, spec)
	if err != nil || u.PasswordHash == "" || u.CreatedAt != testNow {
		t.Fatalf("add user: %+v %v", u, err)
	}
	_, err = svc.AddUser(ctx, cli, spec)
	wantKind(t, "the same name", err, geo.ErrConflict, "name")
	for _, tc := range []struct {
		name  string
		spec  service.UserSpec
		field string
	}{
		{"unknown scope", service.UserSpec{Name: "x", Role: "staff", Scope: []string{"NOWHERE"}}, "scope"},
		{"carrier without carrier", service.UserSpec{Name: "x", Role: "carrier"}, "carrier"},
		{"unknown role", service.UserSpec{Name: "x", Role: "king"}, "role"},
		{"short password", service.UserSpec{Name: "x", Role: "admin", Password: "short"}, "password"},
	} {
		_, err := svc.AddUser(ctx, cli, tc.spec)
		wantKind(t, tc.name, err, geo.ErrInvalid, tc.field)
	}
	c1 := staff(svc, "C1")
	_, err = svc.AddUser(ctx, c1, service.UserSpec{Name: "y", Role: "admin"})
	wantKind(t, "staff adds a user", err, geo.ErrForbidden, "")

	// Sign-in: a wrong password and an unknown name are the same error.
	v := &geo.Viewer{Remote: "192.0.2.7"}
	_, _, _, err1 := svc.SignIn(ctx, v, "cán-bộ.xã", "wrong password", "", nil)
	_, _, _, err2 := svc.SignIn(ctx, v, "nobody", "wrong password", "", nil)
	wantKind(t, "wrong password", err1, geo.ErrUnauthenticated, "")
	if err1.Error() != err2.Error() {
		t.Errorf("sign-in errors differ: %q, %q", err1, err2)
	}
	u, sess, secret, err := svc.SignIn(ctx, v, "cán-bộ.xã", "mật khẩu đủ dài", "", nil)
	if err != nil || sess.ExpiresAt != testNow.Add(service.SessionTTL) || secret == "" {
		t.Fatalf("sign in: %+v %+v %v", u, sess, err)
	}
	sv, got, err := svc.SessionViewer(ctx, secret)
	if err != nil || sv.User != u.Name || sv.Via != "session" || got.CSRF != sess.CSRF || !sv.Covers(0) || sv.Covers(1) {
		t.Errorf("session viewer %+v %+v %v", sv, got, err)
	}
	// A new password ends the session.
	if err := svc.SetPassword(ctx, cli, u.Name, "một mật khẩu mới"); err != nil {
		t.Fatal(err)
	}
	if sv, _, err := svc.SessionViewer(ctx, secret); err != nil || !sv.Anonymous() {
		t.Errorf("session after a new password: %+v %v", sv, err)
	}
	wantKind(t, "passwd of nobody", svc.SetPassword(ctx, cli, "nobody", "một mật khẩu mới"), geo.ErrNotFound, "")

	// Tokens: one's own; an admin's for anyone; others' are not found.
	me := svc.ViewerOf(&u)
	tok, tsecret, err := svc.CreateToken(ctx, me, "", "điện thoại")
	if err != nil || tok.User != u.Name || !strings.HasPrefix(tsecret, "gmt_") {
		t.Fatalf("own token: %+v %v", tok, err)
	}
	_, _, err = svc.CreateToken(ctx, me, "root", "")
	wantKind(t, "token for another user", err, geo.ErrForbidden, "user")
	_, _, err = svc.CreateToken(ctx, cli, "nobody", "")
	wantKind(t, "token for nobody", err, geo.ErrInvalid, "user")
	_, _, err = svc.CreateToken(ctx, me, "", strings.Repeat("x", geo.MaxLabelLen+1))
	wantKind(t, "long label", err, geo.ErrInvalid, "label")
	if tv, _, err := svc.TokenViewer(ctx, tsecret); err != nil || tv.User != u.Name || tv.Via != "token" {
		t.Errorf("token viewer %+v %v", tv, err)
	}
	if _, err := svc.AddUser(ctx, cli, service.UserSpec{Name: "other", Role: "reviewer"}); err != nil {
		t.Fatal(err)
	}
	other := svc.ViewerOf(&geo.User{Name: "other", Role: geo.RoleReviewer})
	wantKind(t, "revoke another's token", svc.RevokeToken(ctx, other, tok.ID), geo.ErrNotFound, "")
	if ts, err := svc.Tokens(ctx, other, u.Name); err != nil || len(ts) != 0 {
		t.Errorf("another user lists %d tokens (%v), want none", len(ts), err)
	}
	if ts, err := svc.Tokens(ctx, cli, ""); err != nil || len(ts) != 1 {
		t.Errorf("an admin lists %d tokens (%v), want 1", len(ts), err)
	}
	if err := svc.RevokeToken(ctx, me, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.TokenViewer(ctx, tsecret)
	wantKind(t, "revoked token", err, geo.ErrUnauthenticated, "")

	// Every write is in the audit log, with who and how.
	es, err := svc.AuditLog(ctx, cli, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range es {
		log = append(log, e.Via+":"+e.Actor+":"+e.Action)
	}
	for _, want := range []string{"cli:root:user.add", ":" + ":session.fail", "session:cán-bộ.xã:session.create",
		"cli:root:user.passwd", ":cán-bộ.xã:token.create", ":cán-bộ.xã:token.revoke"} {
		if !strings.Contains(strings.Join(log, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, log)
		}
	}
	_, err = svc.AuditLog(ctx, me, 0, 10)
	wantKind(t, "staff read the audit log", err, geo.ErrForbidden, "")
}
