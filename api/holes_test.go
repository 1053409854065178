package api

import (
	"context"
	"testing"

	"github.com/gapmap/gapmap/geo/service"
)

// BenchmarkHolesByViewer measures the holes layer, whole and gzipped, as
// each kind of viewer gets it at the demo size (60,000 reports), public
// setting outline: the province (the full holes' prepared layer), the
// public (the outlines' prepared layer) and a carrier (its holes in full
// and the others' outlines, joined per request); and the public's OGC
// page of 100 holes.
func BenchmarkHolesByViewer(b *testing.B) {
	srv, _, admin := newSimServer(b, 60_000)
	ctx, cli := context.Background(), service.CommandLine("bench")
	if _, err := srv.svc.AddUser(ctx, cli, service.UserSpec{Name: "viettel-planning", Role: "carrier", Carrier: "viettel"}); err != nil {
		b.Fatal(err)
	}
	_, carrier, err := srv.svc.CreateToken(ctx, cli, "viettel-planning", "bench")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, token, path string }{
		{"province", admin, "/api/v1/layers/holes"},
		{"public", "", "/api/v1/layers/holes"},
		{"carrier", carrier, "/api/v1/layers/holes"},
		{"public-ogc-page", "", "/ogc/collections/holes/items"},
	} {
		b.Run(c.name, func(b *testing.B) {
			v := &visibility{b: b, srv: srv, h: srv.Handler(), token: c.token}
			b.ReportAllocs()
			var n int
			for range b.N {
				code, body := v.read(c.path, "Accept-Encoding", "gzip")
				if code != 200 {
					b.Fatalf("%s: %d", c.path, code)
				}
				n = len(body)
			}
			b.ReportMetric(float64(n)/1e3, "kB")
		})
	}
}
