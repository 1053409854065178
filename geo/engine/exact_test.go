package engine_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/sim"
)

var update = flag.Bool("update", false, "rewrite the result digests in testdata")

// TestResultDigest pins everything Analyze publishes — every hole (ID,
// carrier, rank, cells, outline, centroid, figures, areas), every area
// score and roll-up, the cell statistics, team reach, the unobserved land,
// the tasks, the report bias and the summary — for the demo province
// (seed 1, as `gapmap demo` makes it) and a small national-scale grid
// (as `gapmap demo --hamlets`), as digests in testdata. Work on the
// engine's speed must leave them unchanged; a deliberate change of method
// rewrites them with -update, and the diff shows which holes and areas
// moved.
func TestResultDigest(t *testing.T) {
	cases := []struct {
		name  string
		world func() (*sim.World, error)
	}{
		{"demo province", func() (*sim.World, error) { return sim.Generate(sim.Options{Seed: 1}) }},
		{"hamlet grid", func() (*sim.World, error) {
			return sim.Scale(sim.ScaleOptions{Seed: 1, Hamlets: 400, Reports: 60_000})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.world()
			if err != nil {
				t.Fatal(err)
			}
			rs := geo.NewReporters()
			obs := make([]geo.Obs, len(w.Reports))
			for i := range w.Reports {
				obs[i] = w.Reports[i].ToObs(rs)
			}
			res, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Obs: obs, Reporters: rs, Teams: w.Teams}, geo.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			got := resultDigest(res)
			path := filepath.Join("testdata", "digest_"+strings.ReplaceAll(tc.name, " ", "_")+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if want := string(b); got != want {
				t.Errorf("result differs from %s:\n%s", path, lineDiff(want, got, 20))
			}
		})
	}
}

// resultDigest is one line per published item: a label and the SHA-256
// (first 16 hex digits) of the item printed with %+v, which prints floats
// in their shortest exact form and maps in key order.
func resultDigest(res *geo.Result) string {
	var b strings.Builder
	line := func(label string, v any) {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%+v", v)))
		fmt.Fprintf(&b, "%s %x\n", label, sum[:8])
	}
	fmt.Fprintf(&b, "holes %d areas %d cells %d teams %d unobserved %d tasks %d\n",
		len(res.Holes), len(res.Areas), len(res.Cells), len(res.Teams), len(res.Unobserved), len(res.Tasks))
	line("summary", res.Summary)
	line("report_bias", res.ReportBias)
	line("report_bias_from", res.ReportBiasFrom)
	for _, h := range res.Holes {
		line("hole "+h.ID, h)
	}
	for _, a := range res.Areas {
		line("area "+a.Code, a)
	}
	line("cells", res.Cells)
	line("teams", res.Teams)
	for _, u := range res.Unobserved {
		line("unobserved "+u.Carrier.String(), u)
	}
	line("tasks", res.Tasks)
	return b.String()
}

// lineDiff lists up to max lines of want missing from got and of got
// missing from want.
func lineDiff(want, got string, max int) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			m[sc.Text()] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for _, pair := range []struct {
		sign string
		from string
		not  map[string]bool
	}{{"-", want, g}, {"+", got, w}} {
		for _, l := range strings.Split(pair.from, "\n") {
			if l != "" && !pair.not[l] && len(out) < max {
				out = append(out, pair.sign+" "+l)
			}
		}
	}
	return strings.Join(out, "\n")
}
