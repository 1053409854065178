package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
)

// publishEnv is a server over the simulated province with a few thousand
// reports, and a way to post more.
type publishEnv struct {
	t     *testing.T
	srv   *Server
	w     *sim.World
	token string
	rng   *rand.Rand
	n     int
}

func newPublishEnv(t *testing.T, reports int) *publishEnv {
	srv, w, tok := newSimServer(t, reports)
	return &publishEnv{t: t, srv: srv, w: w, token: tok, rng: rand.New(rand.NewPCG(3, 4))}
}

func (e *publishEnv) do(method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	return e.doAs(e.token, method, path, body, hdr...)
}

// doAs is do with API token tok ("": the public).
func (e *publishEnv) doAs(tok, method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

// carrierToken adds a Viettel user and returns an API token of theirs.
func (e *publishEnv) carrierToken() string {
	e.t.Helper()
	ctx, cli := context.Background(), service.CommandLine("test")
	if _, err := e.srv.svc.AddUser(ctx, cli, service.UserSpec{Name: "viettel-planning", Role: "carrier", Carrier: "viettel"}); err != nil {
		e.t.Fatal(err)
	}
	_, tok, err := e.srv.svc.CreateToken(ctx, cli, "viettel-planning", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// post adds a weak report at the place of a random simulated one, and
// waits for it to be published.
func (e *publishEnv) post() string {
	e.t.Helper()
	src := &e.w.Reports[e.rng.IntN(len(e.w.Reports))]
	e.n++
	id := fmt.Sprintf("p-%03d", e.n)
	at := sim.DefaultEnd.Add(-time.Duration(e.n) * time.Hour).UTC().Format(time.RFC3339)
	body := fmt.Appendf(nil, `{"id":%q,"lat":%.7f,"lon":%.7f,"observed_at":%q,"carrier":%q,"tech":"4G","signal_dbm":-125}`,
		id, src.Lat+0.0003, src.Lon-0.0002, at, src.Carrier.String())
	if r := e.do("POST", "/api/v1/reports", body); r.Code != 201 {
		e.t.Fatalf("post: %d %s", r.Code, r.Body)
	}
	e.srv.WaitIdle()
	return id
}

// publishPaths are requests whose answers come from the published
// features: whole layers, windows at several zooms, OGC pages and items.
func publishPaths(st *state) []string {
	c := st.cat.cols["areas"]
	b := c.bbox
	mid := orb.Point{(b.Min[0] + b.Max[0]) / 2, (b.Min[1] + b.Max[1]) / 2}
	win := func(d float64) string {
		return fmt.Sprintf("bbox=%.5f,%.5f,%.5f,%.5f", mid[0]-d, mid[1]-d, mid[0]+d, mid[1]+d)
	}
	all := fmt.Sprintf("bbox=%.5f,%.5f,%.5f,%.5f", b.Min[0]-1, b.Min[1]-1, b.Max[0]+1, b.Max[1]+1)
	var ps []string
	for _, l := range []string{"areas", "holes", "reports", "teams"} {
		ps = append(ps, "/api/v1/layers/"+l, "/api/v1/layers/"+l+"?"+all, "/api/v1/layers/"+l+"?"+win(0.01),
			"/api/v1/layers/"+l+"?"+win(0.1)+"&limit=40", "/api/v1/layers/"+l+"?zoom=6", "/api/v1/layers/"+l+"?zoom=11&"+win(0.05),
			"/ogc/collections/"+l, "/ogc/collections/"+l+"/items", "/ogc/collections/"+l+"/items?offset=50&limit=500",
			"/ogc/collections/"+l+"/items?"+win(0.03)+"&limit=1000", "/ogc/collections/"+l+"/items?datetime=2026-04-01T00:00:00Z/..")
		col := st.cat.cols[l]
		for i := range col.size() {
			if i%7 == 0 || i == col.size()-1 {
				ps = append(ps, "/ogc/collections/"+l+"/items/"+col.featureID(i))
			}
		}
	}
	return append(ps, "/ogc/collections", "/api/v1/layers/holes?carrier=viettel", "/api/v1/layers/holes?carrier=all&zoom=9",
		"/api/v1/layers/reports?carrier=mobifone&tech=4G", "/api/v1/layers/areas?level=hamlet")
}

var timeStamp = regexp.MustCompile(`"timeStamp":"[^"]*"`)

// answers returns the server's answers to paths, plain and gzipped (both
// as sent), with the time stamps of OGC pages left out.
func (e *publishEnv) answers(paths []string) map[string][]byte {
	return e.answersAs(e.token, paths)
}

// answersAs is answers with API token tok ("": the public), to the paths
// that are not of reports when tok is not the admin's.
func (e *publishEnv) answersAs(tok string, paths []string) map[string][]byte {
	out := map[string][]byte{}
	for _, p := range paths {
		if tok != e.token && strings.Contains(p, "reports") {
			continue
		}
		for _, enc := range []string{"identity", "gzip"} {
			r := e.doAs(tok, "GET", p, nil, "Accept-Encoding", enc)
			if r.Code != 200 {
				e.t.Fatalf("%s: %d %s", p, r.Code, r.Body)
			}
			out[p+" "+enc] = append([]byte(r.Header().Get("Content-Encoding")+"\n"), timeStamp.ReplaceAll(r.Body.Bytes(), nil)...)
		}
	}
	return out
}

// TestPublishMatchesFromScratch: after many incremental publications
// (reports added one by one, a rejection, a bulk import) every layer,
// window and OGC page, plain or gzipped, is byte for byte what a catalog
// built from scratch over the same analysis gives, to the province, the
// public (the holes' outlines) and a carrier (its holes in full, the
// others' outlines); so are the catalog's features, bounds and indexes.
// Readers run throughout.
func TestPublishMatchesFromScratch(t *testing.T) {
	e := newPublishEnv(t, 3000)
	viewers := map[string]string{"admin": e.token, "public": "", "carrier": e.carrierToken()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range []string{"/api/v1/layers/reports", "/ogc/collections/holes/items?limit=50", "/api/v1/layers/areas?zoom=8"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r := e.do("GET", p, nil, "Accept-Encoding", "gzip"); r.Code != 200 {
					t.Errorf("%s: %d", p, r.Code)
					return
				}
			}
		}()
	}
	compare := func(step string) {
		t.Helper()
		cur := e.srv.cur.load()
		paths := publishPaths(cur)
		incremental := map[string]map[string][]byte{}
		for who, tok := range viewers {
			incremental[who] = e.answersAs(tok, paths)
		}
		fresh := &state{ids: cur.ids, obs: cur.obs, result: cur.result, areas: cur.areas, areaByCode: cur.areaByCode}
		cat, err := e.srv.buildCatalog(nil, fresh)
		if err != nil {
			t.Fatal(err)
		}
		fresh.cat = cat
		sameCatalog(t, step, cur.cat, fresh.cat)
		e.srv.cur.store(fresh)
		for who, tok := range viewers {
			scratch := e.answersAs(tok, paths)
			for k, a := range incremental[who] {
				if b := scratch[k]; !bytes.Equal(a, b) {
					t.Errorf("%s: %s as %s: incremental and from-scratch answers differ (%d and %d bytes)", step, k, who, len(a), len(b))
				}
			}
			if len(scratch) != len(incremental[who]) || len(scratch) == 0 {
				t.Errorf("%s: as %s, %d answers, from scratch %d", step, who, len(incremental[who]), len(scratch))
			}
		}
		e.srv.cur.store(cur)
	}
	for range 25 {
		e.post()
		e.answers([]string{"/api/v1/layers/reports", "/api/v1/layers/holes", "/api/v1/layers/areas?zoom=8"})
	}
	compare("after 25 reports")
	if r := e.do("PUT", "/api/v1/reports/"+e.srv.cur.load().ids[10]+"/review", []byte(`{"status":"rejected"}`)); r.Code != 200 {
		t.Fatalf("review: %d %s", r.Code, r.Body)
	}
	e.srv.WaitIdle()
	compare("after a rejection")
	var csv strings.Builder
	csv.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm\n")
	for i := range 20 {
		src := &e.w.Reports[i*50]
		fmt.Fprintf(&csv, "imp-%d,%.7f,%.7f,2026-06-20T08:00:00+07:00,%s,4G,-126\n", i, src.Lat, src.Lon, src.Carrier)
	}
	v := visibility{h: e.srv.Handler(), token: e.token}
	req := httptest.NewRequest("POST", "/api/v1/reports/import", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("Content-Type", "text/csv")
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	e.srv.WaitIdle()
	for range 10 {
		e.post()
	}
	compare("after an import and 10 reports")
	close(stop)
	wg.Wait()
}

// sameCatalog compares every feature, bound and index of two catalogs.
func sameCatalog(t *testing.T, step string, a, b *ogcCatalog) {
	t.Helper()
	if len(a.cols) != len(b.cols) {
		t.Errorf("%s: %d collections, from scratch %d", step, len(a.cols), len(b.cols))
	}
	for key := range b.cols {
		ca, cb := a.cols[key], b.cols[key]
		if ca == nil {
			t.Errorf("%s: no %s", step, key)
			continue
		}
		if ca.size() != cb.size() || !slices.Equal(ca.holePos, cb.holePos) || ca.outline != cb.outline {
			t.Errorf("%s: %s: %d features, from scratch %d, or another order", step, key, ca.size(), cb.size())
			continue
		}
		for i := range ca.size() {
			var ra, rb ogcFeature
			fa, fb := ca.featureAt(i, &ra), cb.featureAt(i, &rb)
			if fa.id != fb.id || fa.bound != fb.bound || fa.hasGeom != fb.hasGeom || fa.from != fb.from || fa.to != fb.to ||
				fa.key != fb.key || !bytes.Equal(ca.featureJSON(i), cb.featureJSON(i)) {
				t.Errorf("%s: %s feature %d (%s) differs from scratch", step, key, i, fa.id)
				break
			}
			if j, ok := ca.find(fa.id); !ok || ca.featureID(j) != fa.id {
				t.Errorf("%s: %s: %s not found by id", step, key, fa.id)
			}
		}
		if ca.bbox != cb.bbox || ca.hasBBox != cb.hasBBox || ca.allGeom != cb.allGeom || ca.first != cb.first ||
			ca.last != cb.last || ca.timed != cb.timed || !reflect.DeepEqual(ca.leaf, cb.leaf) || indexed(ca) != indexed(cb) {
			t.Errorf("%s: %s: extent or index differs from scratch", step, key)
		}
	}
}

// indexed is how many features c's window index finds over its extent.
func indexed(c *ogcCollection) int {
	if c.points != nil {
		return len(c.touching(nil, c.bbox))
	}
	return c.tree.Len()
}

// TestReportAppearsInLayer: a posted report is the first feature of the
// reports layer and an OGC item; it is the only report encoded, and the
// others keep their bytes.
func TestReportAppearsInLayer(t *testing.T) {
	e := newPublishEnv(t, 2000)
	before := e.srv.cur.load()
	id := e.post()
	after := e.srv.cur.load()
	if after.cat.stats.reports != 1 {
		t.Errorf("%d reports encoded for one posted", after.cat.stats.reports)
	}
	for _, enc := range []string{"identity", "gzip"} {
		r := e.do("GET", "/api/v1/layers/reports", nil, "Accept-Encoding", enc)
		body := r.Body.Bytes()
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		fc := parseFC(t, body)
		if len(fc.Features) == 0 || fc.Features[0].ID != id {
			t.Errorf("%s: the reports layer does not start with %s", enc, id)
		}
	}
	if r := e.do("GET", "/ogc/collections/reports/items/"+id, nil); r.Code != 200 {
		t.Errorf("OGC item %s: %d", id, r.Code)
	}
	pb, pa := before.cat.cols["reports"], after.cat.cols["reports"]
	if pa.size() != pb.size()+1 || pa.log != pb.log || pa.ids != pb.ids || pa.points != pb.points {
		t.Fatal("the reports' features were made again rather than appended to")
	}
}

// TestPublishReusesUnchanged: between two publications, an area, hole or
// team feature keeps its bytes exactly when its value is the same; what
// changed is encoded again and counted.
func TestPublishReusesUnchanged(t *testing.T) {
	e := newPublishEnv(t, 3000)
	holes, outlines := 0, 0
	defer func() { t.Logf("5 reports: %d holes encoded again, %d outlines", holes, outlines) }()
	for range 5 {
		prev := e.srv.cur.load()
		e.post()
		next := e.srv.cur.load()
		if next.cat.stats.areas == 0 || next.cat.stats.areas > 20 {
			t.Errorf("%d areas encoded for one report", next.cat.stats.areas)
		}
		encoded := 0
		for i, h := range next.result.Holes {
			f := next.cat.cols["holes"].features[i]
			j, ok := prev.cat.cols["holes"].find(h.ID)
			same := ok && sameHole(&prev.result.Holes[j], &h)
			kept := ok && unsafe.SliceData(prev.cat.cols["holes"].features[j].json) == unsafe.SliceData(f.json)
			if same != kept {
				t.Errorf("hole %s: same value %v, kept bytes %v", h.ID, same, kept)
			}
			if !kept {
				encoded++
			}
		}
		if encoded != next.cat.stats.holes {
			t.Errorf("%d holes encoded again, counted %d", encoded, next.cat.stats.holes)
		}
		// An outline is encoded again only when the outline changed, not
		// the evidence; the outlines come in carrier and ID order.
		po, no := prev.cat.cols[outlineKey], next.cat.cols[outlineKey]
		encoded = 0
		for k, hi := range no.holePos {
			h := &next.result.Holes[hi]
			if k > 0 {
				if p := &next.result.Holes[no.holePos[k-1]]; p.Carrier > h.Carrier || p.Carrier == h.Carrier && p.ID >= h.ID {
					t.Errorf("outline %d (%s) after %s", k, h.ID, p.ID)
				}
			}
			j, ok := po.find(h.ID)
			same := ok && sameOutline(&prev.result.Holes[po.holePos[j]], h)
			kept := ok && unsafe.SliceData(po.features[j].json) == unsafe.SliceData(no.features[k].json)
			if same != kept {
				t.Errorf("outline of %s: same outline %v, kept bytes %v", h.ID, same, kept)
			}
			if !kept {
				encoded++
			}
		}
		if encoded != next.cat.stats.outlines || encoded > next.cat.stats.holes {
			t.Errorf("%d outlines encoded again, counted %d, for %d holes", encoded, next.cat.stats.outlines, next.cat.stats.holes)
		}
		outlines += encoded
		holes += next.cat.stats.holes
		for k, i := range next.cat.cols["areas"].leaf {
			same := sameScore(&prev.result.Areas[i], &next.result.Areas[i])
			kept := unsafe.SliceData(prev.cat.cols["areas"].features[k].json) == unsafe.SliceData(next.cat.cols["areas"].features[k].json)
			if same != kept {
				t.Errorf("area %s: same value %v, kept bytes %v", next.result.Areas[i].Code, same, kept)
			}
		}
	}
}

// TestPublishHoles: a hole that keeps its value keeps its bytes and its
// simplified encodings, one that changes is encoded again with the new
// value, a new one is encoded, whatever the order.
func TestPublishHoles(t *testing.T) {
	hole := func(id string, reports int) geo.Hole {
		h := testHole()
		h.ID, h.Reports = id, reports
		return h
	}
	prevRes := &geo.Result{Holes: []geo.Hole{hole("a", 5), hole("b", 7)}}
	var n publishStats
	prev := &state{result: prevRes}
	pc := publishHoles(nil, nil, prevRes, &n)
	pc.features[0].zoom[2].Store(&zoomEncoding{json: []byte{'z'}})
	next := &geo.Result{Holes: []geo.Hole{hole("c", 1), hole("b", 8), hole("a", 5)}}
	n = publishStats{}
	col := publishHoles(pc, prev, next, &n)
	if n.holes != 2 {
		t.Errorf("%d holes encoded, want 2 (b changed, c new)", n.holes)
	}
	if unsafe.SliceData(col.features[2].json) != unsafe.SliceData(pc.features[0].json) || col.features[2].zoom != pc.features[0].zoom {
		t.Error("unchanged hole a was encoded again")
	}
	if unsafe.SliceData(col.features[1].json) == unsafe.SliceData(pc.features[1].json) || !bytes.Contains(col.features[1].json, []byte(`"reports":8,`)) {
		t.Errorf("changed hole b: %s", col.features[1].json)
	}
	if i, ok := col.find("a"); !ok || i != 2 {
		t.Errorf("find(a) = %d, %v", i, ok)
	}
	if _, ok := pc.find("c"); ok {
		t.Error("the previous collection finds a hole it does not have")
	}
}

// testHole is a hole with every field set and every slice non-empty.
func testHole() geo.Hole {
	return geo.Hole{ID: "h", Carrier: geo.Viettel,
		Geometry: orb.MultiPolygon{{{{105, 10}, {105.01, 10}, {105.01, 10.01}, {105, 10}}}},
		Centroid: orb.Point{105.005, 10.003}, AreaKm2: 1.5, Cells: 3, CellIDs: []uint64{1, 2, 3},
		Areas: []geo.AreaRef{{Code: "A", Name: "Ấp A", Km2: 1}}, Population: 10, Households: 3,
		Reports: 4, Weak: 3, Reporters: 2, WeakShare: 0.75, WeakLow: 0.3, MedianSignalDBm: math.NaN(),
		FirstObserved: time.Unix(1e9, 0), LastObserved: time.Unix(1e9+5, 0),
		Severity: 0.5, Confidence: 0.6, Priority: 0.9, Rank: 1}
}

func testScore() geo.AreaScore {
	return geo.AreaScore{Code: "A", Name: "Ấp A", ParentCode: "X", Level: geo.LevelHamlet, Index: 1, Children: 2,
		LandKm2: 3, Population: 4, Households: 5, HouseholdsEstimated: true, Reports: 6, Weak: 7, WeakShare: 0.1,
		WeakLow: 0.2, Carriers: []geo.CarrierStats{{Carrier: geo.Viettel, Reports: 1, Weak: 1, WeakShare: 1, WeakLow: 0.5,
			MedianSignalDBm: math.NaN(), HoleKm2: 1, HoleShare: 0.3}},
		HoleKm2: 1, HoleShare: 0.2, DeadKm2: 0.1, DeadShare: 0.05, PopulationAffected: 3, HouseholdsAffected: 1,
		Reach: geo.TeamReach{Teams: 1, Members: 5, MembersPer1000HH: math.NaN(), HouseholdsReached: 3, ReachedShare: 0.1,
			NearestTeamKm: 2, Low: true}, Action: geo.ActionBoth, Priority: 4, Rank: 2}
}

// TestSameValues: the comparisons see a change in any field of a hole,
// an area's score or a report (so a field added later and not compared
// fails here), and an unknown (NaN) figure equals itself.
func TestSameValues(t *testing.T) {
	obs := func() geo.Obs {
		return geo.Obs{Lon: 105, Lat: 10, At: 5, SignalDBm: float32(math.NaN()), DownMbps: 2, Reporter: 1, Area: 2,
			Carrier: geo.Viettel, Tech: geo.Tech4G, Source: geo.SourceTeam, Flags: geo.FlagWeak}
	}
	cases := []struct {
		name string
		make func() any
		same func(a, b any) bool
	}{
		{"hole", func() any { h := testHole(); return &h }, func(a, b any) bool { return sameHole(a.(*geo.Hole), b.(*geo.Hole)) }},
		{"score", func() any { s := testScore(); return &s }, func(a, b any) bool { return sameScore(a.(*geo.AreaScore), b.(*geo.AreaScore)) }},
		{"report", func() any { o := obs(); return &o }, func(a, b any) bool { return sameObs(a.(*geo.Obs), b.(*geo.Obs)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.same(tc.make(), tc.make()) {
				t.Fatal("two copies of one value differ")
			}
			var paths [][]int
			leaves(reflect.TypeOf(tc.make()).Elem(), nil, &paths)
			for _, p := range paths {
				v := tc.make()
				name := bump(reflect.ValueOf(v).Elem(), p)
				if tc.same(tc.make(), v) {
					t.Errorf("a change of %s is not seen", name)
				}
			}
			if len(paths) < 5 {
				t.Errorf("only %d fields", len(paths))
			}
		})
	}
}

var timeType = reflect.TypeOf(time.Time{})

// leaves lists the paths to every field of t, into structs, arrays and
// the first element of slices (which the test values make non-empty).
func leaves(t reflect.Type, path []int, out *[][]int) {
	switch {
	case t == timeType:
		*out = append(*out, path)
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			leaves(t.Field(i).Type, append(path[:len(path):len(path)], i), out)
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		*out = append(*out, append(path[:len(path):len(path)], -1)) // the length
		leaves(t.Elem(), append(path[:len(path):len(path)], 0), out)
	default:
		*out = append(*out, path)
	}
}

// bump changes the field of v at path and names it.
func bump(v reflect.Value, path []int) string {
	name := v.Type().Name()
	for _, i := range path {
		switch {
		case i == -1 && v.Kind() == reflect.Slice:
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			return name + " (length)"
		case i == -1:
			// An array's length is its type's: change its first element.
			i = 0
			fallthrough
		case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
			v = v.Index(i)
			name += fmt.Sprintf("[%d]", i)
		default:
			name += "." + v.Type().Field(i).Name
			v = v.Field(i)
		}
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
	case v.CanInt():
		v.SetInt(v.Int() + 1)
	case v.CanUint():
		v.SetUint(v.Uint() + 1)
	case v.CanFloat():
		if f := v.Float(); math.IsNaN(f) {
			v.SetFloat(1)
		} else {
			v.SetFloat(f + 0.5)
		}
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "x")
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	default:
		panic("bump: " + v.Type().String())
	}
	return name
}

// TestPublishFromOlderState: a publication from a state that is not the
// latest does not disturb the latest's features, and is itself right.
func TestPublishFromOlderState(t *testing.T) {
	e := newPublishEnv(t, 1000)
	e.post() // a's reports then have room to grow in place
	a := e.srv.cur.load()
	e.post()
	b := e.srv.cur.load()
	if a.cat.cols["reports"].log != b.cat.cols["reports"].log {
		t.Fatal("the reports of a and b are not of one log: the test proves nothing")
	}
	saved := make([][]byte, b.cat.cols["reports"].size())
	for i := range saved {
		saved[i] = b.cat.cols["reports"].featureJSON(i)
	}
	// c has a report b does not, where b has its first posted one.
	c := &state{ids: append(slices.Clone(a.ids), "other"), obs: append(slices.Clone(a.obs), a.obs[0]), result: b.result, areas: b.areas, areaByCode: b.areaByCode}
	if err := e.srv.publish(a, c); err != nil {
		t.Fatal(err)
	}
	for i := range saved {
		if !bytes.Equal(b.cat.cols["reports"].featureJSON(i), saved[i]) {
			t.Fatalf("report %d of the later state changed", i)
		}
	}
	if got, want := c.cat.cols["reports"].size(), len(a.ids)+1; got != want {
		t.Fatalf("%d reports, want %d", got, want)
	}
	fresh := &state{ids: c.ids, obs: c.obs, result: c.result, areas: c.areas, areaByCode: c.areaByCode}
	cat, err := e.srv.buildCatalog(nil, fresh)
	if err != nil {
		t.Fatal(err)
	}
	sameCatalog(t, "from an older state", c.cat, cat)
}

// TestGzipSegmentsReused: the gzip of a whole layer after one more report
// deflates only the segments around it, and still decompresses to the
// plain layer.
func TestGzipSegmentsReused(t *testing.T) {
	e := newPublishEnv(t, 5000)
	get := func(enc string) []byte {
		return e.do("GET", "/api/v1/layers/reports", nil, "Accept-Encoding", enc).Body.Bytes()
	}
	get("gzip")
	e.post()
	z := get("gzip")
	g := e.srv.cur.load().cat.bodies["reports"]
	if len(g.segs) < 10 || g.deflated == 0 || g.deflated > 3 {
		t.Errorf("%d of %d segments deflated for one report", g.deflated, len(g.segs))
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, get("identity")) {
		t.Error("the gzip does not decompress to the plain layer")
	}
}

// TestSegmentMoved: a run of features that started a layer and now
// follows another is deflated again (it needs the comma before it); the
// runs after it are reused; the plain body is the features joined and the
// gzip decompresses to it.
func TestSegmentMoved(t *testing.T) {
	feature := func(id string) ogcFeature {
		return ogcFeature{id: id, json: []byte(`{"type":"Feature","id":"` + id + `","geometry":null,"properties":{}}`)}
	}
	var feats []ogcFeature
	for i := range 1000 {
		feats = append(feats, feature(fmt.Sprintf("f%d", i)))
	}
	// A feature that ends its segment by itself.
	x := 0
	for idHash(fmt.Sprintf("x%d", x))&segMask != 0 {
		x++
	}
	shared := &ogcCache{}
	catalog := func(fs []ogcFeature) *ogcCatalog {
		return &ogcCatalog{cols: map[string]*ogcCollection{"holes": {features: fs}}, bodies: newLayerBodies(), shared: shared}
	}
	first := catalog(feats).gzip("holes")
	feats = append([]ogcFeature{feature(fmt.Sprintf("x%d", x))}, feats...)
	c := catalog(feats)
	g := c.gzip("holes")
	if g.deflated != 2 || len(g.segs) != len(first.segs)+1 {
		t.Errorf("%d of %d segments deflated, want 2 of %d", g.deflated, len(g.segs), len(first.segs)+1)
	}
	want := []byte(layerHead)
	for i, f := range feats {
		if i > 0 {
			want = append(want, ',')
		}
		want = append(append(want, '\n'), f.json...)
	}
	want = append(want, layerTail...)
	var z bytes.Buffer
	if err := g.writeGzip(&z); err != nil {
		t.Fatal(err)
	}
	if plain := c.plain("holes"); !bytes.Equal(plain, want) || int64(len(plain)) != g.n || int64(z.Len()) != g.clen {
		t.Errorf("plain body of %d bytes (said %d), gzip %d (said %d): %.200s…", len(plain), g.n, z.Len(), g.clen, plain)
	}
	zr, err := gzip.NewReader(&z)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the gzip decompresses to %.200s…, want %.200s…", got, want)
	}
}

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 100000)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	for _, cut := range []int{0, 1, 7, 4096, 65537, 99999, 100000} {
		got := crc32Combine(crc32.ChecksumIEEE(b[:cut]), crc32.ChecksumIEEE(b[cut:]), int64(len(b)-cut))
		if want := crc32.ChecksumIEEE(b); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}
