package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
)

// newReportID returns an ID in the store's format: "r-" and 16 hex digits.
func newReportID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return "r-" + hex.EncodeToString(b[:])
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
