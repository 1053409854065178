package gpkg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/storetest"
	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
)

// analysisVersion is the migration that adds the analysis tables.
const analysisVersion = 4

// insertOldHole stores h as ReplaceHoles did before migration 4.
func insertOldHole(t *testing.T, s *Store, h geo.Hole) {
	t.Helper()
	ctx := context.Background()
	g, err := encodeGeom(h.Geometry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO holes (geom, id, carrier, rank, priority, median_signal_dbm)
  VALUES (?, ?, ?, ?, ?, ?)`, g, h.ID, h.Carrier.String(), h.Rank, h.Priority, finite(h.MedianSignalDBm)); err != nil {
		t.Fatal(err)
	}
}

var (
	nan    = math.NaN()
	testAt = storetest.AnalysisAt
	// testAtMs is testAt as stored: in UTC, to the millisecond (the
	// driver reads a DATETIME column back as a time.Time).
	testAtMs = time.Date(2026, 7, 1, 2, 30, 15, 123000000, time.UTC)
)

var testAnalysis = storetest.Analysis

// queryRows returns every row of query as column → value.
func queryRows(t *testing.T, s *Store, query string, args ...any) []map[string]any {
	t.Helper()
	rows, err := s.rdb.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantFields fails t when row lacks one of want's values. Floats compare
// exactly: SQLite keeps a REAL's 64 bits.
func wantFields(t *testing.T, what string, row map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := row[k]
		if !ok {
			t.Errorf("%s: no column %s", what, k)
			continue
		}
		if b, isBytes := got.([]byte); isBytes {
			got = string(b)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, w)
		}
	}
}

func TestSaveAnalysisRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.ReplaceAreas(ctx, "2025", vnAreas("2025")); err != nil {
		t.Fatal(err)
	}
	a := testAnalysis()
	if err := s.SaveAnalysis(ctx, a); err != nil {
		t.Fatal(err)
	}

	holes := queryRows(t, s, `SELECT * FROM holes ORDER BY fid`)
	if len(holes) != len(a.Holes) {
		t.Fatalf("%d holes stored, want %d", len(holes), len(a.Holes))
	}
	for i, h := range a.Holes {
		row := holes[i]
		g, err := decodeGeom(row["geom"].([]byte))
		if err != nil {
			t.Fatalf("hole %s: %v", h.ID, err)
		}
		if !reflect.DeepEqual(g, h.Geometry) {
			t.Errorf("hole %s: geometry %v, want %v", h.ID, g, h.Geometry)
		}
		codes, names := make([]string, len(h.Areas)), make([]string, len(h.Areas))
		for j, r := range h.Areas {
			codes[j], names[j] = r.Code, r.Name
		}
		cj, _ := json.Marshal(codes)
		nj, _ := json.Marshal(names)
		wantFields(t, "hole "+h.ID, row, map[string]any{
			"id": h.ID, "carrier": h.Carrier.String(), "state": "open", "rank": int64(h.Rank),
			"priority": h.Priority, "severity": h.Severity, "confidence": h.Confidence, "area_km2": h.AreaKm2,
			"cells": int64(h.Cells), "population_affected": h.Population, "households_affected": h.Households,
			"reports": int64(h.Reports), "weak_reports": int64(h.Weak), "reporters": int64(h.Reporters),
			"weak_share": h.WeakShare, "weak_low": h.WeakLow, "median_signal_dbm": finite(h.MedianSignalDBm),
			"first_observed": h.FirstObserved.Format(time.RFC3339Nano), "last_observed": h.LastObserved.Format(time.RFC3339Nano),
			"area_codes": string(cj), "area_names": string(nj), "computed_at": testAtMs,
		})
	}
	if holes[0]["median_signal_dbm"] != nil {
		t.Errorf("NaN median of hole %s stored as %v, want NULL", a.Holes[0].ID, holes[0]["median_signal_dbm"])
	}
	var names []string
	if err := json.Unmarshal([]byte(holes[1]["area_names"].(string)), &names); err != nil || len(names) != 2 ||
		!bytes.Equal([]byte(names[0]), []byte("Khóm Mỹ Thới")) || !bytes.Equal([]byte(names[1]), []byte("Ấp Phú Hòa Đông")) {
		t.Errorf("area names of the dead zone %q, %v", holes[1]["area_names"], err)
	}

	scores := queryRows(t, s, `SELECT * FROM area_scores ORDER BY fid`)
	if len(scores) != len(a.Areas) {
		t.Fatalf("%d area scores stored, want %d", len(scores), len(a.Areas))
	}
	for i, sc := range a.Areas {
		want := map[string]any{
			"vintage": sc.Vintage, "code": sc.Code, "name": sc.Name, "parent_code": nullString(sc.ParentCode),
			"level": sc.Level.String(), "children": int64(sc.Children), "population": sc.Population,
			"households": sc.Households, "households_estimated": boolInt(sc.HouseholdsEstimated),
			"land_km2": sc.LandKm2, "reports": int64(sc.Reports), "weak": int64(sc.Weak),
			"weak_share": sc.WeakShare, "weak_low": sc.WeakLow, "hole_km2": sc.HoleKm2, "hole_share": sc.HoleShare,
			"dead_km2": sc.DeadKm2, "dead_share": sc.DeadShare, "population_affected": sc.PopulationAffected,
			"households_affected": sc.HouseholdsAffected, "teams": int64(sc.Reach.Teams),
			"members": int64(sc.Reach.Members), "members_per_1000_households": finite(sc.Reach.MembersPer1000HH),
			"households_reached": sc.Reach.HouseholdsReached, "reached_share": sc.Reach.ReachedShare,
			"nearest_team_km": finite(sc.Reach.NearestTeamKm), "reach_low": boolInt(sc.Reach.Low),
			"action": string(sc.Action), "priority": sc.Priority, "rank": int64(sc.Rank), "computed_at": testAtMs,
		}
		for _, c := range geo.Carriers {
			cs := geo.CarrierStats{MedianSignalDBm: nan}
			for _, x := range sc.Carriers {
				if x.Carrier == c {
					cs = x
				}
			}
			p := c.String() + "_"
			want[p+"reports"], want[p+"weak"] = int64(cs.Reports), int64(cs.Weak)
			want[p+"weak_share"], want[p+"weak_low"] = cs.WeakShare, cs.WeakLow
			want[p+"median_signal_dbm"] = finite(cs.MedianSignalDBm)
			want[p+"hole_km2"], want[p+"hole_share"] = cs.HoleKm2, cs.HoleShare
		}
		wantFields(t, "area score "+sc.Code, scores[i], want)
	}
	if !bytes.Equal([]byte(scores[0]["name"].(string)), []byte("Ấp Phú Hòa Đông")) {
		t.Errorf("name %q", scores[0]["name"])
	}
	if scores[0]["viettel_median_signal_dbm"] != nil || scores[0]["mobifone_median_signal_dbm"] != -121.5 {
		t.Errorf("medians: viettel %v (want NULL), mobifone %v (want -121.5)",
			scores[0]["viettel_median_signal_dbm"], scores[0]["mobifone_median_signal_dbm"])
	}

	// The view draws each loaded area with its scores; the roll-up has no
	// boundary and is not in it.
	view := queryRows(t, s, `SELECT v.fid, v.code, v.name, v.viettel_hole_share, v.geom = a.geom AS same
  FROM scored_areas v JOIN areas a ON a.fid = v.fid ORDER BY v.fid`)
	if len(view) != 2 {
		t.Fatalf("scored_areas has %d rows, want 2: %v", len(view), view)
	}
	for i, row := range view {
		wantFields(t, "scored_areas "+a.Areas[i].Code, row, map[string]any{
			"code": a.Areas[i].Code, "name": a.Areas[i].Name, "same": int64(1),
			"viettel_hole_share": tables.CarrierStats(a.Areas[i].Carriers, geo.Viettel).HoleShare,
		})
	}

	meta := queryRows(t, s, `SELECT * FROM analysis`)
	if len(meta) != 1 {
		t.Fatalf("analysis has %d rows, want 1", len(meta))
	}
	wantFields(t, "analysis", meta[0], map[string]any{
		"computed_at": testAtMs, "reports": int64(1234), "holes": int64(1), "dead_zones": int64(1), "areas": int64(3),
	})

	// The bounds GIS tools zoom to: the holes', and the areas' for the view.
	bounds := queryRows(t, s, `SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents
  WHERE table_name IN ('holes', 'scored_areas') ORDER BY table_name`)
	for _, row := range bounds {
		want := map[string]any{"min_x": 105.8, "min_y": 21.0, "max_x": 106.05, "max_y": 21.25}
		wantFields(t, "bounds of "+row["table_name"].(string), row, want)
	}
	checkForeignKeys(t, s)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestAnalysisMigration opens a file written before migration 4: its hole
// survives as an open one without a computation time, and the analysis
// can then be saved.
func TestAnalysisMigration(t *testing.T) {
	ctx := context.Background()
	s := migratedFrom(t, analysisVersion, func(old *Store) {
		if err := old.SaveAnalysis(ctx, testAnalysis()); err == nil {
			t.Fatal("SaveAnalysis worked before the analysis migration")
		}
	})
	rows := queryRows(t, s, `SELECT id, state, computed_at, reporters FROM holes`)
	if len(rows) != 1 {
		t.Fatalf("%d holes after migration, want 1", len(rows))
	}
	wantFields(t, "old hole", rows[0], map[string]any{"id": "h1", "state": "open", "computed_at": nil, "reporters": nil})
	if err := s.SaveAnalysis(ctx, testAnalysis()); err != nil {
		t.Fatalf("save on the migrated file: %v", err)
	}
	if _, _, _, h, err := s.Counts(ctx); err != nil || h != 2 {
		t.Errorf("Counts: %d holes, %v; want 2", h, err)
	}
}

// TestGDALReadsAnalysis checks that GDAL lists the saved analysis as QGIS
// would show it: the holes and the scored areas as multipolygon layers,
// the scores and the analysis row as attribute tables, with the figures
// typed (medians Real, counts Integer, flags Boolean, times DateTime).
func TestGDALReadsAnalysis(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not on PATH (apt-get install gdal-bin); the saved analysis is not checked with GDAL")
	}
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.ReplaceAreas(ctx, "2025", vnAreas("2025")); err != nil {
		t.Fatal(err)
	}
	a := testAnalysis()
	if err := s.SaveAnalysis(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(ogrinfo, append([]string{"-ro"}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s\n%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
		}
		if e := stderr.String(); strings.Contains(e, "ERROR") || strings.Contains(e, "Warning") {
			t.Errorf("ogrinfo %s stderr:\n%s", strings.Join(args, " "), e)
		}
		return stdout.String()
	}
	out := run("-so", "-al", path)
	for _, l := range []struct {
		name, geom string
		n          int
	}{
		{"holes", "Multi Polygon", len(a.Holes)},
		{"scored_areas", "Multi Polygon", 2},
		{"area_scores", "None", len(a.Areas)},
		{"analysis", "None", 1},
	} {
		re := regexp.MustCompile(fmt.Sprintf(`(?m)^Layer name: %s\n(?:.*\n)*?Geometry: %s\nFeature Count: %d\n`, l.name, l.geom, l.n))
		if !re.MatchString(out) {
			t.Errorf("ogrinfo output lacks layer %s (%s, %d features)", l.name, l.geom, l.n)
		}
	}
	// Field types per layer: the text between one "Layer name:" and the next.
	layers := map[string]string{}
	for _, part := range strings.Split(out, "Layer name: ")[1:] {
		name, rest, _ := strings.Cut(part, "\n")
		layers[name] = rest
	}
	for layer, fields := range map[string][]string{
		// GeoPackage INTEGER is 64-bit: GDAL lists it as Integer64.
		"holes": {"state: String", "carrier: String", "reports: Integer64", "weak_reports: Integer64",
			"reporters: Integer64", "median_signal_dbm: Real", "computed_at: DateTime"},
		"area_scores": {"vintage: String", "code: String", "viettel_median_signal_dbm: Real",
			"vietnamobile_median_signal_dbm: Real", "viettel_weak_share: Real", "viettel_reports: Integer64",
			"reports: Integer64", "population: Integer64", "households_estimated: Integer(Boolean)",
			"reach_low: Integer(Boolean)", "priority: Real", "rank: Integer64", "computed_at: DateTime"},
		"scored_areas": {"code: String", "mobifone_median_signal_dbm: Real", "mobifone_weak: Integer64",
			"hole_share: Real", "action: String", "computed_at: DateTime"},
		"analysis": {"computed_at: DateTime", "reports: Integer64", "holes: Integer64", "dead_zones: Integer64"},
	} {
		for _, f := range fields {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(f) + ` \(`).MatchString(layers[layer]) {
				t.Errorf("ogrinfo: layer %s lacks field %q", layer, f)
			}
		}
	}
	if t.Failed() {
		t.Logf("ogrinfo output:\n%s", out)
	}

	// Read every feature of the new layers.
	out = run(path, "scored_areas", "area_scores", "analysis", "holes")
	for _, want := range []string{
		"name (String) = Ấp Phú Hòa Đông",
		"name (String) = Xã Hưng Yên",
		"viettel_median_signal_dbm (Real) = (null)",
		"mobifone_median_signal_dbm (Real) = -121.5",
		"median_signal_dbm (Real) = -121.5",
		"state (String) = open",
		"computed_at (DateTime) = 2026/07/01 02:30:15.123+00",
		"reports (Integer64) = 1234",
		"MULTIPOLYGON (((105.8 21.0,105.9 21.0,105.9 21.1,105.8 21.1,105.8 21.0),(105.82 21.02,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ogrinfo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("ogrinfo output:\n%s", out)
	}
}

// BenchmarkSaveAnalysis times one SaveAnalysis of the demo province's
// analysis (the synthetic province `gapmap serve` seeds: 60,000 reports)
// into a store holding its areas, and of the same holes with 10,000 area
// scores (a province's hamlets), the scores cloned from the demo's.
func BenchmarkSaveAnalysis(b *testing.B) {
	ctx := context.Background()
	w, err := sim.Generate(sim.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	rs := geo.NewReporters()
	obs := make([]geo.Obs, len(w.Reports))
	for i := range w.Reports {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	res, err := engine.Analyze(ctx, engine.Input{Areas: w.Areas, Index: index.New(w.Areas), Obs: obs, Reporters: rs, Teams: w.Teams}, geo.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	demo := geo.Analysis{ComputedAt: time.Now(), Reports: res.Summary.Reports, Holes: res.Holes, Areas: res.Areas}
	big := demo
	big.Areas = make([]geo.AreaScore, 0, 10_000)
	for i := 0; len(big.Areas) < 10_000; i++ {
		sc := res.Areas[i%len(res.Areas)]
		sc.Code = fmt.Sprintf("%s-%d", sc.Code, i)
		big.Areas = append(big.Areas, sc)
	}
	vertices := 0
	for _, h := range res.Holes {
		for _, p := range h.Geometry {
			for _, r := range p {
				vertices += len(r)
			}
		}
	}
	// changed is a like the next analysis after one report: a hole's
	// and a score's figures changed, all else as it was.
	changed := func(a geo.Analysis) geo.Analysis {
		c := a
		c.ComputedAt = a.ComputedAt.Add(time.Second)
		c.Holes = slices.Clone(a.Holes)
		c.Holes[0].Reports++
		c.Areas = slices.Clone(a.Areas)
		c.Areas[0].Reports++
		return c
	}
	for _, bc := range []struct {
		name string
		a    geo.Analysis
	}{{"demo", demo}, {"areas=10000", big}} {
		for _, mode := range []string{"whole", "one-report"} {
			b.Run(bc.name+"/"+mode, func(b *testing.B) {
				s, err := Open(ctx, b.TempDir()+"/gapmap.gpkg")
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.ReplaceAreas(ctx, w.Areas[0].Vintage, w.Areas); err != nil {
					b.Fatal(err)
				}
				next := [2]geo.Analysis{bc.a, changed(bc.a)}
				if err := s.SaveAnalysis(ctx, next[1]); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					a := next[i%2]
					a.ComputedAt = a.ComputedAt.Add(time.Duration(i) * time.Minute)
					if mode == "whole" {
						s.saved = nil // as a first save, or after another process's
					}
					if err := s.SaveAnalysis(ctx, a); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(bc.a.Holes)), "holes")
				b.ReportMetric(float64(vertices), "hole_vertices")
				b.ReportMetric(float64(len(bc.a.Areas)), "scores")
			})
		}
	}
}

func TestSaveAnalysisWritesWhatChanged(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	fresh, _ := openTemp(t)
	for _, st := range []*Store{s, fresh} {
		if err := st.ReplaceAreas(ctx, "2025", vnAreas("2025")); err != nil {
			t.Fatal(err)
		}
	}
	a1 := testAnalysis()
	// Milliseconds that end in zeros, which a time read back and
	// formatted again would drop.
	a1.ComputedAt = time.Date(2026, 7, 1, 2, 30, 15, 120_000_000, time.UTC)
	extra := a1.Holes[0]
	extra.ID, extra.Carrier, extra.Rank = "mobifone-77aa", geo.MobiFone, 1
	a1.Holes = append(a1.Holes, extra)
	if err := s.SaveAnalysis(ctx, a1); err != nil {
		t.Fatal(err)
	}
	fids := func(st *Store, table, key string) map[string]int64 {
		m := map[string]int64{}
		for _, r := range queryRows(t, st, `SELECT fid, `+key+` AS k FROM `+table) {
			m[fmt.Sprint(r["k"])] = r["fid"].(int64)
		}
		return m
	}
	holeFids, scoreFids := fids(s, "holes", "id"), fids(s, "area_scores", "code")

	a2 := testAnalysis()
	a2.ComputedAt = a1.ComputedAt.Add(time.Minute)
	a2.Holes[0].Reports++ // changed
	added := a2.Holes[0]
	added.ID, added.Carrier = "vinaphone-9b01", geo.VinaPhone
	added.Geometry = orb.MultiPolygon{{storetest.Square(106.5, 10.5, 0.02)}} // past the others: the bounds grow
	a2.Holes = append(a2.Holes, added)                                       // "mobifone-77aa" is gone
	a2.Areas[1].Reports = 3                                                  // changed
	a2.Areas = a2.Areas[:2]                                                  // "X01" is gone
	for _, st := range []*Store{s, fresh} {
		if err := st.SaveAnalysis(ctx, a2); err != nil {
			t.Fatal(err)
		}
	}
	const holeCols = `id, carrier, rank, priority, severity, confidence, area_km2, population_affected,
  households_affected, reports, weak_reports, weak_share, median_signal_dbm, first_observed, last_observed,
  area_codes, reporters, cells, weak_low, area_names, state, hex(geom) AS geom`
	scoreCols := strings.Join(slices.DeleteFunc(slices.Clone(tables.ScoreColumns), func(c string) bool { return c == "computed_at" }), ", ")
	for _, q := range []string{`SELECT ` + holeCols + ` FROM holes ORDER BY id`, `SELECT ` + scoreCols + ` FROM area_scores ORDER BY vintage, code`,
		`SELECT computed_at, reports, holes, dead_zones, areas FROM analysis`, `SELECT table_name, min_x, max_x, min_y, max_y FROM gpkg_contents ORDER BY table_name`} {
		if got, want := queryRows(t, s, q), queryRows(t, fresh, q); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", q, got, want)
		}
	}
	at1, at2 := dateTime(a1.ComputedAt), dateTime(a2.ComputedAt)
	for _, c := range []struct {
		table, key, k string
		rewritten     bool
	}{{"holes", "id", "viettel-8a1f", true}, {"holes", "id", "all-33c0", false}, {"holes", "id", "vinaphone-9b01", true},
		{"area_scores", "code", "001", false}, {"area_scores", "code", "002", true}} {
		rows := queryRows(t, s, `SELECT fid, strftime('%Y-%m-%dT%H:%M:%fZ', computed_at) AS at FROM `+c.table+` WHERE `+c.key+` = ?`, c.k)
		if len(rows) != 1 {
			t.Fatalf("%s %s: %d rows", c.table, c.k, len(rows))
		}
		old := map[string]map[string]int64{"holes": holeFids, "area_scores": scoreFids}[c.table][c.k]
		fid, at := rows[0]["fid"].(int64), rows[0]["at"]
		switch {
		case c.rewritten && (fid == old || at != at2):
			t.Errorf("%s %s: fid %d (was %d), computed_at %v; want it written again at %s", c.table, c.k, fid, old, at, at2)
		case !c.rewritten && (fid != old || at != at1):
			t.Errorf("%s %s: fid %d (was %d), computed_at %v; want it left as saved at %s", c.table, c.k, fid, old, at, at1)
		}
	}

	// Another process saved an analysis since: everything is written
	// again, whatever this store remembers.
	if _, err := s.db.ExecContext(ctx, `UPDATE analysis SET computed_at = '2026-01-01T00:00:00.000Z'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE holes SET reports = -1 WHERE id = 'all-33c0'`); err != nil {
		t.Fatal(err)
	}
	a3 := a2
	a3.ComputedAt = a2.ComputedAt.Add(time.Minute)
	if err := s.SaveAnalysis(ctx, a3); err != nil {
		t.Fatal(err)
	}
	if rows := queryRows(t, s, `SELECT reports FROM holes WHERE id = 'all-33c0'`); len(rows) != 1 || rows[0]["reports"] != int64(a3.Holes[1].Reports) {
		t.Errorf("after another process's save: %v, want the hole written again", rows)
	}
	// A save that fails leaves the stored analysis as it was, and the
	// next one starts from it.
	dup := a3
	dup.ComputedAt = a3.ComputedAt.Add(time.Minute)
	dup.Holes = append(slices.Clone(a3.Holes), a3.Holes[0])
	if err := s.SaveAnalysis(ctx, dup); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("duplicate hole: %v", err)
	}
	a4 := a3
	a4.ComputedAt = dup.ComputedAt.Add(time.Minute)
	a4.Holes = slices.Clone(a3.Holes)
	a4.Holes[1].Weak--
	for _, st := range []*Store{s, fresh} {
		if err := st.SaveAnalysis(ctx, a4); err != nil {
			t.Fatal(err)
		}
	}
	q := `SELECT ` + holeCols + ` FROM holes ORDER BY id`
	if got, want := queryRows(t, s, q), queryRows(t, fresh, q); !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed save:\n got %v\nwant %v", got, want)
	}
}
