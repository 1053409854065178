package web

import (
	"io/fs"
	"testing"
)

func TestFS(t *testing.T) {
	// vendor/.keep is there even before `make web` has copied Leaflet.
	for _, name := range []string{"index.html", "app.js", "form.js", "queue.js", "i18n.js", "session.js", "style.css", "sw.js", "vendor/.keep"} {
		if _, err := fs.Stat(FS(), name); err != nil {
			t.Errorf("FS lacks %s: %v", name, err)
		}
	}
	if _, err := fs.Stat(FS(), "static"); err == nil {
		t.Error("FS is not rooted at static/")
	}
}
