package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// tilePath is the path of the tile of layer at zoom z holding p.
func tilePath(layer string, p orb.Point, z int) string {
	t := maptile.At(p, maptile.Zoom(z))
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, t.Z, t.X, t.Y)
}

// decodeTile decodes a tile's one layer (nil for an empty tile), its
// geometries in tile units.
func decodeTile(t *testing.T, path string, body []byte) *mvt.Layer {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("%s: not a vector tile: %v", path, err)
	}
	if len(ls) != 1 {
		t.Fatalf("%s: %d layers, want 1", path, len(ls))
	}
	return ls[0]
}

// tileAt fetches and decodes a tile, checking its status and type.
func (e *env) tileAt(path string) *mvt.Layer {
	e.t.Helper()
	r := e.get(path)
	if r.status != 200 {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		e.t.Errorf("%s: Content-Type %q", path, ct)
	}
	return decodeTile(e.t, path, r.body)
}

// inTile keeps the point features of l inside the tile proper (not its
// buffer).
func inTile(l *mvt.Layer) []*geojson.Feature {
	var fs []*geojson.Feature
	if l == nil {
		return nil
	}
	for _, f := range l.Features {
		p := f.Geometry.(orb.Point)
		if p[0] >= 0 && p[0] < tileExtent && p[1] >= 0 && p[1] < tileExtent {
			fs = append(fs, f)
		}
	}
	return fs
}

func sumProp(fs []*geojson.Feature, k string) int {
	n := 0
	for _, f := range fs {
		n += int(f.Properties.MustFloat64(k, 0))
	}
	return n
}

// TestTiles: the areas, holes and reports tiles hold what the layers do,
// as the viewer may see it; bad tiles and filters are refused naming the
// field.
func TestTiles(t *testing.T) {
	e := newEnv(t, Options{})
	h1 := orb.Point{105.11, 10.51}
	staff := e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	carrier := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))

	t.Run("areas", func(t *testing.T) {
		// The three hamlets are in one tile at zoom 9.
		l := e.anon().tileAt(tilePath("areas", h1, 9))
		if l == nil || l.Name != "areas" || l.Extent != 4096 {
			t.Fatalf("areas tile: %+v", l)
		}
		var codes []string
		for _, f := range l.Features {
			codes = append(codes, f.Properties.MustString("code"))
			if _, ok := f.Geometry.(orb.Polygon); !ok {
				t.Errorf("%s: %T, want a polygon", f.Properties["code"], f.Geometry)
			}
			for _, k := range []string{"name", "level", "observed_share", "dead_share", "action"} {
				if _, ok := f.Properties[k]; !ok {
					t.Errorf("%s: no %s", f.Properties["code"], k)
				}
			}
			if _, ok := f.Properties["reports"]; ok {
				t.Errorf("%s: reports at zoom 9, below slimZoom", f.Properties["code"])
			}
		}
		for _, f := range e.anon().tileAt(tilePath("areas", h1, slimZoom)).Features {
			if _, ok := f.Properties["reports"]; !ok {
				t.Errorf("%s: no reports at slimZoom", f.Properties["code"])
			}
		}
		slices.Sort(codes)
		if !slices.Equal(codes, []string{"H1", "H2", "H3"}) {
			t.Errorf("areas %v, want H1, H2 and H3", codes)
		}
		// A tile far away is empty, an empty body.
		if r := e.anon().get(tilePath("areas", orb.Point{100, 20}, 12)); r.status != 200 || len(r.body) != 0 {
			t.Errorf("empty tile: %d, %d bytes", r.status, len(r.body))
		}
		if l := e.anon().tileAt(tilePath("areas", h1, 12) + "?level=commune"); l != nil {
			t.Errorf("level=commune: %d areas", len(l.Features))
		}
	})

	t.Run("holes as each viewer sees them", func(t *testing.T) {
		path := tilePath("holes", h1, 12)
		full := e.tileAt(path)
		if full == nil || len(full.Features) == 0 {
			t.Fatal("no holes in the admin's tile")
		}
		for _, f := range full.Features {
			if _, ok := f.Properties["reports"]; !ok {
				t.Errorf("admin: hole %v without its evidence", f.Properties["id"])
			}
		}
		for who, as := range map[string]*env{"public": e.anon(), "staff elsewhere": e.as(e.user("staff-c2", geo.RoleStaff, geo.CarrierUnknown, "C2"))} {
			l := as.tileAt(path)
			if l == nil || len(l.Features) != len(full.Features) {
				t.Fatalf("%s: %v holes, want %d", who, l, len(full.Features))
			}
			for _, f := range l.Features {
				for _, k := range []string{"reports", "weak_reports", "median_signal_dbm", "prob_weak", "rank", "priority", "households_affected"} {
					if _, ok := f.Properties[k]; ok {
						t.Errorf("%s sees %s of hole %v", who, k, f.Properties["id"])
					}
				}
				if f.Properties.MustString("carrier") == "" || f.Properties.MustFloat64("area_km2", 0) <= 0 {
					t.Errorf("%s: outline without carrier or size: %v", who, f.Properties)
				}
			}
		}
		// Staff of the commune see the holes touching it in full.
		for _, f := range staff.tileAt(path).Features {
			if _, ok := f.Properties["reports"]; !ok {
				t.Errorf("staff of C1: hole %v without its evidence", f.Properties["id"])
			}
		}
		// The carrier's own in full; only its own with carrier=viettel.
		for _, f := range carrier.tileAt(path + "?carrier=viettel").Features {
			if f.Properties.MustString("carrier") != "viettel" {
				t.Errorf("carrier=viettel: a %s hole", f.Properties["carrier"])
			}
			if _, ok := f.Properties["reports"]; !ok {
				t.Errorf("carrier: its own hole %v without its evidence", f.Properties["id"])
			}
		}
		// With holes hidden from the public, the public is asked to sign in.
		hidden := newEnv(t, Options{PublicHoles: geo.HoleHidden})
		wantProblem(t, hidden.anon().get(path), 401, "")
	})

	t.Run("reports in the viewer's reach", func(t *testing.T) {
		// All 30 reports are in H1 and H2, in one tile at zoom 9.
		path := tilePath("reports", h1, 9)
		l := e.tileAt(path)
		fs := inTile(l)
		if got := sumProp(fs, "reports"); got != 30 {
			t.Errorf("zoom 9: %d reports in %d features, want 30", got, len(fs))
		}
		if w := sumProp(fs, "weak"); w != 20 {
			t.Errorf("zoom 9: %d weak, want 20", w)
		}
		if len(fs) >= 30 {
			t.Errorf("zoom 9: %d features for 30 reports: not clustered", len(fs))
		}
		// From zoom 16 on, each report is itself, with its figures and
		// never its reporter.
		ids := map[string]bool{}
		for _, z := range []int{16, 18} {
			for _, p := range []orb.Point{{105.104, 10.504}, {105.110, 10.511}, {105.124, 10.506}} {
				for _, f := range inTile(e.tileAt(tilePath("reports", p, z))) {
					if f.Properties.MustFloat64("reports", 0) != 1 {
						t.Errorf("zoom %d: a cluster of %v", z, f.Properties["reports"])
					}
					for _, k := range []string{"id", "observed_at", "carrier", "tech", "signal_dbm"} {
						if _, ok := f.Properties[k]; !ok {
							t.Errorf("zoom %d: report without %s: %v", z, k, f.Properties)
						}
					}
					if _, ok := f.Properties["reporter"]; ok {
						t.Error("a tile shows a reporter")
					}
					ids[f.Properties.MustString("id")] = true
				}
			}
		}
		if len(ids) == 0 {
			t.Error("no single reports at zoom 16 and 18")
		}
		// A filter, and the staff's reach: an admin's report in H3 (C2) is
		// not in the staff's tile of H3.
		if got := sumProp(inTile(e.tileAt(path+"?carrier=mobifone")), "reports"); got != 0 {
			t.Errorf("carrier=mobifone: %d reports", got)
		}
		h3 := strings.NewReplacer("10.505", "10.705", "105.105", "105.305").Replace(validReport)
		if r := e.do("POST", "/api/v1/reports", "application/json", []byte(h3)); r.status != 201 {
			t.Fatalf("post: %d %s", r.status, r.body)
		}
		e.srv.WaitIdle()
		p3 := tilePath("reports", orb.Point{105.305, 10.705}, 12)
		if got := sumProp(inTile(e.tileAt(p3)), "reports"); got != 1 {
			t.Errorf("admin: %d reports in H3's tile, want 1", got)
		}
		if l := staff.tileAt(p3); l != nil && sumProp(inTile(l), "reports") != 0 {
			t.Errorf("staff of C1 see %d reports of C2", sumProp(inTile(l), "reports"))
		}
		if got := sumProp(inTile(staff.tileAt(path)), "reports"); got != 30 {
			t.Errorf("staff of C1: %d reports in the tile of C1 and C2, want C1's 30", got)
		}
		if got := sumProp(inTile(e.tileAt(path)), "reports"); got != 31 {
			t.Errorf("admin: %d reports in the tile of C1 and C2, want 31", got)
		}
		wantProblem(t, e.anon().get(path), 401, "")
		wantProblem(t, carrier.get(path), 403, "")
	})

	t.Run("gzip and revalidation", func(t *testing.T) {
		path := tilePath("areas", h1, 12)
		plain := e.anon().get(path)
		r := e.anon().do("GET", path, "", nil, "Accept-Encoding", "gzip")
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q", r.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, plain.body) {
			t.Error("the gzip does not decompress to the tile")
		}
		tag := plain.header.Get("ETag")
		if tag == "" || r.header.Get("ETag") != tag || plain.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("ETag %q and %q, Cache-Control %q", tag, r.header.Get("ETag"), plain.header.Get("Cache-Control"))
		}
		if r := e.anon().do("GET", path, "", nil, "If-None-Match", tag); r.status != 304 || len(r.body) != 0 {
			t.Errorf("If-None-Match: %d, %d bytes", r.status, len(r.body))
		}
		if r := e.get(tilePath("reports", h1, 12)); !strings.Contains(r.header.Get("Cache-Control"), "private") {
			t.Errorf("reports tile Cache-Control %q", r.header.Get("Cache-Control"))
		}
	})

	t.Run("bad requests name the field", func(t *testing.T) {
		for _, c := range []struct{ path, field string }{
			{"/tiles/areas/23/0/0.mvt", "z"},
			{"/tiles/areas/x/0/0.mvt", "z"},
			{"/tiles/areas/2/4/0.mvt", "x"},
			{"/tiles/areas/2/0/-1.mvt", "y"},
			{"/tiles/areas/2/0/0.mvt?bbox=1,2,3,4", "bbox"},
			{"/tiles/reports/2/0/0.mvt?carrier=nobody", "carrier"},
			{"/tiles/holes/2/0/0.mvt?limit=3", "limit"},
		} {
			wantProblem(t, e.get(c.path), 400, c.field)
		}
		if r := e.get("/tiles/teams/2/0/0.mvt"); r.status != 404 {
			t.Errorf("teams tiles: %d", r.status)
		}
	})
}

// provinceTiles are the tiles of zooms zs over the box of the simulated
// province's areas.
func provinceTiles(st *state, zs ...int) []maptile.Tile {
	b := st.cat.cols["areas"].bbox
	var ts []maptile.Tile
	for _, z := range zs {
		lo, hi := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z)), maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				ts = append(ts, maptile.New(x, y, maptile.Zoom(z)))
			}
		}
	}
	return ts
}

// TestTilesAcrossPublications: after reports are posted, rejected and
// imported, every tile a viewer gets is byte for byte the tile made from
// scratch over the same analysis; the tiles no change touches keep their
// bytes from the publication before, and those a change touches are
// made again.
func TestTilesAcrossPublications(t *testing.T) {
	e := newPublishEnv(t, 3000)
	viewers := map[string]string{"admin": e.token, "public": "", "carrier": e.carrierToken()}
	st := e.srv.cur.load()
	var paths []string
	for _, tl := range provinceTiles(st, 9, 11, 12) {
		for _, layer := range []string{"areas", "holes", "reports"} {
			paths = append(paths, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, tl.Z, tl.X, tl.Y))
		}
	}
	paths = append(paths, "/tiles/reports/11/1628/951.mvt?carrier=viettel", "/tiles/holes/9/407/237.mvt?carrier=all")
	// Tiles near the reports to be posted, at zooms where they are single.
	for k := 0; k < 40; k++ {
		src := e.w.Reports[(k*7919)%len(e.w.Reports)]
		for _, z := range []int{15, 17} {
			paths = append(paths, tilePath("reports", orb.Point{src.Lon, src.Lat}, z), tilePath("areas", orb.Point{src.Lon, src.Lat}, z))
		}
	}
	get := func(who, p string) []byte {
		r := e.doAs(viewers[who], "GET", p, nil, "Accept-Encoding", "gzip")
		if who != "admin" && strings.HasPrefix(p, "/tiles/reports/") {
			if r.Code != 401 && r.Code != 403 {
				t.Fatalf("%s as %s: %d", p, who, r.Code)
			}
			return nil
		}
		if r.Code != 200 {
			t.Fatalf("%s as %s: %d %s", p, who, r.Code, r.Body)
		}
		return append([]byte(r.Header().Get("Content-Encoding")+"\n"), r.Body.Bytes()...)
	}
	entries := func() map[tileKey]*tileEntry {
		e.srv.tiles.mu.Lock()
		defer e.srv.tiles.mu.Unlock()
		return maps(e.srv.tiles.m)
	}
	compare := func(step string) {
		t.Helper()
		cur := e.srv.cur.load()
		answers := map[string][]byte{}
		for who := range viewers {
			for _, p := range paths {
				answers[who+" "+p] = get(who, p)
			}
		}
		fresh := &state{ids: cur.ids, obs: cur.obs, result: cur.result, areas: cur.areas, areaByCode: cur.areaByCode}
		cat, err := e.srv.buildCatalog(nil, fresh)
		if err != nil {
			t.Fatal(err)
		}
		fresh.cat = cat
		e.srv.cur.store(fresh) // the cache is not fresh's: every tile is made anew
		for who := range viewers {
			for _, p := range paths {
				if a, b := answers[who+" "+p], get(who, p); !bytes.Equal(a, b) {
					t.Errorf("%s: %s as %s: cached and from-scratch tiles differ (%d and %d bytes)", step, p, who, len(a), len(b))
				}
			}
		}
		e.srv.cur.store(cur)
	}
	// Readers ask for tiles throughout, so that tiles are made while
	// publications pass them on.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := k; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				p := paths[(n*31)%len(paths)]
				if r := e.doAs(e.token, "GET", p, nil); r.Code != 200 {
					t.Errorf("%s: %d", p, r.Code)
					return
				}
			}
		}()
	}
	compare("at the start")
	for _, step := range []string{"a report", "another report"} {
		before := entries()
		e.post()
		after := entries()
		kept, made := 0, 0
		for k, a := range before {
			if b := after[k]; b == a {
				kept++
				// A tile kept touches nothing that changed: made again
				// from the new analysis, it is the same.
				if len(b.raw) > 0 && !bytes.Equal(b.raw, mustTile(t, e.srv, k)) {
					t.Errorf("%s: tile %v kept, but the analysis changed it", step, k)
				}
			} else {
				made++
			}
		}
		t.Logf("after %s: %d tiles kept, %d to be made again", step, kept, made)
		if kept == 0 || made == 0 {
			t.Errorf("after %s: %d tiles kept, %d dropped: want some of each", step, kept, made)
		}
		compare("after " + step)
	}
	if r := e.do("PUT", "/api/v1/reports/"+e.srv.cur.load().ids[10]+"/review", []byte(`{"status":"rejected"}`)); r.Code != 200 {
		t.Fatalf("review: %d %s", r.Code, r.Body)
	}
	e.srv.WaitIdle()
	compare("after a rejection")
	var csv strings.Builder
	csv.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm\n")
	for i := range 30 {
		src := &e.w.Reports[i*61]
		fmt.Fprintf(&csv, "tile-%d,%.7f,%.7f,2026-06-20T08:00:00+07:00,%s,4G,-127\n", i, src.Lat, src.Lon, src.Carrier)
	}
	req := httptest.NewRequest("POST", "/api/v1/reports/import", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "text/csv")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	e.srv.WaitIdle()
	compare("after an import")
	close(stop)
	wg.Wait()
}

func maps(m map[tileKey]*tileEntry) map[tileKey]*tileEntry {
	out := make(map[tileKey]*tileEntry, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mustTile makes the tile of k from the server's current analysis, for
// the viewer whose view k names.
func mustTile(t *testing.T, s *Server, k tileKey) []byte {
	t.Helper()
	st := s.cur.load()
	var v geo.Viewer // the public: areas, and holes as outlines
	switch k.view {
	case "all", "holes":
		v.Role = geo.RoleAdmin
	case "public", outlineKey:
	default:
		v.Role, v.Carrier = geo.RoleCarrier, geo.Viettel // the one other view these tests make
	}
	view, err := s.tileViewOf(st.cat, k.layer, &v)
	if err != nil {
		t.Fatal(err)
	}
	if view.key != k.view {
		t.Fatalf("view %q, want %q", view.key, k.view)
	}
	var q tileQuery
	for _, raw := range []string{"", "carrier=viettel", "carrier=all"} {
		if q, err = parseTileQuery(k.layer, raw); err == nil && q.key() == k.filter {
			break
		}
	}
	b, err := s.buildTile(st.cat, k.layer, view, q, k.tile)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTileClusters: below the cluster zoom the reports of a tile are in
// cells whose counts add up to the reports there, and a cell of the ring
// round a tile is the same cell its neighbour holds.
func TestTileClusters(t *testing.T) {
	e := newPublishEnv(t, 3000)
	st := e.srv.cur.load()
	for _, z := range []int{8, 10, 13} {
		total, weak, none := 0, 0, 0
		tiles := provinceTiles(st, z)
		cells := map[[2]int64][3]int{}
		for _, tl := range tiles {
			path := fmt.Sprintf("/tiles/reports/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y)
			r := e.do("GET", path, nil)
			if r.Code != 200 {
				t.Fatalf("%s: %d", path, r.Code)
			}
			l := decodeTile(t, path, r.Body.Bytes())
			if l == nil {
				continue
			}
			for _, f := range l.Features {
				p := f.Geometry.(orb.Point)
				wx, wy := int64(p[0])+int64(tl.X)*tileExtent, int64(p[1])+int64(tl.Y)*tileExtent
				n := [3]int{int(f.Properties.MustFloat64("reports")), int(f.Properties.MustFloat64("weak")), int(f.Properties.MustFloat64("no_service"))}
				key := [2]int64{wx, wy}
				if old, ok := cells[key]; ok && old != n {
					t.Errorf("zoom %d: the cell at %v is %v in one tile and %v in another", z, key, old, n)
				}
				cells[key] = n
				if p[0] >= 0 && p[0] < tileExtent && p[1] >= 0 && p[1] < tileExtent {
					total, weak, none = total+n[0], weak+n[1], none+n[2]
				}
			}
		}
		wantWeak, wantNone := 0, 0
		for i := range st.obs {
			switch reportClass(&st.obs[i]) {
			case classWeak:
				wantWeak++
			case classNone:
				wantNone++
			}
		}
		if total != len(st.obs) || weak != wantWeak || none != wantNone {
			t.Errorf("zoom %d, %d tiles: %d reports (%d weak, %d without service), want %d (%d, %d)",
				z, len(tiles), total, weak, none, len(st.obs), wantWeak, wantNone)
		}
	}
}

// BenchmarkTiles measures the tiles served per second at zooms 8 to 14,
// made (cold: the cache emptied before each request) and kept (warm: up
// to 256 tiles, each asked for once before the timing), for an admin
// (reports) and the public (areas, holes), over random tiles of the
// simulated province at the demo size (60,000 reports) and, unless
// -short, over a city of 10,000 hamlets with 1M reports. kB is the mean
// tile (plain), features the mean features a tile.
func BenchmarkTiles(b *testing.B) {
	type world struct {
		name string
		srv  *Server
		tok  string
	}
	var worlds []world
	srv, _, tok := newSimServer(b, 60_000)
	worlds = append(worlds, world{"province-60k", srv, tok})
	if !testing.Short() {
		srv, tok := newCityReportsServer(b, 1_000_000)
		worlds = append(worlds, world{"city-10k-1M", srv, tok})
	}
	for _, w := range worlds {
		w.srv.WaitIdle()
		st := w.srv.cur.load()
		h := w.srv.Handler()
		for _, layer := range []string{"reports", "areas", "holes"} {
			tok := ""
			if layer == "reports" {
				tok = w.tok
			}
			for z := 8; z <= 14; z++ {
				ts := provinceTiles(st, z)
				rand.New(rand.NewPCG(uint64(z), 8)).Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
				ts = ts[:min(len(ts), 256)]
				sk := &sink{}
				get := func(b *testing.B, tl maptile.Tile) {
					req := httptest.NewRequest("GET", fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, tl.Z, tl.X, tl.Y), nil)
					if tok != "" {
						req.Header.Set("Authorization", "Bearer "+tok)
					}
					sk.header, sk.code = http.Header{}, 0
					sk.body.Reset()
					h.ServeHTTP(sk, req)
					if sk.code != 200 {
						b.Fatalf("%s: %d %s", req.URL, sk.code, sk.body.Bytes())
					}
				}
				for _, mode := range []string{"cold", "warm"} {
					b.Run(fmt.Sprintf("%s/%s/z%d/%s", w.name, layer, z, mode), func(b *testing.B) {
						rng := rand.New(rand.NewPCG(uint64(z), 9))
						var bytes, feats, n int
						if mode == "warm" {
							w.srv.tiles.advance(nil, w.srv.cur.load().cat)
							for _, tl := range ts {
								get(b, tl)
							}
						}
						b.ResetTimer()
						start := time.Now()
						for range b.N {
							tl := ts[rng.IntN(len(ts))]
							if mode == "cold" {
								w.srv.tiles.advance(nil, w.srv.cur.load().cat)
							}
							get(b, tl)
							bytes += sk.body.Len()
							n++
							if n <= 200 && sk.body.Len() > 0 {
								ls, err := mvt.Unmarshal(sk.body.Bytes())
								if err != nil {
									b.Fatal(err)
								}
								feats += len(ls[0].Features)
							}
						}
						el := time.Since(start)
						b.ReportMetric(float64(b.N)/el.Seconds(), "tiles/s")
						b.ReportMetric(float64(bytes)/float64(n)/1e3, "kB")
						b.ReportMetric(float64(feats)/float64(min(n, 200)), "features")
						b.ReportMetric(0, "ns/op")
					})
				}
			}
		}
		runtime.GC()
	}
}

// newCityReportsServer is a server over a store holding newCityServer's
// city of 10,000 hamlets and n reports spread over it (denser towards its
// middle, about a third weak), and an admin's API token.
func newCityReportsServer(b *testing.B, n int) (*Server, string) {
	ctx := context.Background()
	st, err := gpkg.Open(ctx, filepath.Join(b.TempDir(), "city.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, "bench", cityAreas(100, x0, y0, side)); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	at := sim.DefaultEnd.Add(-90 * 24 * time.Hour)
	const batch = 100_000
	for k := 0; k < n; k += batch {
		rs := make([]geo.Report, 0, batch)
		for i := k; i < min(n, k+batch); i++ {
			// Normal draws round the middle, kept inside the city.
			x := math.Min(math.Max(x0+side/2+rng.NormFloat64()*side/5, x0), x0+side-1e-9)
			y := math.Min(math.Max(y0+side/2+rng.NormFloat64()*side/5, y0), y0+side-1e-9)
			sig := -85 - 30*rng.Float64()
			rs = append(rs, geo.Report{
				ID: fmt.Sprintf("c%07d", i), Lat: y, Lon: x, ObservedAt: at.Add(time.Duration(i) * 7 * time.Second),
				Carrier: geo.Carriers[i%len(geo.Carriers)], Tech: geo.Tech4G, SignalDBm: &sig, Source: geo.SourceTeam,
				Reporter: fmt.Sprintf("team-%d", i%500),
			})
		}
		if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); err != nil {
			b.Fatal(err)
		}
	}
	now := sim.DefaultEnd.Add(24 * time.Hour)
	svc, err := service.New(ctx, st, service.Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	srv, err := New(svc, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.AddUser(ctx, geo.User{Name: "admin", Role: geo.RoleAdmin, CreatedAt: now}, geo.AuditEntry{}); err != nil {
		b.Fatal(err)
	}
	_, tok, err := svc.CreateToken(ctx, service.CommandLine("bench"), "admin", "bench")
	if err != nil {
		b.Fatal(err)
	}
	return srv, tok
}

// newScaleServer is a server over a store holding sim.Scale's grid of
// 10,000 hamlets of about 200 vertices (the shape of /work/scale's
// national-scale data, 1.1° a side) with reports, analysed, and the z8
// tile covering the grid.
func newScaleServer(t *testing.T, reports int) (*Server, maptile.Tile) {
	t.Helper()
	ctx := context.Background()
	w, err := sim.Scale(sim.ScaleOptions{Seed: 1, Hamlets: 10_000, Reports: reports})
	if err != nil {
		t.Fatal(err)
	}
	st, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "scale.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, w.Areas[0].Vintage, w.Areas); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReports(ctx, w.Reports, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	now := sim.DefaultEnd.Add(24 * time.Hour)
	svc, err := service.New(ctx, st, service.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	srv, err := New(svc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.WaitIdle()
	var b orb.Bound
	for i, a := range w.Areas {
		if i == 0 {
			b = a.Geometry.Bound()
		}
		b = b.Union(a.Geometry.Bound())
	}
	tl := maptile.At(b.Center(), 8)
	if maptile.At(b.Min, 8) != tl || maptile.At(b.Max, 8) != tl {
		t.Fatalf("the grid %v is not in one tile at zoom 8", b)
	}
	return srv, tl
}

// serveTile returns the body of path from h, plain or gzipped.
func serveTile(t *testing.T, h http.Handler, path string, gz bool) []byte {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// zoom8Budget is what the whole-province view at zoom 8 may weigh
// (issue 14): the areas tile of 10,000 hamlets, plain.
const zoom8Budget = 1_000_000

// TestAreasTileZoom8: the areas tile covering 10,000 hamlets at zoom 8
// is within zoom8Budget plain, holds every hamlet (none is below a
// pixel there), and styles each as the full tiles (from slimZoom) do:
// the map's properties, strings the same, shares within a step of
// shareStep (0 and 1 exactly), so that "no data yet" and the page's
// colour class are the same but for a share within a step of a class
// bound.
func TestAreasTileZoom8(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 hamlets")
	}
	srv, tl := newScaleServer(t, 100_000)
	h := srv.Handler()
	path := fmt.Sprintf("/tiles/areas/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y)
	plain := serveTile(t, h, path, false)
	gz := serveTile(t, h, path, true)
	all := serveTile(t, h, path+"?properties=*", false)
	t.Logf("%s: %d bytes plain, %d gzipped; %d with properties=*", path, len(plain), len(gz), len(all))
	if len(plain) > zoom8Budget {
		t.Errorf("%s: %d bytes plain, over the budget of %d", path, len(plain), zoom8Budget)
	}
	if len(gz) >= len(plain) || len(all) <= len(plain) {
		t.Errorf("%s: gzipped %d, with every property %d, plain %d", path, len(gz), len(all), len(plain))
	}
	l := decodeTile(t, path, plain)

	// The full areas, as the tiles from slimZoom have them.
	full := map[string]geojson.Properties{}
	for _, ft := range provinceTiles(srv.cur.load(), slimZoom) {
		p := fmt.Sprintf("/tiles/areas/%d/%d/%d.mvt", ft.Z, ft.X, ft.Y)
		if fl := decodeTile(t, p, serveTile(t, h, p, false)); fl != nil {
			for _, f := range fl.Features {
				full[f.Properties.MustString("code")] = f.Properties
			}
		}
	}
	if l == nil || len(l.Features) != len(full) || len(full) != 10_000 {
		t.Fatalf("%s: %d features, want the %d hamlets of the tiles at slimZoom", path, len(l.Features), len(full))
	}
	const ramp = 6 // classes of the page's ramp, bounds (i/6)²
	class := func(v float64) int { return min(ramp-1, int(math.Floor(math.Sqrt(v)*ramp))) }
	rounded := 0
	for _, f := range l.Features {
		code, _ := f.Properties["code"].(string)
		fp := full[code]
		if fp == nil {
			t.Fatalf("tile area %q is not in the tiles at slimZoom", code)
		}
		for k := range f.Properties {
			if !areaMapProps[k] {
				t.Errorf("%s: %s carried below slimZoom", code, k)
			}
		}
		for k := range areaMapProps {
			got, want := f.Properties[k], fp[k]
			if want == nil {
				if got != nil {
					t.Errorf("%s: %s = %v, the area has none", code, k, got)
				}
				continue
			}
			w, isNum := want.(float64)
			if !isNum {
				if got != want {
					t.Errorf("%s: %s = %v, want %v", code, k, got, want)
				}
				continue
			}
			g, _ := got.(float64)
			if d := math.Abs(g - w); d > 1.0/shareStep || (w == 0) != (g == 0) || (w == 1) != (g == 1) {
				t.Errorf("%s: %s = %v, the area's %v", code, k, g, w)
			}
			if g != w {
				rounded++
			}
			if class(g) != class(w) {
				bound := math.Pow(float64(max(class(g), class(w)))/ramp, 2)
				if math.Abs(w-bound) > 1.0/shareStep {
					t.Errorf("%s: %s %v is in class %d, the area's %v in %d", code, k, g, class(g), w, class(w))
				}
			}
		}
	}
	if rounded == 0 {
		t.Error("no share was rounded: the test says nothing")
	}
}

// TestTileProperties: properties= picks the properties of tile
// features as it does on the layers (a list, unknown names ignored, or
// "*" for all), on areas below and from slimZoom and on the other
// layers, each choice a tile of its own in the cache; a malformed list
// is refused.
func TestTileProperties(t *testing.T) {
	e := newEnv(t, Options{})
	h1 := orb.Point{105.11, 10.51}
	keys := func(l *mvt.Layer) map[string]bool {
		m := map[string]bool{}
		for _, f := range l.Features {
			for k := range f.Properties {
				m[k] = true
			}
		}
		return m
	}
	low, high := tilePath("areas", h1, 9), tilePath("areas", h1, slimZoom)
	full := keys(e.tileAt(high))
	if !full["reports"] || !full["population"] || !full["rank"] {
		t.Fatalf("areas at slimZoom: %v", full)
	}
	if got := keys(e.tileAt(low)); len(got) == 0 || got["reports"] {
		t.Errorf("areas at zoom 9: %v", got)
	} else {
		for k := range got {
			if !areaMapProps[k] {
				t.Errorf("areas at zoom 9 carry %s", k)
			}
		}
	}
	for _, path := range []string{low, high} {
		if got := keys(e.tileAt(path + "?properties=*")); len(got) != len(full) {
			t.Errorf("%s?properties=*: %v, want %v", path, got, full)
		}
		l := e.tileAt(path + "?properties=code,%20population,no_such")
		if got := keys(l); len(got) != 2 || !got["code"] || !got["population"] {
			t.Errorf("%s?properties=code,population,no_such: %v", path, got)
		}
		for _, f := range l.Features {
			if f.Properties["population"] == nil {
				t.Errorf("%s: %v without population", path, f.Properties["code"])
			}
		}
	}
	// The same tile asked for differently is cached apart.
	if got := keys(e.tileAt(low)); got["population"] {
		t.Errorf("areas at zoom 9 after properties=population: %v", got)
	}
	if got := keys(e.tileAt(tilePath("holes", h1, 12) + "?properties=carrier")); len(got) != 1 || !got["carrier"] {
		t.Errorf("holes?properties=carrier: %v", got)
	}
	wantProblem(t, e.get(low+"?properties=,"), 400, "properties")
}
