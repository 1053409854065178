package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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
		{"store unavailable", fmt.Errorf("postgis: report: %w", geo.ErrUnavailable), 503},
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

// TestEveryRefusalIsProblemJSON: whatever refuses a request — the
// router, the file server, the size, time and rate limits, the
// authentication and authorization checks, a panic — answers with a
// problem (application/problem+json with a type, title and detail, and
// the field at fault where there is one), and with the headers that
// refusal needs.
func TestEveryRefusalIsProblemJSON(t *testing.T) {
	page := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><title>Bản đồ</title>")},
		"app.js":     {Data: []byte("export {}")},
	}
	e := newEnv(t, Options{Web: page, MaxBodyBytes: 4096,
		SpeedTest: SpeedTestLimits{MaxBytes: 1 << 20, PerAddress: 1 << 20, Concurrent: 1}})
	// A server with a short read timeout, for a body that stops coming.
	slow := httptest.NewUnstartedServer(e.srv.Handler())
	slow.Config.ReadTimeout = 300 * time.Millisecond
	slow.Start()
	t.Cleanup(slow.Close)
	carrier := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	e.userWithPassword("cán-bộ.xã", geo.RoleStaff, "mật khẩu đủ dài", "C1")
	browser, _ := e.signIn("cán-bộ.xã", "mật khẩu đủ dài")
	panicking := e.srv.logRequests(e.srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") })))

	tests := []struct {
		name   string
		do     func() resp
		status int
		field  string
		header string // a header the refusal must carry
	}{
		{"unknown API path", func() resp { return e.get("/api/v1/nope") }, 404, "", ""},
		{"unknown page", func() resp { return e.get("/nope.html") }, 404, "", ""},
		{"unknown OGC collection", func() resp { return e.get("/ogc/collections/nope") }, 404, "", ""},
		{"unknown OGC path", func() resp { return e.get("/ogc/") }, 404, "", ""},
		{"method not allowed on an API route", func() resp { return e.do("DELETE", "/api/v1/layers/areas", "", nil) }, 405, "", "Allow"},
		{"method not allowed on the page", func() resp { return e.do("POST", "/index.html", "text/plain", []byte("x")) }, 405, "", "Allow"},
		{"bad query", func() resp { return e.get("/api/v1/layers/areas?bbox=x") }, 400, "bbox", ""},
		{"malformed query", func() resp { return e.get("/ogc/collections/areas/items?limit=%zz") }, 400, "query", ""},
		{"malformed body", func() resp { return e.do("POST", "/api/v1/reports", "application/json", []byte("{")) }, 400, "", ""},
		{"body too large", func() resp {
			return e.do("POST", "/api/v1/reports", "application/json", []byte(`{"note":"`+strings.Repeat("x", 5000)+`"}`))
		}, 413, "body", ""},
		{"import too large", func() resp {
			return e.do("POST", "/api/v1/reports/import", "text/csv",
				[]byte("lat,lon,observed_at,carrier\n"+strings.Repeat("10.5,105.1,2025-08-30T08:00:00Z,viettel\n", 200)))
		}, 413, "body", ""},
		{"speed-test upload too large", func() resp {
			return e.anon().do("POST", "/api/v1/speedtest/upload", "application/octet-stream", make([]byte, 1<<20+1))
		}, 413, "body", ""},
		{"unsupported media type", func() resp { return e.do("POST", "/api/v1/reports", "text/plain", []byte("x")) }, 415, "Content-Type", "Accept-Post"},
		{"body too slow", func() resp { return slowBody(t, slow.Listener.Addr().String(), e.auth) }, 408, "body", ""},
		{"range not satisfiable", func() resp { return e.do("GET", "/app.js", "", nil, "Range", "bytes=1000-") }, 416, "", ""},
		{"precondition failed", func() resp { return e.do("GET", "/app.js", "", nil, "If-Match", `"nope"`) }, 412, "", ""},
		{"not signed in", func() resp { return e.anon().get("/api/v1/layers/reports") }, 401, "", "WWW-Authenticate"},
		{"unknown token", func() resp { return e.as("gmt_made-up").get("/api/v1/layers/areas") }, 401, "", "WWW-Authenticate"},
		{"not a bearer token", func() resp {
			return e.anon().do("GET", "/api/v1/layers/areas", "", nil, "Authorization", "Basic YTpi")
		}, 401, "", "WWW-Authenticate"},
		{"wrong password", func() resp { _, r := e.signIn("cán-bộ.xã", "wrong password"); return r }, 401, "", ""},
		{"role may not", func() resp { return carrier.get("/api/v1/layers/reports") }, 403, "", ""},
		{"another carrier's gap list", func() resp { return carrier.get("/api/v1/gaps?carrier=vinaphone") }, 403, "carrier", ""},
		{"no CSRF token", func() resp { return browser.do("POST", "/api/v1/reports", "application/json", validReport) }, 403, csrfHeader, ""},
		{"cross-origin write", func() resp {
			return browser.do("POST", "/api/v1/reports", "application/json", validReport, csrfHeader, browser.csrf,
				"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		}, 403, "", ""},
		{"report outside the scope", func() resp { return browser.do("GET", "/api/v1/reports/nope", "", "") }, 404, "", ""},
		{"conflict", func() resp {
			return e.do("POST", "/api/v1/users", "application/json", []byte(`{"name":"cán-bộ.xã","role":"staff","scope":["C1"]}`))
		}, 409, "name", ""},
		{"speed test allowance used up", func() resp {
			e.anon().get("/api/v1/speedtest/download?bytes=1048576")
			return e.anon().get("/api/v1/speedtest/download?bytes=1048576")
		}, 429, "", "Retry-After"},
		{"sign-ins throttled", func() resp {
			var r resp
			for range pairFree + 1 {
				_, r = e.signIn("cán-bộ.xã", "wrong password")
			}
			return r
		}, 429, "", "Retry-After"},
		{"panic", func() resp {
			w := httptest.NewRecorder()
			panicking.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/layers/areas", nil))
			return resp{w.Code, w.Header(), w.Body.Bytes()}
		}, 500, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			wantProblem(t, r, tc.status, tc.field)
			var p problem
			json.Unmarshal(r.body, &p)
			if p.Detail == "" || p.Title != http.StatusText(tc.status) {
				t.Errorf("title %q, detail %q", p.Title, p.Detail)
			}
			if tc.header != "" && r.header.Get(tc.header) == "" {
				t.Errorf("no %s header", tc.header)
			}
			if tc.status == 405 && !strings.Contains(r.header.Get("Allow"), "GET") && !strings.Contains(r.header.Get("Allow"), "POST") {
				t.Errorf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
	// The speed test's 503 (no slot) and the sign-ins' (no password check
	// free) are problems too.
	hold := make(chan struct{})
	running := make(chan struct{})
	e.srv.speed.hook = func() { close(running); <-hold }
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(t, e.clientFrom("127.0.0.7"), "GET", e.ts.URL+"/api/v1/speedtest/download?bytes=10", nil)
	}()
	<-running
	r := send(t, e.clientFrom("127.0.0.8"), "GET", e.ts.URL+"/api/v1/speedtest/download?bytes=10", nil)
	close(hold)
	<-done
	wantProblem(t, r, 503, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// slowBody posts a report whose body stops coming to the server at addr,
// and returns the reply it gets when the server's read timeout ends the
// wait.
func slowBody(t *testing.T, addr, token string) resp {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lat\":", token)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}
