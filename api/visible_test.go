package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gapmap/gapmap/geo/sim"
)

// newSimServer returns a server over a GeoPackage holding the simulated
// province with n reports, the world it was made from, and an admin's API
// token.
func newSimServer(b testing.TB, n int) (*Server, *sim.World, string) {
	ctx := context.Background()
	w, err := sim.Generate(sim.Options{Seed: 1, Reports: n})
	if err != nil {
		b.Fatal(err)
	}
	st, err := gpkg.Open(ctx, filepath.Join(b.TempDir(), "sim.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, w.Areas[0].Vintage, w.Areas); err != nil {
		b.Fatal(err)
	}
	if err := st.ReplaceTeams(ctx, w.Teams); err != nil {
		b.Fatal(err)
	}
	if _, err := st.AddReports(ctx, w.Reports, geo.AuditEntry{}); err != nil {
		b.Fatal(err)
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
	return srv, w, tok
}

// visibility posts reports one at a time and, after each 201, polls until
// the report shows in every layer and in an OGC page.
type visibility struct {
	b     *testing.B
	srv   *Server
	h     http.Handler
	token string
	sink  sink
}

func (v *visibility) do(method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+v.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	v.h.ServeHTTP(w, req)
	return w
}

// feature returns the line of a layer or page body holding the feature
// with the given id, or nil.
func feature(body []byte, id string) []byte {
	head := []byte(`{"type":"Feature","id":` + strconv.Quote(id) + `,`)
	i := bytes.Index(body, head)
	if i < 0 {
		return nil
	}
	l := body[i:]
	if j := bytes.IndexByte(l, '\n'); j >= 0 {
		l = l[:j]
	}
	return l
}

// visible reports whether report id, the n-th report held, shows in the
// OGC reports page that ends at it, first in the reports layer, and in
// its area's counts (reports, wanted) in the areas layer and the areas
// OGC item; the holes and teams layers are read too.
func (v *visibility) visible(id string, n int, area string, reports int) bool {
	code, body := v.read(fmt.Sprintf("/ogc/collections/reports/items?offset=%d&limit=10", n-10))
	if code != 200 || feature(body, id) == nil {
		return false
	}
	code, body = v.read("/api/v1/layers/reports")
	if i := bytes.IndexByte(body, '\n'); code != 200 || i < 0 ||
		!bytes.HasPrefix(body[i+1:], []byte(`{"type":"Feature","id":`+strconv.Quote(id))) {
		return false
	}
	count := []byte(`,"reports":` + strconv.Itoa(reports) + `,`)
	for _, p := range []string{"/api/v1/layers/areas", "/ogc/collections/areas/items/" + area} {
		code, body = v.read(p)
		if f := feature(body, area); code != 200 || !bytes.Contains(f, count) {
			return false
		}
	}
	for _, p := range []string{"/api/v1/layers/holes", "/api/v1/layers/teams"} {
		if code, _ := v.read(p); code != 200 {
			v.b.Fatalf("%s: %d", p, code)
		}
	}
	return true
}

// read GETs path and returns the status and the body, which is good
// until the next read (the benchmark's reads reuse one buffer, so that
// they do not make work for the collector).
func (v *visibility) read(path string, hdr ...string) (int, []byte) {
	req := httptest.NewRequest("GET", path, nil)
	if v.token != "" { // "": the public
		req.Header.Set("Authorization", "Bearer "+v.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	v.sink.header, v.sink.code = http.Header{}, 0
	v.sink.body.Reset()
	v.h.ServeHTTP(&v.sink, req)
	return v.sink.code, v.sink.body.Bytes()
}

// sink is a response writer that keeps the body in one reused buffer.
type sink struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (s *sink) Header() http.Header { return s.header }

func (s *sink) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return s.body.Write(p)
}

// BenchmarkReportVisible measures how long after its 201 a posted report
// shows in every layer and an OGC page, over a GeoPackage store with the
// simulated province at the demo size (60,000 reports) and at 1M (skipped
// under -short). Each iteration posts one weak report at the place of a
// random existing one, then reads (every 200 µs) the OGC reports page
// that ends at it, the reports layer, the areas layer and OGC item of its
// area, and the holes and teams layers, until all of them show it. p50
// and p99 are of the delay from the 201 to the start of the round of reads
// that found it everywhere; read-ms is that round's p50 (reading 4–5 MB
// of layers), post-ms the POST's own p50, analysis-* the time from the
// start of the analysis the report woke to its publication.
func BenchmarkReportVisible(b *testing.B) {
	for _, n := range []int{60_000, 1_000_000} {
		if n > 100_000 && testing.Short() {
			continue
		}
		srv, w, tok := newSimServer(b, n)
		v := &visibility{b: b, srv: srv, h: srv.Handler(), token: tok}
		at := sim.DefaultEnd.Add(-time.Hour).UTC().Format(time.RFC3339)
		rng := rand.New(rand.NewPCG(1, 2))
		// Places of reports to post at, inside areas; the world is let go
		// so the heap is the server's.
		var places []geo.Report
		for len(places) < 4096 {
			r := w.Reports[rng.IntN(len(w.Reports))]
			if srv.svc.Locate(r.Lon, r.Lat) >= 0 {
				places = append(places, geo.Report{Lat: r.Lat, Lon: r.Lon, Carrier: r.Carrier})
			}
		}
		w = nil
		runtime.GC()
		b.Run(fmt.Sprintf("reports=%d", n), func(b *testing.B) {
			v.b = b
			lat := make([]time.Duration, 0, b.N)
			post := make([]time.Duration, 0, b.N)
			an := make([]time.Duration, 0, b.N)
			check := make([]time.Duration, 0, b.N)
			for range b.N {
				src := &places[rng.IntN(len(places))]
				area := int(srv.svc.Locate(src.Lon, src.Lat))
				st := srv.cur.load()
				held := len(st.obs)
				code, before := "", 0
				for _, sc := range st.result.Areas {
					if sc.Index == area {
						code, before = sc.Code, sc.Reports
					}
				}
				body := fmt.Appendf(nil, `{"lat":%.7f,"lon":%.7f,"observed_at":%q,"carrier":%q,"tech":"4G","signal_dbm":-121}`,
					src.Lat, src.Lon, at, src.Carrier.String())
				t0 := time.Now()
				r := v.do("POST", "/api/v1/reports", body)
				t1 := time.Now()
				if r.Code != 201 {
					b.Fatalf("post: %d %s", r.Code, r.Body)
				}
				id := r.Header().Get("Location")[len("/api/v1/reports/"):]
				// The report is visible from the start of the first round
				// of reads that finds it everywhere.
				var seen, read time.Time
				for {
					seen = time.Now()
					if v.visible(id, held+1, code, before+1) {
						read = time.Now()
						break
					}
					time.Sleep(200 * time.Microsecond)
				}
				lat = append(lat, seen.Sub(t1))
				check = append(check, read.Sub(seen))
				post = append(post, t1.Sub(t0))
				an = append(an, time.Duration(srv.metrics.analysisNanos.Load()))
				if os.Getenv("VISIBLE_TRACE") != "" {
					b.Logf("visible %v read %v post %v analysis %v", lat[len(lat)-1], check[len(check)-1], post[len(post)-1], an[len(an)-1])
				}
			}
			slices.Sort(lat)
			slices.Sort(post)
			slices.Sort(an)
			slices.Sort(check)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(ms(post[len(post)/2]), "post-ms")
			b.ReportMetric(ms(check[len(check)/2]), "read-ms")
			b.ReportMetric(ms(an[len(an)/2]), "analysis-p50-ms")
			b.ReportMetric(ms(an[len(an)*99/100]), "analysis-p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// BenchmarkWholeLayer compares ways of serving a whole layer after a
// publication, at the demo size (60,000 reports): segments, the first
// request for gzip after a report was published (the segments whose
// features changed are deflated again, the others reused; what the server
// does); cached, a later gzip request (the segments written out); plain,
// a later plain request (the joined layer written out); whole, joining
// the layer and deflating it all (what a whole-layer gzip made lazily
// costs once per publication); stream, deflating the features on the fly
// for each request.
func BenchmarkWholeLayer(b *testing.B) {
	srv, w, tok := newSimServer(b, 60_000)
	v := &visibility{b: b, srv: srv, h: srv.Handler(), token: tok}
	at := sim.DefaultEnd.Add(-time.Hour).UTC().Format(time.RFC3339)
	n := 0
	post := func() {
		src := &w.Reports[n*7919%len(w.Reports)]
		n++
		body := fmt.Appendf(nil, `{"lat":%.7f,"lon":%.7f,"observed_at":%q,"carrier":%q,"tech":"4G","signal_dbm":-121}`,
			src.Lat, src.Lon, at, src.Carrier.String())
		if r := v.do("POST", "/api/v1/reports", body); r.Code != 201 {
			b.Fatalf("post: %d %s", r.Code, r.Body)
		}
		srv.WaitIdle()
	}
	get := func(layer, enc string) {
		code, _ := v.read("/api/v1/layers/"+layer, "Accept-Encoding", enc)
		if code != 200 || v.sink.header.Get("Content-Encoding") != map[string]string{"gzip": "gzip"}[enc] {
			b.Fatalf("%s: %d %q", layer, code, v.sink.header.Get("Content-Encoding"))
		}
	}
	// join writes the features as a layer body.
	join := func(wl wholeLayer, w *bufio.Writer) {
		w.WriteString(layerHead)
		for i := range wl.feats {
			writeFeatureLine(w, i == 0, wl.at(i).json)
		}
		w.WriteString(layerTail)
		w.Flush()
	}
	for _, layer := range []string{"areas", "holes", "reports"} {
		b.Run(layer+"/segments", func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				post()
				b.StartTimer()
				get(layer, "gzip")
			}
			g := srv.cur.load().cat.bodies[layer]
			b.ReportMetric(float64(g.deflated), "deflated")
			b.ReportMetric(float64(len(g.segs)), "segments")
			b.ReportMetric(float64(g.clen)/1e3, "gzip-kB")
		})
		b.Run(layer+"/cached", func(b *testing.B) {
			get(layer, "gzip")
			for range b.N {
				get(layer, "gzip")
			}
		})
		b.Run(layer+"/plain", func(b *testing.B) {
			get(layer, "identity")
			for range b.N {
				get(layer, "identity")
			}
			b.ReportMetric(float64(len(srv.cur.load().cat.plain(layer)))/1e3, "plain-kB")
		})
		b.Run(layer+"/whole", func(b *testing.B) {
			wl := srv.cur.load().cat.whole(layer)
			var zn int
			for range b.N {
				var plain bytes.Buffer
				join(wl, bufio.NewWriter(&plain))
				var z bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
				zw.Write(plain.Bytes())
				zw.Close()
				zn = z.Len()
			}
			b.ReportMetric(float64(zn)/1e3, "gzip-kB")
		})
		b.Run(layer+"/stream", func(b *testing.B) {
			wl := srv.cur.load().cat.whole(layer)
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
			for range b.N {
				zw.Reset(io.Discard)
				join(wl, bufio.NewWriterSize(zw, bodyBufSize))
				zw.Close()
			}
		})
	}
}
