package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo/service"
)

// TestSpeedTestLimited: a transfer is bounded in size; an address that
// has used its allowance is answered 429 until it comes back, other
// addresses are not; and past the transfers allowed at once, one more is
// answered 503. Refusals are problems with Retry-After.
func TestSpeedTestLimited(t *testing.T) {
	const mib = 1 << 20
	var now atomic.Pointer[time.Time]
	now.Store(&testNow)
	lim := SpeedTestLimits{MaxBytes: mib, PerAddress: 3 * mib, Refill: time.Hour, Concurrent: 1}
	e := newEnvSvc(t, Options{SpeedTest: lim}, service.Options{Now: func() time.Time { return *now.Load() }})
	pub := e.anon()
	// With one slot, a transfer waits for the one before to give its slot
	// back: a client may have its whole answer a moment before the
	// handler returns.
	idle := func() {
		for deadline := time.Now().Add(10 * time.Second); len(e.srv.speed.slots) > 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	download := func(c *http.Client, n int) resp {
		t.Helper()
		idle()
		return send(t, c, "GET", e.ts.URL+"/api/v1/speedtest/download?bytes="+strconv.Itoa(n), nil)
	}
	upload := func(c *http.Client, n int) resp {
		t.Helper()
		idle()
		return send(t, c, "POST", e.ts.URL+"/api/v1/speedtest/upload", make([]byte, n))
	}

	// The size cap.
	wantProblem(t, pub.get("/api/v1/speedtest/download?bytes="+strconv.Itoa(mib+1)), 400, "bytes")
	wantProblem(t, pub.do("POST", "/api/v1/speedtest/upload", "application/octet-stream", make([]byte, mib+1)), 413, "body")

	// One address: three transfers of 1 MiB, down or up, then 429 until
	// a third of the hour has given 1 MiB back.
	c1 := e.clientFrom("127.0.0.1")
	for i, r := range []resp{download(c1, mib), upload(c1, mib), download(c1, mib)} {
		if r.status != 200 {
			t.Fatalf("transfer %d: %d %s", i, r.status, r.body)
		}
	}
	// (A refused upload is small: the server answers without reading a
	// body it refuses, and a client still sending a large one may see the
	// connection reset before it reads the answer.)
	for _, r := range []resp{download(c1, mib), upload(c1, 1024), download(c1, 0)} {
		wantProblem(t, r, 429, "")
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if got := download(c1, mib).header.Get("Retry-After"); got != "1200" {
		t.Errorf("Retry-After %q, want 1200 (s until 1 MiB of 3 MiB an hour is back)", got)
	}
	// Another address has its own allowance.
	c2 := e.clientFrom("127.0.0.2")
	if r := upload(c2, mib); r.status != 200 {
		t.Errorf("another address: %d %s", r.status, r.body)
	}
	later := testNow.Add(20 * time.Minute)
	now.Store(&later)
	if r := download(c1, mib); r.status != 200 {
		t.Errorf("after 20 minutes: %d %s", r.status, r.body)
	}
	wantProblem(t, download(c1, mib), 429, "")
	// An upload of unknown length takes the most a transfer may move
	// from the allowance and gives back what it did not move: four of
	// half a MiB leave room for one more MiB.
	c3 := e.clientFrom("127.0.0.3")
	for i := range 4 {
		body := io.MultiReader(bytes.NewReader(make([]byte, mib/2))) // no length: sent chunked
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/speedtest/upload", body)
		idle()
		res, err := c3.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || req.ContentLength != 0 {
			t.Fatalf("chunked upload %d: %d (length %d)", i, res.StatusCode, req.ContentLength)
		}
	}
	if r := download(c3, mib); r.status != 200 {
		t.Errorf("after 2 MiB of chunked uploads: %d %s", r.status, r.body)
	}
	wantProblem(t, download(c3, 0), 429, "")

	// One transfer at a time: while one is running, another is 503.
	idle()
	running, release := make(chan struct{}), make(chan struct{})
	e.srv.speed.hook = func() { running <- struct{}{}; <-release }
	done := make(chan resp)
	go func() {
		done <- send(t, e.clientFrom("127.0.0.4"), "GET", e.ts.URL+"/api/v1/speedtest/download?bytes=1000", nil)
	}()
	<-running
	r := send(t, e.clientFrom("127.0.0.5"), "GET", e.ts.URL+"/api/v1/speedtest/download?bytes=1000", nil)
	wantProblem(t, r, 503, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	if r := <-done; r.status != 200 || len(r.body) != 1000 {
		t.Errorf("the running transfer: %d, %d bytes", r.status, len(r.body))
	}
	// The refused one was not counted: its address still has 3 MiB.
	e.srv.speed.hook = nil
	c5 := e.clientFrom("127.0.0.5")
	for i := range 3 {
		if r := download(c5, mib); r.status != 200 {
			t.Errorf("download %d after a 503: %d", i, r.status)
		}
	}
}

// send makes a request with c and reads the whole reply; safe to call
// from any goroutine (it does not stop the test).
func send(t *testing.T, c *http.Client, method, url string, body []byte) resp {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return resp{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return resp{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}
