package api

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestWebPage(t *testing.T) {
	page := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>Bản đồ</title>")},
		"app.js":            {Data: []byte("export {}")},
		"style.css":         {Data: []byte("body{}")},
		"sw.js":             {Data: []byte("self.addEventListener('fetch',()=>{})")},
		"vendor/.keep":      {Data: nil},
		"vendor/leaflet.js": {Data: []byte("var L={}")},
	}
	e := newEnv(t, Options{Web: page})
	for _, tc := range []struct {
		name, path, ctype, cache string
		status                   int
	}{
		{"root is index.html", "/", "text/html", "no-cache", 200},
		{"module", "/app.js", "text/javascript", "", 200},
		{"stylesheet", "/style.css", "text/css", "", 200},
		{"service worker revalidated", "/sw.js", "text/javascript", "no-cache", 200},
		{"vendored file", "/vendor/leaflet.js", "text/javascript", "", 200},
		{"missing file", "/nope.js", "application/problem+json", "", 404},
		{"directory", "/vendor", "application/problem+json", "", 404},
		{"unknown API path keeps JSON 404", "/api/v1/nope", "application/problem+json", "", 404},
		{"API still served", "/healthz", "application/json", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path)
			if r.status != tc.status {
				t.Fatalf("GET %s: status %d, want %d: %s", tc.path, r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.ctype)
			}
			if cc := r.header.Get("Cache-Control"); cc != tc.cache {
				t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, cc, tc.cache)
			}
		})
	}
	// A GET on a POST-only route is still a 405, not the page's 404.
	if r := e.get("/api/v1/speedtest/upload"); r.status != 405 {
		t.Errorf("GET upload: status %d, want 405", r.status)
	}
}

func TestNoWebPage(t *testing.T) {
	e := newEnv(t, Options{})
	wantProblem(t, e.get("/"), 404, "")
}

func TestSpeedTest(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"default 2 MiB", "", 2 << 20},
		{"small", "?bytes=1000", 1000},
		{"zero", "?bytes=0", 0},
		{"maximum", "?bytes=" + strconv.Itoa(DefaultSpeedTestBytes), DefaultSpeedTestBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get("/api/v1/speedtest/download" + tc.query)
			if r.status != 200 || len(r.body) != tc.want {
				t.Fatalf("status %d, %d bytes, want 200 and %d", r.status, len(r.body), tc.want)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if tc.want < 1<<20 {
				return
			}
			// Incompressible: deflate must not shrink it much.
			var z bytes.Buffer
			fw, _ := flate.NewWriter(&z, flate.BestSpeed)
			fw.Write(r.body[:1<<20])
			fw.Close()
			if z.Len() < 1<<20*9/10 {
				t.Errorf("1 MiB deflates to %d bytes: compressible", z.Len())
			}
		})
	}
	for _, q := range []string{"?bytes=-1", "?bytes=" + strconv.Itoa(DefaultSpeedTestBytes+1), "?bytes=x"} {
		wantProblem(t, e.get("/api/v1/speedtest/download"+q), 400, "bytes")
	}

	r := e.do("POST", "/api/v1/speedtest/upload", "application/octet-stream", make([]byte, 123456))
	var got struct {
		Bytes   int64   `json:"bytes"`
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("upload: status %d %s: %v", r.status, r.body, err)
	}
	if got.Bytes != 123456 || got.Seconds < 0 {
		t.Errorf("upload: got %+v, want 123456 bytes", got)
	}
	r = e.do("POST", "/api/v1/speedtest/upload", "application/octet-stream", make([]byte, DefaultSpeedTestBytes+1))
	if r.status != 413 {
		t.Errorf("oversized upload: status %d, want 413", r.status)
	}
}
