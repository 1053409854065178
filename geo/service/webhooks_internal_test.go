package service

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// TestDeliveryRefusesLocalAddresses: a delivery does not connect to a
// loopback address unless its host is allowed; a failing delivery is
// retried after the backoff's waits, then given up.
func TestDeliveryRefusesLocalAddresses(t *testing.T) {
	hits := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer ts.Close()
	s := &Service{log: slog.New(slog.DiscardHandler)}
	var d dispatcher
	d.init(s, nil, []time.Duration{time.Minute, time.Hour})
	w := &geo.Webhook{URL: ts.URL + "/hook", Secret: "whsec_x"}
	del := geo.Delivery{ID: 1, Event: geo.EventHoleChanged, Body: []byte(`{}`)}
	for attempt := 1; attempt <= 3; attempt++ {
		del = d.attempt(context.Background(), w, del)
		if !strings.Contains(del.Error, "refused: a loopback address") || del.Delivered || del.Attempts != attempt {
			t.Fatalf("attempt %d: %+v", attempt, del)
		}
		switch attempt {
		case 1:
			if wait := time.Until(del.NextAt); wait < 59*time.Second || wait > time.Minute {
				t.Errorf("first retry in %v, want a minute", wait)
			}
		case 2:
			if wait := time.Until(del.NextAt); wait < 59*time.Minute || wait > time.Hour {
				t.Errorf("second retry in %v, want an hour", wait)
			}
		case 3:
			if !del.NextAt.IsZero() || del.DoneAt.IsZero() {
				t.Errorf("not given up after the backoff's attempts: %+v", del)
			}
		}
	}
	if hits != 0 {
		t.Errorf("the refused receiver was reached %d times", hits)
	}
	if reason := d.checkURL("http://127.0.0.1:9/x"); !strings.Contains(reason, "loopback") {
		t.Errorf("checkURL of a loopback address: %q", reason)
	}
	d.init(s, []string{" 127.0.0.1 "}, nil)
	if del := d.attempt(context.Background(), w, geo.Delivery{ID: 2, Body: []byte(`{}`)}); !del.Delivered || hits != 1 {
		t.Errorf("allowed host: %+v, %d hits", del, hits)
	}
	if reason := d.checkURL("http://127.0.0.1:9/x"); reason != "" {
		t.Errorf("checkURL of an allowed host: %q", reason)
	}
}
