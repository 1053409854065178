package api

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
)

// mediaType returns the request's media type, lower-cased, without
// parameters ("" when absent or malformed).
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// readBody reads the whole body through the size limit (see bodyOf).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(s.bodyOf(w, r))
}

// bodyOf returns r's body limited to the server's MaxBodyBytes. A read
// that fails returns a *bodyError, which is answered 413 when the body is
// too large, 408 when it did not arrive in time (the server's read
// timeout or the speed test's deadline) and 400 otherwise.
func (s *Server) bodyOf(w http.ResponseWriter, r *http.Request) io.Reader {
	return limitBody(w, r, s.maxBody)
}

// limitBody is bodyOf with the limit n.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) io.Reader {
	return bodyReader{http.MaxBytesReader(w, r.Body, n)}
}

// bodyReader marks the errors of reading a request body (see bodyError).
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// bodyError is a request body that could not be read: too large, too
// slow, or broken off.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// timedOut reports whether the body stopped arriving at a deadline.
func (e *bodyError) timedOut() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}
