package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

func testWebhooksRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	at := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	ws := []geo.Webhook{
		{ID: "w-1", URL: "https://quy-hoach.viettel.example/hooks", Events: []string{geo.EventHoleOpened, geo.EventHoleChanged},
			Carrier: geo.Viettel, Secret: "whsec_a", Owner: "viettel-planning", CreatedAt: at},
		{ID: "w-2", URL: "https://ict.example/gapmap", Events: geo.WebhookEvents, Secret: "whsec_b", Owner: "admin", CreatedAt: at.Add(time.Minute)},
	}
	for _, w := range ws {
		if err := s.AddWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddWebhook(ctx, ws[0]); !errors.Is(err, geo.ErrConflict) {
		t.Errorf("the same ID twice: %v", err)
	}
	got, err := s.Webhooks(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("webhooks: %v %v", got, err)
	}
	for i := range ws {
		g, w := got[i], ws[i]
		if g.ID != w.ID || g.URL != w.URL || !slices.Equal(g.Events, w.Events) || g.Carrier != w.Carrier ||
			g.Secret != w.Secret || g.Owner != w.Owner || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("webhook %d: %+v, want %+v", i, g, w)
		}
	}
	ids, err := s.AddDeliveries(ctx, []geo.Delivery{
		{Webhook: "w-1", Event: geo.EventHoleOpened, HoleID: "h-1", Body: []byte(`{"event":"hole.opened"}`), CreatedAt: at, NextAt: at},
		{Webhook: "w-2", Event: geo.EventHoleOpened, HoleID: "h-1", Body: []byte(`{}`), CreatedAt: at, NextAt: at.Add(time.Second)},
	})
	if err != nil || len(ids) != 2 {
		t.Fatalf("deliveries: %v %v", ids, err)
	}
	d := geo.Delivery{ID: ids[0], Attempts: 1, Status: 500, Error: "500 Internal Server Error", NextAt: at.Add(time.Minute)}
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingDeliveries(ctx)
	if err != nil || len(pending) != 2 || pending[0].ID != ids[1] || pending[1].Attempts != 1 || string(pending[1].Body) != `{"event":"hole.opened"}` {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	d = geo.Delivery{ID: ids[0], Attempts: 2, Status: 200, DoneAt: at.Add(2 * time.Minute), Delivered: true}
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	log, err := s.Deliveries(ctx, "w-1", 10)
	if err != nil || len(log) != 1 || !log[0].Delivered || !log[0].NextAt.IsZero() || log[0].Status != 200 {
		t.Errorf("log: %+v %v", log, err)
	}
	if err := s.DeleteWebhook(ctx, "w-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, "w-2"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if pending, _ := s.PendingDeliveries(ctx); len(pending) != 0 {
		t.Errorf("a deleted webhook's deliveries are pending: %+v", pending)
	}
	if err := s.UpdateDelivery(ctx, geo.Delivery{ID: ids[1]}); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("updating a deleted webhook's delivery: %v", err)
	}
}
