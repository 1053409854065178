package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestVocabulary holds the page's texts to the README's glossary: in
// Vietnamese a carrier's coverage hole is a "vùng lõm sóng" and a dead
// zone a "vùng lõm sóng mọi nhà mạng" (never "vùng lõm" alone, nor
// "không sóng"); in English a "coverage hole" and a "dead zone", "gap"
// only in "gap list".
func TestVocabulary(t *testing.T) {
	for _, name := range []string{"i18n.js", "index.html"} {
		b, err := fs.ReadFile(FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		vi, en := src, ""
		if i := strings.Index(src, "\n  en: {"); i >= 0 {
			vi, en = src[:i], src[i:]
		}
		for _, m := range regexp.MustCompile(`(?i)lõm(.{0,5})`).FindAllStringSubmatch(vi, -1) {
			if !strings.HasPrefix(m[1], " sóng") {
				t.Errorf("%s: %q: the glossary says \"lõm sóng\"", name, m[0])
			}
		}
		for _, m := range regexp.MustCompile(`(?i).{0,12}không sóng.{0,12}`).FindAllString(vi, -1) {
			t.Errorf("%s: %q: a dead zone is a \"vùng lõm sóng mọi nhà mạng\"", name, m)
		}
		for _, m := range regexp.MustCompile(`(?i)\bgaps?\b(.{0,5})`).FindAllStringSubmatch(en, -1) {
			if !strings.HasPrefix(m[1], " list") {
				t.Errorf("%s: %q: the glossary says \"coverage hole\" (\"gap\" only in \"gap list\")", name, m[0])
			}
		}
	}
}
