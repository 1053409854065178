package postgis

import (
	"context"
	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/postgis/pgtest"
	"github.com/gapmap/gapmap/data/storetest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

// openTemp opens a store over a new database and returns it with the
// database's DSN.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := cluster.DSN(cluster.NewDatabase(t))
	return openDSN(t, dsn), dsn
}

func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backend runs the contract suite over new databases of the cluster.
func backend() storetest.Backend {
	var mu sync.Mutex
	dsns := map[storetest.Store]string{}
	return storetest.Backend{
		New: func(t *testing.T) storetest.Store {
			s, dsn := openTemp(t)
			mu.Lock()
			dsns[s] = dsn
			mu.Unlock()
			return s
		},
		Again: func(t *testing.T, s storetest.Store) storetest.Store {
			mu.Lock()
			dsn := dsns[s]
			mu.Unlock()
			s2 := openDSN(t, dsn)
			mu.Lock()
			dsns[s2] = dsn
			mu.Unlock()
			return s2
		},
	}
}

func TestContract(t *testing.T) { storetest.Run(t, backend()) }

// TestExtension: a store opened by a superuser on a database without
// PostGIS creates the extension; one opened by a role that may not gets
// an error saying what a superuser must run, and changes nothing.
func TestExtension(t *testing.T) {
	ctx := context.Background()
	t.Run("created by a superuser", func(t *testing.T) {
		dsn := cluster.DSN(cluster.NewEmptyDatabase(t))
		s := openDSN(t, dsn)
		var v string
		if err := s.pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'postgis'`).Scan(&v); err != nil {
			t.Fatalf("postgis extension after Open: %v", err)
		}
	})
	t.Run("no right to create it", func(t *testing.T) {
		db := cluster.NewEmptyDatabase(t)
		dsn := cluster.Role(t, db, "gapmap_owner")
		_, err := Open(ctx, dsn)
		if err == nil {
			t.Fatal("Open without postgis and without the right to create it: no error")
		}
		for _, want := range []string{"CREATE EXTENSION postgis;", "superuser", db} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		// Once a superuser has created it, the owner opens the store.
		cluster.Exec(t, db, `CREATE EXTENSION postgis`)
		s := openDSN(t, dsn)
		if _, err := s.Version(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMigrations: Open applies every migration once, in order, and a
// second Open (or two at once, as replicas starting together) applies
// none again.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := cluster.DSN(cluster.NewDatabase(t))
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openDSN(t, dsn)
	var n, max int
	if err := s.pool.QueryRow(ctx, `SELECT count(*), max(version) FROM gapmap_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != len(migrations) {
		t.Errorf("%d migrations recorded (max %d), want %d", n, max, len(migrations))
	}
}

// TestSchema checks what GIS tools and operators see: geometry columns
// of the right type and SRID with GiST indexes, byte-order sorting, and
// the analysis as SaveAnalysis leaves it.
func TestSchema(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storetest.FillData(t, s)
	if err := s.SaveAnalysis(ctx, storetest.Analysis()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT f_table_name || '.' || f_geometry_column || ' ' || type || ' ' || srid
  FROM geometry_columns WHERE f_table_schema = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"areas.geom MULTIPOLYGON 4326", "frozen_gaps.geom MULTIPOLYGON 4326", "holes.geom MULTIPOLYGON 4326", "reports.geom POINT 4326",
		"scored_areas.geom MULTIPOLYGON 4326", "teams.geom POINT 4326"}
	if !slices.Equal(cols, want) {
		t.Errorf("geometry columns %q, want %q", cols, want)
	}
	rows, err = s.pool.Query(ctx, `SELECT tablename FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%USING gist (geom)%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	gist, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"areas", "frozen_gaps", "holes", "reports", "teams"}; !slices.Equal(gist, want) {
		t.Errorf("GiST indexes on %q, want %q", gist, want)
	}
	// A spatial query as a GIS tool would make it: the area holding a point.
	var code string
	if err := s.pool.QueryRow(ctx, `SELECT code FROM areas WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(105.81, 21.01), 4326))`).Scan(&code); err != nil || code != "001" {
		t.Errorf("area containing the point: %q, %v; want 001", code, err)
	}
	var median *float64
	var state string
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT median_signal_dbm, state, jsonb_array_length(area_names) FROM holes WHERE id = 'viettel-8a1f'`).Scan(&median, &state, &n); err != nil {
		t.Fatal(err)
	}
	if median != nil || state != "open" || n != 1 {
		t.Errorf("hole: median %v (want NULL for NaN), state %q, %d area names", median, state, n)
	}
	var view, analysed int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM scored_areas), (SELECT reports FROM analysis)`).Scan(&view, &analysed); err != nil {
		t.Fatal(err)
	}
	if view != 2 || analysed != 1234 {
		t.Errorf("scored_areas has %d rows (want 2), analysis %d reports (want 1234)", view, analysed)
	}
}

// TestLead: of two stores over one database, the first to ask leads a
// work, the other does not, and takes it over once the first is closed.
func TestLead(t *testing.T) {
	ctx := context.Background()
	a, dsn := openTemp(t)
	b := openDSN(t, dsn)
	for _, tc := range []struct {
		s    *Store
		work string
		want bool
	}{{a, "save-analysis", true}, {b, "save-analysis", false}, {a, "save-analysis", true}, {b, "monthly-freeze", true}} {
		if got, err := tc.s.Lead(ctx, tc.work); err != nil || got != tc.want {
			t.Errorf("Lead(%s): %v, %v; want %v", tc.work, got, err, tc.want)
		}
	}
	// The server frees the lock once the leader's connection has ended,
	// a moment after Close returns: ask as a replica would, until then.
	a.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		got, err := b.Lead(ctx, "save-analysis")
		if err != nil {
			t.Fatal(err)
		}
		if got {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("Lead 5 s after the leader closed: still false")
		}
	}
}

// TestChangedNotifies: a commit by another store wakes Changed. The
// listener connects in the background, so commits are repeated until one
// is heard, for at most 5 s.
func TestChangedNotifies(t *testing.T) {
	ctx := context.Background()
	a, dsn := openTemp(t)
	b := openDSN(t, dsn)
	for i := 0; i < 50; i++ {
		if _, err := a.AddReports(ctx, []geo.Report{{Lat: 1, Lon: 1, ObservedAt: time.Now(), Carrier: geo.Viettel}}, geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.Changed():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no notification in 5 s of another store's commits")
}
