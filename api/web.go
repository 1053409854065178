package api

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gorilla/mux"
)

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
	}).PathPrefix("/").Methods("GET", "HEAD").Handler(s.wrap(func(w http.ResponseWriter, r *http.Request) error {
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
		files.ServeHTTP(&problemWriter{ResponseWriter: w}, r)
		return nil
	}))
}

// problemWriter turns a refusal written by a handler that is not ours
// (the file server: a range not satisfiable, a failed precondition) into
// a problem like every other, and drops the body that came with it.
type problemWriter struct {
	http.ResponseWriter
	refused bool
}

func (w *problemWriter) WriteHeader(code int) {
	if code < 400 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.refused {
		w.refused = true
		writeProblem(w.ResponseWriter, code, strings.ToLower(http.StatusText(code)))
	}
}

func (w *problemWriter) Write(b []byte) (int, error) {
	if w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *problemWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
