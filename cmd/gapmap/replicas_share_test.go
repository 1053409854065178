package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/postgis"
)

// weakLineCSV is 40 weak Viettel reports along latitude 9.05 in area
// 90001 from three reporters over three days: one Viettel hole.
func weakLineCSV() string {
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n")
	for i := range 40 {
		at := time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC).Add(-time.Duration(24*(1+i%3)) * time.Hour)
		fmt.Fprintf(&b, "w%02d,9.05,%.5f,%s,viettel,4G,-118,p%d\n", i, 105.02+float64(i)*0.00045, at.Format(time.RFC3339), i%3)
	}
	return b.String()
}

// TestReplicasShare runs two gapmap serve processes over one PostGIS
// database and finds that what was kept per process is shared: a
// carrier's answer given to one replica is shown by the other (its
// hole, its holes layer), and failed sign-ins on one make the other
// refuse the next attempt of that name and address.
func TestReplicasShare(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildGapmap(t)
	db := cluster.DSN(cluster.NewDatabase(t))
	gapmap := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", db)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gapmap %s: %v %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	csv := filepath.Join(t.TempDir(), "weak.csv")
	if err := os.WriteFile(csv, []byte(weakLineCSV()), 0o600); err != nil {
		t.Fatal(err)
	}
	gapmap("", "import", "areas", filepath.Join("testdata", "areas.geojson"))
	gapmap("", "import", "reports", csv)
	gapmap("", "user", "add", "--name", "ops", "--role", "admin", "--no-password")
	gapmap("", "user", "add", "--name", "vt", "--role", "carrier", "--carrier", "viettel", "--no-password")
	gapmap("mật khẩu đúng 123\n", "user", "add", "--name", "lan", "--role", "reviewer")
	ops := replicaClient{t: t, c: &http.Client{Timeout: 5 * time.Second}, auth: "Bearer " + strings.TrimSpace(gapmap("", "token", "create", "--user", "ops"))}
	vt := replicaClient{t: t, c: ops.c, auth: "Bearer " + strings.TrimSpace(gapmap("", "token", "create", "--user", "vt"))}

	// A starts first and stores the registry; B, started after, takes
	// its records, as a replica added to a running service does.
	_, a := startServe(t, bin, db)
	st, err := postgis.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hole string
	for deadline := time.Now().Add(10 * time.Second); hole == ""; time.Sleep(20 * time.Millisecond) { // polling with a deadline
		recs, err := st.HoleRecords(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Current && r.Carrier.String() == "viettel" {
				hole = r.ID
			}
		}
		if hole == "" && time.Now().After(deadline) {
			t.Fatal("replica A stored no Viettel hole in 10 s")
		}
	}
	_, b := startServe(t, bin, db)

	holeState := func(base string) (string, string) {
		t.Helper()
		status, body := ops.do("GET", base+"/api/v1/holes/"+hole, "")
		var hv struct {
			State   string `json:"state"`
			History []struct {
				Note string `json:"note"`
			} `json:"history"`
		}
		if status != 200 || json.Unmarshal(body, &hv) != nil {
			t.Fatalf("GET hole %s on %s: %d %.300s", hole, base, status, body)
		}
		note := ""
		if len(hv.History) > 0 {
			note = hv.History[len(hv.History)-1].Note
		}
		return hv.State, note
	}
	layerState := func(base string) string {
		t.Helper()
		status, body := ops.do("GET", base+"/api/v1/layers/holes?carrier=viettel", "")
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if status != 200 || json.Unmarshal(body, &fc) != nil {
			t.Fatalf("holes layer of %s: %d %.300s", base, status, body)
		}
		for _, f := range fc.Features {
			if f.Properties["id"] == hole {
				s, _ := f.Properties["state"].(string)
				return s
			}
		}
		return ""
	}

	t.Run("an answer on A is shown by B", func(t *testing.T) {
		if s, _ := holeState(b); s != "open" {
			t.Fatalf("hole %s on B before the answer: %s, want open", hole, s)
		}
		status, body := vt.do("POST", a+"/api/v1/holes/"+hole+"/answers", `{"state":"planned","planned_date":"2027-03-01","plan":"new_site","note":"trạm mới ấp Phú Hòa"}`)
		if status != 200 && status != 201 {
			t.Fatalf("answer on A: %d %s", status, body)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // polling with a deadline
			s, note := holeState(b)
			ls := layerState(b)
			if s == "planned" && note == "trạm mới ấp Phú Hòa" && ls == "planned" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B after 5 s: hole %s state %q, note %q, layer state %q; want planned", hole, s, note, ls)
			}
		}
		// And back: a ruling-free change on B, shown by A.
		status, body = vt.do("POST", b+"/api/v1/holes/"+hole+"/answers", `{"state":"disputed","note":"đã có sóng"}`)
		if status != 200 && status != 201 {
			t.Fatalf("answer on B: %d %s", status, body)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // polling with a deadline
			if s, _ := holeState(a); s == "disputed" {
				break
			}
			if time.Now().After(deadline) {
				s, _ := holeState(a)
				t.Fatalf("A after 5 s: hole %s %q, want disputed", hole, s)
			}
		}
	})

	t.Run("failed sign-ins on A throttle B", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second}
		signIn := func(base, pw string) (int, string) {
			req, _ := http.NewRequest("POST", base+"/api/v1/session", strings.NewReader(fmt.Sprintf(`{"name":"lan","password":%q}`, pw)))
			req.Header.Set("Content-Type", "application/json")
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode, res.Header.Get("Retry-After")
		}
		// The free failures of a name and address, all on A.
		for i := range 5 {
			if status, _ := signIn(a, "sai"); status != http.StatusUnauthorized {
				t.Fatalf("failure %d on A: %d, want 401", i+1, status)
			}
		}
		status, retry := signIn(b, "mật khẩu đúng 123")
		if status != http.StatusTooManyRequests || retry == "" {
			t.Fatalf("the right password on B after 5 failures on A: %d (Retry-After %q), want 429 with Retry-After", status, retry)
		}
	})
}
