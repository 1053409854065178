package api

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/paulmach/orb"
)

// cityAreas returns n×n hamlets of about 40 vertices each tiling a square
// of side deg degrees from (x0, y0).
func cityAreas(n int, x0, y0, deg float64) []geo.Area {
	s := deg / float64(n)
	areas := make([]geo.Area, 0, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			var r orb.Ring
			cx, cy := x0+(float64(i)+0.5)*s, y0+(float64(j)+0.5)*s
			for k := 0; k < 40; k++ {
				a := 2 * math.Pi * float64(k) / 40
				rr := s / 2 * (0.9 + 0.05*math.Sin(5*a))
				r = append(r, orb.Point{cx + rr*math.Cos(a), cy + rr*math.Sin(a)})
			}
			r = append(r, r[0])
			areas = append(areas, geo.Area{
				Code: fmt.Sprintf("H%05d", j*n+i), Name: fmt.Sprintf("Khu phố %d", j*n+i+1),
				ParentCode: fmt.Sprintf("C%03d", j/10*10+i/10), Level: geo.LevelHamlet, Vintage: "bench",
				Population: 1500, Geometry: orb.MultiPolygon{{r}},
			})
		}
	}
	return areas
}

// The city of the load benchmarks: 100 × 100 hamlets from (x0, y0).
const x0, y0, side = 106.6, 10.7, 0.2

// newCityServer returns a server over a store holding the city, and an
// API token of a user with the given role.
func newCityServer(b *testing.B, role geo.Role) (*Server, string) {
	ctx := context.Background()
	st, err := gpkg.Open(ctx, filepath.Join(b.TempDir(), "city.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, "bench", cityAreas(100, x0, y0, side)); err != nil {
		b.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	srv, err := New(svc, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.AddUser(ctx, geo.User{Name: "planner", Role: role}, geo.AuditEntry{}); err != nil {
		b.Fatal(err)
	}
	_, tok, err := svc.CreateToken(ctx, service.CommandLine("bench"), "planner", "bench")
	if err != nil {
		b.Fatal(err)
	}
	return srv, tok
}

// load runs requests from conc concurrent clients until total have been
// made, and returns the rate and the 50th and 99th percentile latencies.
// With a token, every request carries it.
func load(b *testing.B, base, token string, conc, total int, path func(*rand.Rand) string) (rps float64, p50, p99 time.Duration) {
	// Like wrk, the client does not ask for compression.
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequest("GET", base+path(rng), nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}(uint64(w))
	}
	wg.Wait()
	el := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, total)
	}
	slices.Sort(lat)
	return float64(total) / el.Seconds(), lat[total/2], lat[total*99/100]
}

// BenchmarkLayerWindows serves the areas layer of a city of 10,000
// hamlets over loopback to 64 concurrent clients, the setting of the
// pg_featureserv comparison in the service issue: the whole city's bbox,
// and random tile-sized windows (zoom 15, about 1.2 km). Each run makes a
// fixed number of requests and stops by itself. The "-token" case is a
// signed-in program's: each request also looks its API token up.
func BenchmarkLayerWindows(b *testing.B) {
	srv, tok := newCityServer(b, geo.RoleReviewer)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	tile := 360 / math.Exp2(15)
	window := func(r *rand.Rand) string {
		x, y := x0+r.Float64()*(side-tile), y0+r.Float64()*(side-tile)
		return fmt.Sprintf("/api/v1/layers/areas?bbox=%.6f,%.6f,%.6f,%.6f", x, y, x+tile, y+tile)
	}
	cases := []struct {
		name  string
		total int
		path  func(*rand.Rand) string
		token string
	}{
		{"city-bbox", 2000, func(*rand.Rand) string {
			return fmt.Sprintf("/api/v1/layers/areas?bbox=%g,%g,%g,%g", x0, y0, x0+side, y0+side)
		}, ""},
		{"city-bbox-zoom12", 4000, func(*rand.Rand) string {
			return fmt.Sprintf("/api/v1/layers/areas?zoom=12&bbox=%g,%g,%g,%g", x0, y0, x0+side, y0+side)
		}, ""},
		{"tile-window", 40000, window, ""},
		{"tile-window-token", 40000, window, tok},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var rps float64
			var p50, p99 time.Duration
			for range b.N {
				rps, p50, p99 = load(b, ts.URL, c.token, 64, c.total, c.path)
			}
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkLayerWindowHandler is the server's own cost of one random
// tile-sized window over 10,000 hamlets, without the network: for the
// public, and for a program with an API token (looked up in the store on
// each request, so that a revoked token fails at once).
func BenchmarkLayerWindowHandler(b *testing.B) {
	srv, tok := newCityServer(b, geo.RoleReviewer)
	h := srv.Handler()
	tile := 360 / math.Exp2(15)
	for _, c := range []struct{ name, token string }{{"public", ""}, {"token", tok}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			for range b.N {
				x, y := x0+rng.Float64()*(side-tile), y0+rng.Float64()*(side-tile)
				req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/layers/areas?bbox=%.6f,%.6f,%.6f,%.6f", x, y, x+tile, y+tile), nil)
				if c.token != "" {
					req.Header.Set("Authorization", "Bearer "+c.token)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
