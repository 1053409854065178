package api

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// MaxSpeedTestBytes bounds a speed-test download or upload (10 MiB).
const MaxSpeedTestBytes = 10 << 20

// registerWebRoutes serves the map page at / with its static files, when
// the server has one (Options.Web).
func (s *Server) registerWebRoutes(r *mux.Router) {
	if s.web == nil {
		return
	}
	files := http.FileServer(http.FS(s.web))
	// The page is registered last, as a prefix, so it never shadows an
	// API route. The path test comes first: a matching prefix would
	// otherwise clear mux's method mismatch, turning a 405 on an API
	// route into the page's 404.
	r.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/ogc")
	}).PathPrefix("/").Methods("GET").Handler(s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(s.web, name); err != nil || st.IsDir() {
			return errNoResource(r)
		}
		switch name {
		case "index.html", "sw.js":
			// The shell and the service worker must be revalidated, or a
			// phone keeps an old page (and an old worker) for ever.
			w.Header().Set("Cache-Control", "no-cache")
		}
		if strings.HasSuffix(name, ".webmanifest") {
			w.Header().Set("Content-Type", "application/manifest+json")
		}
		files.ServeHTTP(w, r)
		return nil
	}))
}

// speedBlock is a block of random bytes repeated to fill a download: the
// client cannot compress it, and the server does not spend CPU per byte.
var speedBlock = func() []byte {
	b := make([]byte, 64<<10)
	rand.Read(b)
	return b
}()

func (s *Server) handleSpeedDownload(w http.ResponseWriter, r *http.Request) error {
	n := int64(2 << 20)
	if v := r.URL.Query().Get("bytes"); v != "" {
		k, err := strconv.ParseInt(v, 10, 64)
		if err != nil || k < 0 || k > MaxSpeedTestBytes {
			return badField("bytes", "must be an integer between 0 and "+strconv.Itoa(MaxSpeedTestBytes))
		}
		n = k
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	// Start at a random offset so consecutive downloads differ.
	off := mrand.IntN(len(speedBlock))
	for n > 0 {
		chunk := speedBlock[off:]
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		if _, err := w.Write(chunk); err != nil {
			return nil // the client went away
		}
		n -= int64(len(chunk))
		off = 0
	}
	return nil
}

func (s *Server) handleSpeedUpload(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, MaxSpeedTestBytes))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Bytes   int64   `json:"bytes"`
		Seconds float64 `json:"seconds"`
	}{n, time.Since(start).Seconds()})
	return nil
}
