package data

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/unicode/norm"
)

// This file decodes the text of DBF files: UTF-8, the legacy Vietnamese
// encodings still found in old shapefiles (Windows-1258, TCVN3, VNI), or
// whatever a .cpg file names, and tells them apart when there is no .cpg.

// textEncoding turns a DBF field's bytes into a string. UTF-8 is kept
// byte for byte (invalid bytes become U+FFFD); the other encodings are
// normalized to NFC, which joins the base letters and combining tone
// marks Windows-1258 writes.
type textEncoding struct {
	name   string
	decode func([]byte) string
}

var (
	encUTF8 = textEncoding{"UTF-8", func(b []byte) string {
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}}
	encCP1258 = textEncoding{"Windows-1258", func(b []byte) string { return decodeTable(b, charmap.Windows1258.DecodeByte) }}
	encTCVN3  = textEncoding{"TCVN3", func(b []byte) string { return decodeTable(b, tcvn3Rune) }}
	encVNI    = textEncoding{"VNI", decodeVNI}
)

func decodeTable(b []byte, f func(byte) rune) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for _, c := range b {
		if c < 0x80 {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(f(c))
		}
	}
	return norm.NFC.String(sb.String())
}

// tcvn3High maps bytes 0x80–0xFF of TCVN 5712:1993 (the VN3 set, "ABC")
// to Unicode: lower-case toned letters at 0xB5–0xFE, the modified letters
// Ă Â Ê Ô Ơ Ư Đ ă â ê ô ơ ư đ at 0xA1–0xAE, combining tone marks at
// 0xB0–0xB4 and the upper-case toned letters the standard adds in the
// remaining places. 0xA0 is a no-break space.
var tcvn3High = [128]rune{
	// 0x80
	0x00C0, 0x1EA2, 0x00C3, 0x00C1, 0x1EA0, 0x1EB6, 0x1EAC, 0x00C8,
	0x1EBA, 0x1EBC, 0x00C9, 0x1EB8, 0x1EC6, 0x00CC, 0x1EC8, 0x0128,
	// 0x90
	0x00CD, 0x1ECA, 0x00D2, 0x1ECE, 0x00D5, 0x00D3, 0x1ECC, 0x1ED8,
	0x1EDC, 0x1EDE, 0x1EE0, 0x1EDA, 0x1EE2, 0x00D9, 0x1EE6, 0x0168,
	// 0xA0
	0x00A0, 0x0102, 0x00C2, 0x00CA, 0x00D4, 0x01A0, 0x01AF, 0x0110,
	0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x1EB0,
	// 0xB0
	0x0300, 0x0309, 0x0303, 0x0301, 0x0323, 0x00E0, 0x1EA3, 0x00E3,
	0x00E1, 0x1EA1, 0x1EB2, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x1EB4,
	// 0xC0
	0x1EAE, 0x1EA6, 0x1EA8, 0x1EAA, 0x1EA4, 0x1EC0, 0x1EB7, 0x1EA7,
	0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x1EC2, 0x1EBB, 0x1EBD,
	// 0xD0
	0x00E9, 0x1EB9, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7, 0x00EC,
	0x1EC9, 0x1EC4, 0x1EBE, 0x1ED2, 0x0129, 0x00ED, 0x1ECB, 0x00F2,
	// 0xE0
	0x1ED4, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7,
	0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3, 0x00F9,
	// 0xF0
	0x1ED6, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,
	0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5, 0x1ED0,
}

func tcvn3Rune(b byte) rune { return tcvn3High[b-0x80] }

// VNI (VNI-Win) writes a toned or modified vowel as its base letter
// followed by one byte for the mark(s), a byte that on its own is a
// Windows-1252 letter: "Vieät Nam" is Việt Nam. ơ, ư, đ and the toned i
// and ỵ have bytes of their own. Capitals use the mark bytes 0x20 lower.
var (
	// vniTone: marks that follow any vowel (and ơ, ư).
	vniTone = map[byte]rune{0xF9: 0x0301, 0xF8: 0x0300, 0xFB: 0x0309, 0xF5: 0x0303, 0xEF: 0x0323}
	// vniCircumflex: circumflex with a tone, after a, e or o.
	vniCircumflex = map[byte]rune{0xE2: 0, 0xE1: 0x0301, 0xE0: 0x0300, 0xE5: 0x0309, 0xE3: 0x0303, 0xE4: 0x0323}
	// vniBreve: breve with a tone, after a.
	vniBreve = map[byte]rune{0xEA: 0, 0xE9: 0x0301, 0xE8: 0x0300, 0xFA: 0x0309, 0xFC: 0x0303, 0xEB: 0x0323}
	// vniLetter: letters of one byte.
	vniLetter = map[byte]rune{
		0xED: 'í', 0xEC: 'ì', 0xE6: 'ỉ', 0xF3: 'ĩ', 0xF2: 'ị', 0xEE: 'ỵ', 0xF4: 'ơ', 0xF6: 'ư', 0xF1: 'đ',
		0xCD: 'Í', 0xCC: 'Ì', 0xC6: 'Ỉ', 0xD3: 'Ĩ', 0xD2: 'Ị', 0xCE: 'Ỵ', 0xD4: 'Ơ', 0xD6: 'Ư', 0xD1: 'Đ',
	}
)

// vniMark finds the mark byte c after base letter r: the combining marks
// it stands for, or ok false when c is not a mark that r takes.
func vniMark(r rune, c byte) (marks []rune, ok bool) {
	lc := c
	if c >= 0xC0 && c < 0xE0 {
		lc = c + 0x20 // capital form of the mark byte
	}
	base := unicode.ToLower(r)
	isVowel := strings.ContainsRune("aeiouyơư", base)
	if t, ok := vniTone[lc]; ok && isVowel {
		return []rune{t}, true
	}
	if t, ok := vniCircumflex[lc]; ok && strings.ContainsRune("aeo", base) {
		return withTone(0x0302, t), true
	}
	if t, ok := vniBreve[lc]; ok && base == 'a' {
		return withTone(0x0306, t), true
	}
	return nil, false
}

func withTone(mod, tone rune) []rune {
	if tone == 0 {
		return []rune{mod}
	}
	return []rune{mod, tone}
}

func decodeVNI(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for i := 0; i < len(b); i++ {
		c := b[i]
		var r rune
		switch {
		case c < 0x80:
			r = rune(c)
		case vniLetter[c] != 0:
			r = vniLetter[c]
		default:
			r = charmap.Windows1252.DecodeByte(c)
		}
		sb.WriteRune(r)
		if i+1 < len(b) && b[i+1] >= 0x80 {
			if marks, ok := vniMark(r, b[i+1]); ok {
				for _, m := range marks {
					sb.WriteRune(m)
				}
				i++
			}
		}
	}
	return norm.NFC.String(sb.String())
}

// cpgEncoding reads the name in a .cpg file: the names ESRI and QGIS write
// (UTF-8, 65001, 1258, ANSI 1258, 88591, …), TCVN3 and VNI, or any name of
// the WHATWG encoding index (windows-1252, iso-8859-1, …).
func cpgEncoding(name string) (textEncoding, error) {
	raw := strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF"))
	key := strings.NewReplacer(" ", "", "-", "", "_", "", ".", "").Replace(strings.ToUpper(raw))
	key = strings.TrimPrefix(key, "ANSI")
	switch key {
	case "UTF8", "65001":
		return encUTF8, nil
	case "1258", "CP1258", "WINDOWS1258", "MSCP1258", "WIN1258":
		return encCP1258, nil
	case "TCVN", "TCVN3", "TCVN5712", "TCVN57121993", "ABC", "VN3", "TCVN3ABC":
		return encTCVN3, nil
	case "VNI", "VNIWIN", "VNIWINDOWS":
		return encVNI, nil
	}
	lookup := strings.ToLower(raw)
	switch {
	case len(key) == 4 && strings.HasPrefix(key, "125"):
		lookup = "windows-" + key
	case strings.HasPrefix(key, "8859"):
		lookup = "iso-8859-" + key[4:]
	case strings.HasPrefix(key, "ISO8859"):
		lookup = "iso-8859-" + key[7:]
	}
	enc, err := htmlindex.Get(lookup)
	if err != nil || raw == "" {
		return textEncoding{}, fmt.Errorf("names the encoding %q, which is not known (write UTF-8, 1258, TCVN3, VNI or an IANA name such as windows-1252)", raw)
	}
	if enc == encoding.Nop {
		return encUTF8, nil
	}
	label, _ := htmlindex.Name(enc)
	return textEncoding{label, func(b []byte) string {
		s, err := enc.NewDecoder().String(string(b))
		if err != nil {
			s = strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return norm.NFC.String(s)
	}}, nil
}

// encodingGuess collects the text of a DBF without a .cpg and picks its
// encoding: UTF-8 when every field is valid UTF-8, else the legacy
// Vietnamese encoding under which most words with accents are Vietnamese
// syllables.
type encodingGuess struct {
	nonASCII, invalidUTF8 int
	candidates            []textEncoding
	words, valid          []int // per candidate, over the sample
}

// guessSample is how many non-ASCII fields are decoded with every
// candidate; UTF-8 validity is checked on all of them.
const guessSample = 20000

func newEncodingGuess() *encodingGuess {
	c := []textEncoding{encCP1258, encTCVN3, encVNI}
	return &encodingGuess{candidates: c, words: make([]int, len(c)), valid: make([]int, len(c))}
}

func (g *encodingGuess) add(b []byte) {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return
	}
	g.nonASCII++
	if !utf8.Valid(b) {
		g.invalidUTF8++
	}
	if g.nonASCII > guessSample {
		return
	}
	for i, enc := range g.candidates {
		forEachWord(enc.decode(b), func(w string) {
			g.words[i]++
			if vietnameseSyllable(w) {
				g.valid[i]++
			}
		})
	}
}

// Thresholds for taking a legacy encoding without being told: most words
// with accents must read as Vietnamese (names of minority places such as
// Krông Pắc keep it below 100%), well ahead of the next candidate.
const (
	guessMinShare = 0.75
	guessMinLead  = 0.25
)

// result returns the encoding to read with and, when it was a legacy
// one, a sentence saying so; or an error asking for a .cpg file.
func (g *encodingGuess) result() (textEncoding, string, error) {
	if g.invalidUTF8 == 0 {
		return encUTF8, "", nil
	}
	best, second := -1, 0.0
	share := make([]float64, len(g.candidates))
	for i := range g.candidates {
		if g.words[i] > 0 {
			share[i] = float64(g.valid[i]) / float64(g.words[i])
		}
		if best < 0 || share[i] > share[best] {
			best = i
		}
	}
	for i := range share {
		if i != best {
			second = max(second, share[i])
		}
	}
	if share[best] >= guessMinShare && share[best]-second >= guessMinLead {
		enc := g.candidates[best]
		return enc, fmt.Sprintf("no .cpg, read as %s (%.0f%% of %d words with accents are Vietnamese; %d of %d texts with accents are not UTF-8)",
			enc.name, 100*share[best], g.words[best], g.invalidUTF8, g.nonASCII), nil
	}
	return textEncoding{}, "", fmt.Errorf("no .cpg file, and %d of %d texts with accents are not UTF-8 nor clearly Windows-1258, TCVN3 or VNI (best %s: %.0f%% of words read as Vietnamese); add a .cpg file beside it naming the encoding, e.g. UTF-8, 1258, TCVN3 or VNI",
		g.invalidUTF8, g.nonASCII, g.candidates[best].name, 100*share[best])
}

// forEachWord calls fn with each word of s that holds a character beyond
// ASCII. Words are split at ASCII characters that are not letters and at
// spaces; any other character belongs to the word, so a stray symbol of a
// wrong decoding spoils its word rather than splitting it.
func forEachWord(s string, fn func(string)) {
	start, ascii := -1, true
	flush := func(end int) {
		if start >= 0 && !ascii {
			fn(s[start:end])
		}
		start, ascii = -1, true
	}
	for i, r := range s {
		sep := unicode.IsSpace(r) || (r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'))
		if sep {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
		if r >= 0x80 {
			ascii = false
		}
	}
	flush(len(s))
}

// Vietnamese syllables: an initial consonant (or none), a vowel nucleus
// and a final consonant (or none), with at most one tone mark, on a vowel;
// syllables ending in c, ch, k, p or t take only the acute or dot-below
// tone. The initials include clusters of minority place names (Krông,
// Đrắk), and k is a final of any tone (Đắk Lắk, Đăk Glei).
var (
	vnInitials = setOf("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
		"p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
		"bl", "br", "dr", "đr", "gl", "gr", "kl", "kr", "pl", "pr", "sr")
	vnNuclei = setOf("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
		"ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "oo", "ôi", "ôô", "ơi",
		"ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê",
		"iêu", "oai", "oao", "oay", "oeo", "uây", "uêu", "uôi", "uơi", "uya", "uyê", "uyu", "ươi", "ươu", "yêu")
	vnFinals = setOf("", "c", "ch", "k", "m", "n", "ng", "nh", "p", "t")
	vnStops  = setOf("c", "ch", "p", "t")
)

func setOf(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

func isVowel(r rune) bool { return strings.ContainsRune("aăâeêioôơuưy", r) }

// vietnameseSyllable reports whether w is one Vietnamese syllable.
func vietnameseSyllable(w string) bool {
	var (
		letters []rune
		tone    rune
	)
	for _, r := range norm.NFD.String(strings.ToLower(w)) {
		switch r {
		case 0x0300, 0x0301, 0x0303, 0x0309, 0x0323:
			if tone != 0 || len(letters) == 0 || !isVowel(letters[len(letters)-1]) {
				return false
			}
			tone = r
		case 0x0302, 0x0306, 0x031B:
			if len(letters) == 0 {
				return false
			}
			last := &letters[len(letters)-1]
			switch {
			case r == 0x0302 && *last == 'a':
				*last = 'â'
			case r == 0x0302 && *last == 'e':
				*last = 'ê'
			case r == 0x0302 && *last == 'o':
				*last = 'ô'
			case r == 0x0306 && *last == 'a':
				*last = 'ă'
			case r == 0x031B && *last == 'o':
				*last = 'ơ'
			case r == 0x031B && *last == 'u':
				*last = 'ư'
			default:
				return false
			}
		default:
			if !('a' <= r && r <= 'z' || r == 'đ') {
				return false
			}
			letters = append(letters, r)
		}
	}
	for n := 0; n <= 3 && n <= len(letters); n++ {
		initial := string(letters[:n])
		if !vnInitials[initial] {
			continue
		}
		rest := letters[n:]
		v := 0
		for v < len(rest) && isVowel(rest[v]) {
			v++
		}
		nucleus, final := string(rest[:v]), string(rest[v:])
		if v == 0 || !vnNuclei[nucleus] || !vnFinals[final] {
			continue
		}
		if vnStops[final] && tone != 0x0301 && tone != 0x0323 {
			continue
		}
		return true
	}
	return false
}
