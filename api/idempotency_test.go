package api

import (
	"bytes"
	"strings"
	"testing"
)

// A client-chosen id with an idempotency key replays rather than
// conflicting with itself.
func TestIdempotencyWithID(t *testing.T) {
	e := newEnv(t, Options{})
	b := []byte(`{"id":"x1","lat":10.5,"lon":105.1,"observed_at":"2025-08-01T00:00:00Z","carrier":"viettel"}`)
	r1 := e.do("POST", "/api/v1/reports", "application/json", b, "Idempotency-Key", "k3")
	r2 := e.do("POST", "/api/v1/reports", "application/json", b, "Idempotency-Key", "k3")
	if r1.status != 201 || r2.status != 200 || !bytes.Equal(r1.body, r2.body) {
		t.Fatalf("%d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	// Without the key, the same id is a conflict.
	wantProblem(t, e.do("POST", "/api/v1/reports", "application/json", b), 409, "id")
}

// TestIdempotencyKeyTooLong: a key longer than the limit is refused,
// naming the header, and nothing is stored.
func TestIdempotencyKeyTooLong(t *testing.T) {
	e := newEnv(t, Options{})
	before := e.svc.Reports()
	r := e.do("POST", "/api/v1/reports", "application/json", []byte(validReport), "Idempotency-Key", strings.Repeat("k", 201))
	if r.status != 400 || !strings.Contains(string(r.body), "Idempotency-Key") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if e.svc.Reports() != before {
		t.Error("a report was stored")
	}
}
