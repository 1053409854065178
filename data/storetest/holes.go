package storetest

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

var holeAt = time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)

// HoleRecords are two records of the hole registry, with tracks and
// history.
func HoleRecords() []geo.HoleRecord {
	a := geo.NewHoleRecord("h-1", geo.Viettel, holeAt)
	a.Cells = []uint64{0x8a65b56628e7fff, 0x8a65b56628effff}
	a.Areas = []string{"H1", "H2"}
	a.Cause, a.Funding = geo.CauseNoSite, geo.FundPublic
	tr := a.Track(geo.Viettel)
	tr.State, tr.Answered, tr.Plan = geo.StatePlanned, holeAt.Add(time.Hour), geo.PlanNewSite
	tr.FixCells = []uint64{0x8a65b56628e7fff}
	tr.Planned, _ = geo.ParseDate("planned_date", "2027-03-01")
	a.History = append(a.History, geo.HoleEvent{At: holeAt.Add(time.Hour), State: geo.StatePlanned, Carrier: geo.Viettel,
		Kind: "answer", Role: "carrier", User: "viettel-planning", Note: "Trạm mới ở ấp Phú Hòa", Planned: "2027-03-01", Plan: geo.PlanNewSite})
	a.Rev = 3
	b := geo.NewHoleRecord("h-2", geo.CarrierAll, holeAt)
	b.ParentIDs = []string{"h-0"}
	b.Lead = geo.MobiFone
	b.Current = false
	b.Rev = 1
	return []geo.HoleRecord{*a, *b}
}

// sameRecord compares records, times by instant.
func sameRecord(t *testing.T, got, want geo.HoleRecord) {
	t.Helper()
	norm := func(r geo.HoleRecord) geo.HoleRecord {
		r = *r.Clone()
		r.FirstSeen, r.LastSeen = r.FirstSeen.UTC(), r.LastSeen.UTC()
		for i := range r.Tracks {
			tr := &r.Tracks[i]
			for _, p := range []*time.Time{&tr.Since, &tr.Answered, &tr.Planned, &tr.Fixed, &tr.OverdueNotified} {
				if !p.IsZero() {
					*p = p.UTC()
				}
			}
		}
		for i := range r.History {
			r.History[i].At = r.History[i].At.UTC()
		}
		for _, l := range []*[]string{&r.Areas, &r.ParentIDs, &r.ChildIDs} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if len(r.Cells) == 0 {
			r.Cells = nil
		}
		return r
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("record %s:\n got %+v\nwant %+v", want.ID, g, w)
	}
}

func testHoleRecordsRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	recs := HoleRecords()
	if err := s.SaveHoleRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// An older revision does not overwrite a newer one; a newer one
	// replaces it and appends its history.
	old := *recs[0].Clone()
	old.Rev = 2
	old.Track(geo.Viettel).State = geo.StateOpen
	if err := s.SaveHoleRecords(ctx, []geo.HoleRecord{old}); err != nil {
		t.Fatal(err)
	}
	newer := *recs[1].Clone()
	newer.Rev = 2
	newer.Track(geo.Viettel).State = geo.StateAcknowledged
	newer.History = append(newer.History, geo.HoleEvent{At: holeAt.Add(2 * time.Hour), State: geo.StateAcknowledged,
		Carrier: geo.Viettel, Kind: "answer", Role: "carrier"})
	if err := s.SaveHoleRecords(ctx, []geo.HoleRecord{newer}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := b.Again(t, s)
	got, err := s2.HoleRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	sameRecord(t, got[0], recs[0])
	sameRecord(t, got[1], newer)
}

func testFreezeGaps(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	holes := []geo.Hole{
		{ID: "h-1", Carrier: geo.Viettel, Rank: 1, Geometry: orb.MultiPolygon{{Square(105.1, 10.5, 0.01)}},
			Centroid: orb.Point{105.105, 10.505}, MedianSignalDBm: math.NaN(), Areas: []geo.AreaRef{{Code: "H1", Name: "Ấp Phú Hòa", Km2: 0.5}},
			Life: geo.HoleLife{State: geo.StatePlanned, FixDue: "2027-03-01", Cause: geo.CauseNoSite}},
		{ID: "h-2", Carrier: geo.VinaPhone, Rank: 1, MedianSignalDBm: -118, Life: geo.HoleLife{State: geo.StateOpen, Overdue: true}},
	}
	if ok, err := s.FreezeGaps(ctx, "2026-11", holes); err != nil || !ok {
		t.Fatalf("freeze: %v %v", ok, err)
	}
	// A month is frozen once.
	if ok, err := s.FreezeGaps(ctx, "2026-11", holes[:1]); err != nil || ok {
		t.Fatalf("second freeze: %v %v", ok, err)
	}
	got, ok, err := s.FrozenGaps(ctx, "2026-11", geo.Viettel)
	if err != nil || !ok || len(got) != 1 {
		t.Fatalf("frozen: %v %v %v", got, ok, err)
	}
	h := got[0]
	if h.ID != "h-1" || h.Life != holes[0].Life || !math.IsNaN(h.MedianSignalDBm) || h.Centroid != holes[0].Centroid ||
		!reflect.DeepEqual(h.Geometry, holes[0].Geometry) || h.Areas[0].Name != "Ấp Phú Hòa" {
		t.Errorf("frozen hole %+v", h)
	}
	got, _, _ = s.FrozenGaps(ctx, "2026-11", geo.VinaPhone)
	if len(got) != 1 || got[0].MedianSignalDBm != -118 || !got[0].Life.Overdue {
		t.Errorf("VinaPhone: %+v", got)
	}
	if _, ok, err := s.FrozenGaps(ctx, "2026-10", geo.Viettel); ok || err != nil {
		t.Errorf("October frozen: %v %v", ok, err)
	}
}
