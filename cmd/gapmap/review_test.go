package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
)

// TestReviewCommand: gapmap review records a verdict as a reviewer's over
// HTTP would be, in the audit log as the command line's; mistakes are
// usage errors naming the flag, an unknown report an error.
func TestReviewCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.gpkg")
	mustRun(t, "import", "areas", "--db", db, filepath.Join("testdata", "areas.geojson"))
	mustRun(t, "import", "reports", "--db", db, filepath.Join("testdata", "reports.csv"))
	if out, _ := mustRun(t, "review", "--db", db, "--id", "r2", "--status", "rejected", "--comment", "trùng lặp"); out != "report r2: rejected\n" {
		t.Errorf("review said %q", out)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no id", []string{"--status", "rejected"}, 2, "--id"},
		{"unknown status", []string{"--id", "r2", "--status", "maybe"}, 2, "status"},
		{"unknown report", []string{"--id", "nope", "--status", "rejected"}, 1, "nope"},
		{"stray argument", []string{"--id", "r2", "--status", "rejected", "extra"}, 2, "extra"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, _, _ := runCLI(t, append([]string{"review", "--db", db}, tc.args...)...)
			if err == nil || exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v (exit %d), want exit %d naming %q", err, exitCode(err), tc.code, tc.want)
			}
		})
	}
	ctx := context.Background()
	st, err := gpkg.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rvs, err := st.Reviews(ctx)
	if err != nil || len(rvs) != 1 || rvs[0].ReportID != "r2" || rvs[0].Status != geo.ReviewRejected || rvs[0].Comment != "trùng lặp" {
		t.Errorf("reviews %+v %v, want r2 rejected", rvs, err)
	}
	es, err := st.Audit(ctx, 0, 1)
	if err != nil || len(es) != 1 || es[0].Action != "report.review" || es[0].Via != "cli" || es[0].Target != "r2" {
		t.Errorf("audit %+v %v, want the review by the command line", es, err)
	}
}
