// Package web holds gapmap's map page and report form: the HTML, JS and
// CSS we wrote, plus Leaflet and its plugins copied from npm into
// static/vendor by `make web` (git-ignored, so the repo holds only our
// code). It imports nothing of ours; cmd hands FS to api.
package web

import (
	"embed"
	"io/fs"
)

// static is the page. "all:" keeps static/vendor/.keep, so the package
// builds on a fresh clone before `make web` has copied the vendor files.
//
//go:embed all:static
var static embed.FS

// FS returns the page's files rooted at static/ (index.html at the top).
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil { // cannot happen: "static" is a valid path embedded above
		panic(err)
	}
	return sub
}
