package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

// TestStatusTable: the status of every kind of error, wrapped or not.
func TestStatusTable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"field error", &geo.FieldError{Field: "lat", Reason: "bad"}, 400},
		{"field errors wrapped", fmt.Errorf("invalid report: %w", geo.FieldErrors{{Field: "lat", Reason: "bad"}}), 400},
		{"store not found wrapped", fmt.Errorf("gpkg: report %q: %w", "x", geo.ErrNotFound), 404},
		{"conflict", geo.NewError(geo.ErrConflict, "taken"), 409},
		{"forbidden with fields", geo.NewError(geo.ErrForbidden, "outside", &geo.FieldError{Field: "lat", Reason: "outside"}), 403},
		{"unauthenticated", geo.NewError(geo.ErrUnauthenticated, "sign in"), 401},
		{"media type", unsupportedMedia("text/csv"), 415},
		{"method", geo.NewError(errMethodNotAllowed, "no"), 405},
		{"throttled", geo.NewError(errTooManyRequests, "later"), 429},
		{"kind wins over the cause", &geo.Error{Kind: geo.ErrInvalid, Message: "x", Err: geo.ErrNotFound}, 400},
		{"body too large inside a read error", &geo.Error{Kind: geo.ErrInvalid, Message: "x", Err: &http.MaxBytesError{Limit: 1}}, 413},
		{"anything else", errors.New("disk full"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusOf(tc.err); got != tc.want {
				t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestErrorAfterReplyBegan: an error returned once the body has started
// is logged, not appended to the body.
func TestErrorAfterReplyBegan(t *testing.T) {
	var logs syncLog
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h := e.srv.logRequests(e.srv.wrap(func(w http.ResponseWriter, r *http.Request) error {
		w.Write([]byte("partial"))
		return errors.New("encoder failed")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 200 || w.Body.String() != "partial" {
		t.Errorf("reply %d %q, want 200 %q", w.Code, w.Body.String(), "partial")
	}
	if !strings.Contains(logs.String(), "encoder failed") {
		t.Errorf("the error is not logged:\n%s", logs.String())
	}
	// Before the reply, the same error is a 500 problem.
	h = e.srv.logRequests(e.srv.wrap(func(http.ResponseWriter, *http.Request) error { return errors.New("encoder failed") }))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	wantProblem(t, resp{w.Code, w.Header(), w.Body.Bytes()}, 500, "")
	if strings.Contains(w.Body.String(), "encoder") {
		t.Errorf("a 500 describes the internal error: %s", w.Body.String())
	}
}
