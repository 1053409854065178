package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/paulmach/orb"
)

// waitFor polls until ok is true, failing the test after 5 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not served after 5 s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// TestOtherProcessWritesReachLayers writes to the server's store through
// a second handle, as gapmap import would from another process, and
// finds the new areas in the areas layer, the area document and the OGC
// collection, then new reports in them in the reports layer and the
// area's count.
func TestOtherProcessWritesReachLayers(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	other, err := gpkg.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	areaCodes := func() []string {
		var out []string
		for _, f := range parseFC(t, e.get("/api/v1/layers/areas").body).Features {
			out = append(out, f.Properties.MustString("code", ""))
		}
		return out
	}
	if got := strings.Join(areaCodes(), " "); got != "H1 H2 H3" {
		t.Fatalf("areas before: %s", got)
	}
	h4 := geo.Area{Code: "H4", Name: "Ấp Tân Lập", ParentCode: "C2", Level: geo.LevelHamlet, Population: 700,
		Geometry: orb.MultiPolygon{{square(105.40, 10.80, 0.02)}}}
	if err := other.ReplaceAreas(ctx, "2025", append(append([]geo.Area(nil), testAreas...), h4)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "area H4 in the areas layer", func() bool { return strings.Join(areaCodes(), " ") == "H1 H2 H3 H4" })
	if r := e.get("/api/v1/areas/H4"); r.status != 200 || !strings.Contains(string(r.body), "Ấp Tân Lập") {
		t.Errorf("/api/v1/areas/H4: %d %.200s", r.status, r.body)
	}
	if r := e.get("/ogc/collections/areas/items/H4"); r.status != 200 {
		t.Errorf("OGC item H4: %d %.200s", r.status, r.body)
	}
	if r := e.get("/api/v1/layers/areas?bbox=105.39,10.79,105.43,10.83"); len(parseFC(t, r.body).Features) != 1 {
		t.Errorf("areas in H4's box: %s", r.body)
	}

	cli, err := service.New(ctx, other, service.Options{NoAnalysis: true, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	csv := "id,lat,lon,observed_at,carrier,tech,signal_dbm\n" +
		"x1,10.805,105.405,2025-08-20T08:00:00+07:00,viettel,4G,-126\n" +
		"x2,10.806,105.406,2025-08-20T09:00:00+07:00,viettel,4G,-127\n"
	if res, err := cli.ImportReports(ctx, service.CommandLine("ict"), strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV}); err != nil || res.Accepted != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	h4Reports := func() int {
		r := e.get("/api/v1/areas/H4")
		var a struct {
			Reports int `json:"reports"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("/api/v1/areas/H4: %d %.200s", r.status, r.body)
		}
		return a.Reports
	}
	waitFor(t, "the imported reports in H4", func() bool { return h4Reports() == 2 })
	fc := parseFC(t, e.get("/api/v1/layers/reports?bbox=105.40,10.80,105.42,10.82").body)
	if len(fc.Features) != 2 {
		t.Errorf("reports layer in H4: %d features, want 2", len(fc.Features))
	}
	if n := len(parseFC(t, e.get("/api/v1/layers/reports").body).Features); n != 32 {
		t.Errorf("reports layer: %d features, want 30 + 2", n)
	}
}
