package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo/topo"
	"github.com/paulmach/orb"
)

func TestLayerZoom(t *testing.T) {
	e := newEnv(t, Options{})
	full := parseFC(t, e.get("/api/v1/layers/areas?limit=10000").body)
	for _, z := range []string{"0", "6", "12", "15", "24"} {
		r := e.get("/api/v1/layers/areas?zoom=" + z)
		if r.status != 200 {
			t.Fatalf("zoom %s: status %d", z, r.status)
		}
		fc := parseFC(t, r.body)
		if len(fc.Features) != len(full.Features) {
			t.Errorf("zoom %s: %d features, want %d", z, len(fc.Features), len(full.Features))
		}
		for _, f := range fc.Features {
			if _, ok := f.Geometry.(orb.Polygon); !ok {
				if _, ok := f.Geometry.(orb.MultiPolygon); !ok {
					t.Errorf("zoom %s: feature %v has geometry %T", z, f.ID, f.Geometry)
				}
			}
		}
	}
	if fc := parseFC(t, e.get("/api/v1/layers/holes?zoom=8").body); fc == nil {
		t.Error("holes at zoom 8 did not parse")
	}
	for _, bad := range []string{"-1", "25", "x", "1.5"} {
		wantProblem(t, e.get("/api/v1/layers/areas?zoom="+bad), 400, "zoom")
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.8", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"br", false},
		{"x-gzip", false},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Encoding", tc.header)
		}
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestWholeLayerGzip: a whole layer, asked for without a query or with a
// bbox around everything, comes pre-compressed to clients that accept
// gzip, and decompresses to the plain body.
func TestWholeLayerGzip(t *testing.T) {
	e := newEnv(t, Options{})
	plain := e.do("GET", "/api/v1/layers/areas", "", nil, "Accept-Encoding", "identity")
	if plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("identity request got Content-Encoding %q", plain.header.Get("Content-Encoding"))
	}
	for _, path := range []string{"/api/v1/layers/areas", "/api/v1/layers/areas?bbox=-180,-90,180,90"} {
		z := e.do("GET", path, "", nil, "Accept-Encoding", "gzip")
		if z.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", path, z.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(z.body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain.body) {
			t.Errorf("%s: gzip body differs from the plain one", path)
		}
	}
}

// TestZoomedLayerGzip: a whole layer at a zoom is the prepared bytes of
// that zoom, the same as the filtered query makes, and comes gzipped to
// clients that accept it.
func TestZoomedLayerGzip(t *testing.T) {
	e := newEnv(t, Options{})
	for _, layer := range []string{"areas", "holes", "unobserved"} {
		for _, z := range []string{"3", "8", "14"} {
			path := "/api/v1/layers/" + layer + "?zoom=" + z
			plain := e.do("GET", path, "", nil, "Accept-Encoding", "identity")
			if plain.status != 200 || plain.header.Get("Content-Encoding") != "" {
				t.Fatalf("%s: status %d, Content-Encoding %q", path, plain.status, plain.header.Get("Content-Encoding"))
			}
			filtered := e.do("GET", path+"&limit=9999", "", nil, "Accept-Encoding", "identity")
			if !bytes.Equal(plain.body, filtered.body) {
				t.Errorf("%s: whole body differs from the filtered one", path)
			}
			fc := parseFC(t, plain.body)
			if layer == "areas" && len(fc.Features) == 0 {
				t.Errorf("%s: no features", path)
			}
			z := e.do("GET", path, "", nil, "Accept-Encoding", "gzip")
			if z.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s: Content-Encoding %q, want gzip", path, z.header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(z.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain.body) {
				t.Errorf("%s: gzip body differs from the plain one", path)
			}
		}
	}
}

// TestFilteredLayerGzip: a window of a layer, made for the request, is
// gzipped for clients that accept it and decompresses to the plain body.
func TestFilteredLayerGzip(t *testing.T) {
	e := newEnv(t, Options{})
	for _, path := range []string{
		"/api/v1/layers/areas?zoom=8&limit=2",
		"/api/v1/layers/areas?bbox=105,9,107,12&zoom=12",
		"/api/v1/layers/holes?carrier=viettel&zoom=9",
		"/api/v1/layers/reports?limit=5",
	} {
		plain := e.do("GET", path, "", nil, "Accept-Encoding", "identity")
		if plain.status != 200 || plain.header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: status %d, Content-Encoding %q", path, plain.status, plain.header.Get("Content-Encoding"))
		}
		z := e.do("GET", path, "", nil, "Accept-Encoding", "gzip")
		if z.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", path, z.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(z.body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain.body) {
			t.Errorf("%s: gzip body differs from the plain one", path)
		}
	}
	// An error before any feature is written goes out plain.
	bad := e.do("GET", "/api/v1/layers/areas?zoom=99", "", nil, "Accept-Encoding", "gzip")
	if bad.status != 400 || bad.header.Get("Content-Encoding") != "" {
		t.Errorf("bad zoom: status %d, Content-Encoding %q", bad.status, bad.header.Get("Content-Encoding"))
	}
}

// TestZoomedLayerIgnoresWhatDoesNotFilter: the page sends its carrier,
// technology and dates with every layer; areas, which none of them
// filter, still come as the prepared whole layer of the zoom.
func TestZoomedLayerIgnoresWhatDoesNotFilter(t *testing.T) {
	e := newEnv(t, Options{})
	got := e.do("GET", "/api/v1/layers/areas?zoom=9&bbox=-180,-90,180,90&carrier=viettel&tech=4g&from=2025-01-01T00:00:00%2B07:00", "", nil, "Accept-Encoding", "identity")
	c := e.srv.cur.load().cat
	c.mu.Lock()
	b := c.zoomBodies["areas/9"]
	c.mu.Unlock()
	if b == nil || b.plain == nil {
		t.Fatal("the whole layer of zoom 9 was not prepared")
	}
	want := e.do("GET", "/api/v1/layers/areas?zoom=9", "", nil, "Accept-Encoding", "identity")
	if got.status != 200 || !bytes.Equal(got.body, want.body) || !bytes.Equal(got.body, b.plain) {
		t.Errorf("status %d; body differs from the whole layer's: %d and %d bytes", got.status, len(got.body), len(want.body))
	}
	// Holes are filtered by carrier: that is a window, not the whole.
	e.do("GET", "/api/v1/layers/holes?zoom=10&carrier=viettel", "", nil, "Accept-Encoding", "identity")
	c.mu.Lock()
	made := len(c.zoomBodies)
	c.mu.Unlock()
	if made != 1 {
		t.Error("holes of one carrier served as the whole layer")
	}
}

// TestSimplifiedKeptForRecentZooms: a layer keeps the simplified
// geometries of the zooms last asked for only, and makes a zoom's again,
// the same, when asked for it after it was let go.
func TestSimplifiedKeptForRecentZooms(t *testing.T) {
	var mps []orb.MultiPolygon
	for i := range 30 {
		x, y := 106+float64(i%6)*0.01, 10+float64(i/6)*0.01
		var ring orb.Ring
		for k := range 40 { // a wobbly square, so that zooms simplify it differently
			f := float64(k) / 10
			d := 0.0003 * float64(k%3)
			switch k / 10 {
			case 0:
				ring = append(ring, orb.Point{x + f*0.01, y - d})
			case 1:
				ring = append(ring, orb.Point{x + 0.01 + d, y + (f-1)*0.01})
			case 2:
				ring = append(ring, orb.Point{x + (3-f)*0.01, y + 0.01 + d})
			default:
				ring = append(ring, orb.Point{x - d, y + (4-f)*0.01})
			}
		}
		ring = append(ring, ring[0])
		mps = append(mps, orb.MultiPolygon{{ring}})
	}
	lt := &layerTopo{src: mps, top: topo.Build(mps)}
	first := map[int][]orb.MultiPolygon{}
	kept := func() (zs []int) {
		for i, s := range lt.simple {
			if s != nil {
				zs = append(zs, i+minZoom)
			}
		}
		return zs
	}
	for _, step := range []struct {
		z    int
		kept []int
	}{{6, []int{6}}, {7, []int{6, 7}}, {6, []int{6, 7}}, {12, []int{6, 12}}, {7, []int{7, 12}}, {7, []int{7, 12}}, {6, []int{6, 7}}} {
		got := lt.simplified(step.z)
		if f, ok := first[step.z]; ok && !reflect.DeepEqual(f, got) {
			t.Errorf("zoom %d simplified again differs", step.z)
		}
		first[step.z] = got
		if !slices.Equal(kept(), step.kept) {
			t.Errorf("after zoom %d, zooms %v kept, want %v", step.z, kept(), step.kept)
		}
	}
}
