// Package storetest is the store contract's test suite: one set of tests
// that every store backend (data/gpkg, data/postgis) must pass, run from
// each backend's own tests with Run. The tests speak only through the
// contract — geo.Store, geo.Accounts and the methods of Store below —
// never through a backend's tables; what is particular to one backend
// (a GeoPackage's layout for GDAL, a file's mode) is tested beside it.
//
// Times are compared to the microsecond, the precision every backend
// keeps (PostgreSQL's; the GeoPackage keeps nanoseconds).
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// Store is what the suite tests: the contracts the service works
// against, and what the command line uses besides.
type Store interface {
	geo.Store
	geo.Accounts
	geo.TaskStore
	geo.HoleStore
	geo.WebhookStore
	geo.ThrottleStore
	ReplaceAreas(ctx context.Context, vintage string, areas []geo.Area) error
	ReplaceTeams(ctx context.Context, ts []geo.Team) error
	Counts(ctx context.Context) (areas, reports, teams, holes int, err error)
	Empty(ctx context.Context) (bool, error)
	Close() error
}

// Backend makes the stores the suite runs over.
type Backend struct {
	// New returns a store over new, empty storage. The store is closed,
	// and the storage removed, when t ends.
	New func(t *testing.T) Store
	// Again opens another store over the storage of s, as a second
	// process would; it is closed when t ends.
	Again func(t *testing.T, s Store) Store
}

// Run runs every test of the suite against b, each as a subtest.
func Run(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"AreasRoundTrip", testAreasRoundTrip},
		{"ReplaceAreasFailureKeepsPrevious", testReplaceAreasFailureKeepsPrevious},
		{"ReportsRoundTrip", testReportsRoundTrip},
		{"LargeReportBatches", testLargeReportBatches},
		{"AddReportIdempotent", testAddReportIdempotent},
		{"SecondHandleSeesCommits", testSecondHandleSeesCommits},
		{"TeamsAndCounts", testTeamsAndCounts},
		{"Empty", testEmpty},
		{"SaveAnalysisReplaces", testSaveAnalysisReplaces},
		{"SaveAnalysisRejects", testSaveAnalysisRejects},
		{"Users", testUsers},
		{"UserErrors", testUserErrors},
		{"UsersEmpty", testUsersEmpty},
		{"Tokens", testTokens},
		{"TokenErrors", testTokenErrors},
		{"Sessions", testSessions},
		{"Audit", testAudit},
		{"Reviews", testReviews},
		{"AccountsSurviveReopen", testAccountsSurviveReopen},
		{"VersionSeesOtherHandles", testVersionSeesOtherHandles},
		{"VersionAfterReopen", testVersionAfterReopen},
		{"EachReportSince", testEachReportSince},
		{"EachReportSinceConcurrentWriters", testEachReportSinceConcurrentWriters},
		{"IdempotencyKeysPerSubmitter", testIdempotencyKeysPerSubmitter},
		{"TokenLineage", testTokenLineage},
		{"AuditWithWrites", testAuditWithWrites},
		{"Tasks", testTasks},
		{"HoleRecordsRoundTrip", testHoleRecordsRoundTrip},
		{"FreezeGaps", testFreezeGaps},
		{"WebhooksRoundTrip", testWebhooksRoundTrip},
		{"ThrottleShared", testThrottleShared},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// ICT is Indochina Time, so tests check that times come back in UTC or
// in their own offset.
var ICT = time.FixedZone("ICT", 7*3600)

// Ptr returns a pointer to v.
func Ptr(v float64) *float64 { return &v }

// Square is the closed ring of the square with corner (x, y) and side d.
func Square(x, y, d float64) orb.Ring {
	return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
}

// WithHole is two parts, the first with a hole.
var WithHole = orb.MultiPolygon{
	{Square(105.8, 21.0, 0.1), Square(105.82, 21.02, 0.02)},
	{Square(106.0, 21.2, 0.05)},
}

// Areas are two areas of vintage, with Vietnamese names and properties,
// one of them of two parts with a hole.
func Areas(vintage string) []geo.Area {
	return []geo.Area{
		{Code: "001", Name: "Ấp Phú Hòa Đông", ParentCode: "X01", Level: geo.LevelHamlet, Vintage: vintage,
			Population: 1234, Households: 321, Geometry: WithHole,
			Props: map[string]any{"ghi_chú": "Thôn Đồng Tâm – xã Hưng Yên", "n": 3.0}},
		{Code: "002", Name: "Khóm Mỹ Thới", Level: geo.LevelCommune, Vintage: vintage,
			Geometry: orb.MultiPolygon{{Square(105.9, 21.1, 0.05)}}},
	}
}

// FillData stores Areas("2025"), three reports (r1, r2, r3) and two
// teams in s.
func FillData(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.ReplaceAreas(ctx, "2025", Areas("2025")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddReports(ctx, []geo.Report{
		{ID: "r1", Lat: 21.01, Lon: 105.81, ObservedAt: time.Now(), Carrier: geo.Viettel, SignalDBm: Ptr(-120)},
		{ID: "r2", Lat: 21.03, Lon: 105.85, ObservedAt: time.Now(), Carrier: geo.MobiFone, NoService: true},
		{ID: "r3", Lat: 21.05, Lon: 105.86, ObservedAt: time.Now(), Carrier: geo.VinaPhone},
	}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceTeams(ctx, Teams()); err != nil {
		t.Fatal(err)
	}
}

// Teams are two teams, one without a location.
func Teams() []geo.Team {
	return []geo.Team{
		{ID: "t1", Name: "Tổ công nghệ số ấp Phú Hòa", AreaCode: "001", Members: 7, HouseholdsReached: 120, Lat: 21.01, Lon: 105.81, HasLocation: true},
		{ID: "t2", Name: "Tổ CNS khóm 2", AreaCode: "002", Members: 5},
	}
}

// Hole is a Viettel hole over WithHole with an unknown median signal.
func Hole() geo.Hole {
	nan := 0.0
	nan = nan / nan
	return geo.Hole{ID: "h1", Carrier: geo.Viettel, Geometry: WithHole, AreaKm2: 12.5,
		Rank: 1, Priority: 3, Severity: 0.5, Confidence: 0.7, MedianSignalDBm: nan,
		Areas: []geo.AreaRef{{Code: "001"}}, FirstObserved: time.Now(), LastObserved: time.Now()}
}

// Fill is FillData and an analysis of one hole, Hole().
func Fill(t *testing.T, s Store) {
	t.Helper()
	FillData(t, s)
	if err := s.SaveAnalysis(context.Background(), geo.Analysis{ComputedAt: time.Now(), Reports: 3, Holes: []geo.Hole{Hole()}}); err != nil {
		t.Fatal(err)
	}
}

// sameTime reports whether got is want to the microsecond.
func sameTime(got, want time.Time) bool {
	return got.Truncate(time.Microsecond).Equal(want.Truncate(time.Microsecond))
}

// Micro is t truncated to the microsecond, in UTC, as a store returns a
// time it keeps in UTC; the zero time stays zero.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Microsecond).UTC()
}
