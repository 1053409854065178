package postgis

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// BenchmarkImportReference loads the reports of GAPMAP_BENCH_REPORTS (a
// reports CSV or GeoJSON, e.g. 1M demo reports) into PostGIS the plainest
// way, COPY into a table then CREATE INDEX USING GIST, and the same
// reports into a new GeoPackage store with AddReports, and reports both
// times and their ratio (gpkg/ref). Reading the file is not timed.
func BenchmarkImportReference(b *testing.B) {
	path := os.Getenv("GAPMAP_BENCH_REPORTS")
	if path == "" {
		b.Skip("GAPMAP_BENCH_REPORTS names no reports file")
	}
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var rs []geo.Report
	_, err = ingest.ReadReports(ctx, bufio.NewReaderSize(f, 1<<20), ingest.ReportFormat(path), ingest.ReportOptions{},
		func(_ int, r *geo.Report) error { rs = append(rs, *r); return nil })
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		conn, err := pgx.Connect(ctx, cluster.DSN(cluster.NewDatabase(b)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE ref_reports (id text, observed_at timestamptz, carrier text,
  tech text, signal_dbm double precision, download_mbps double precision, upload_mbps double precision,
  no_service boolean, geom geometry(Point, 4326))`); err != nil {
			b.Fatal(err)
		}
		var oid uint32
		if err := conn.QueryRow(ctx, `SELECT 'geometry'::regtype::oid`).Scan(&oid); err != nil {
			b.Fatal(err)
		}
		registerGeometry(conn.TypeMap(), oid)
		i := 0
		start := time.Now()
		_, err = conn.CopyFrom(ctx, pgx.Identifier{"ref_reports"}, []string{"id", "observed_at", "carrier", "tech",
			"signal_dbm", "download_mbps", "upload_mbps", "no_service", "geom"}, pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rs) {
				return nil, nil
			}
			r := &rs[i]
			i++
			g, err := encodeGeom(orb.Point{r.Lon, r.Lat})
			if err != nil {
				return nil, err
			}
			return []any{r.ID, r.ObservedAt, r.Carrier.String(), r.Tech.String(), r.SignalDBm, r.DownloadMbps,
				r.UploadMbps, r.NoService, g}, nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		copied := time.Since(start)
		if _, err := conn.Exec(ctx, `CREATE INDEX ON ref_reports USING GIST (geom)`); err != nil {
			b.Fatal(err)
		}
		ref := time.Since(start)
		conn.Close(ctx)

		st, err := gpkg.Open(ctx, filepath.Join(b.TempDir(), "bench.gpkg"))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); err != nil {
			b.Fatal(err)
		}
		g := time.Since(start)
		st.Close()
		b.ReportMetric(copied.Seconds(), "copy-s")
		b.ReportMetric((ref - copied).Seconds(), "gist-s")
		b.ReportMetric(g.Seconds(), "gpkg-s")
		b.ReportMetric(g.Seconds()/ref.Seconds(), "gpkg/ref")
	}
}
