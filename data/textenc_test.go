package data

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// vietNames are names as a province's files hold them, NFC.
var vietNames = []string{
	"Ấp Bình Hòa", "Xã Mỹ Lộc", "Phường Tân An", "Thị trấn Đức Hòa", "Ấp Phước Lợi",
	"Khóm Đông Hải", "Xã Ea Tu", "Đắk Lắk", "Ấp Trường Xuân", "Thôn Nguyễn Huệ",
	"Xã Quảng Điền", "Phường Bến Nghé", "Ấp Giồng Ổi", "Bản Xuôi Ngược", "Ấp Rạch Rượu",
}

// encodeCP1258 writes s as Windows does: letters the code page has
// precomposed stay whole, others become the base letter (with its
// circumflex, breve or horn) and a combining tone mark.
func encodeCP1258(t *testing.T, s string) string {
	t.Helper()
	var out []byte
	for _, r := range norm.NFC.String(s) {
		if b, ok := charmap.Windows1258.EncodeRune(r); ok {
			out = append(out, b)
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		var base, tone []rune
		for _, m := range d {
			switch m {
			case 0x0300, 0x0301, 0x0303, 0x0309, 0x0323:
				tone = append(tone, m)
			default:
				base = append(base, m)
			}
		}
		for _, x := range append([]rune(norm.NFC.String(string(base))), tone...) {
			b, ok := charmap.Windows1258.EncodeRune(x)
			if !ok {
				t.Fatalf("%q: %U not in Windows-1258", s, x)
			}
			out = append(out, b)
		}
	}
	return string(out)
}

// encodeTable writes s in a one-byte encoding given by its decoder.
func encodeTable(t *testing.T, s string, high func(byte) rune) string {
	t.Helper()
	inv := map[rune]byte{}
	for b := 0xFF; b >= 0x80; b-- {
		inv[high(byte(b))] = byte(b)
	}
	var out []byte
	for _, r := range norm.NFC.String(s) {
		if r < 0x80 {
			out = append(out, byte(r))
			continue
		}
		b, ok := inv[r]
		if !ok {
			t.Fatalf("%q: %c has no byte", s, r)
		}
		out = append(out, b)
	}
	return string(out)
}

// encodeVNI writes s in VNI: a base letter then its mark byte.
func encodeVNI(t *testing.T, s string) string {
	t.Helper()
	tone := map[rune]byte{0x0301: 0xF9, 0x0300: 0xF8, 0x0309: 0xFB, 0x0303: 0xF5, 0x0323: 0xEF}
	circ := map[rune]byte{0: 0xE2, 0x0301: 0xE1, 0x0300: 0xE0, 0x0309: 0xE5, 0x0303: 0xE3, 0x0323: 0xE4}
	breve := map[rune]byte{0: 0xEA, 0x0301: 0xE9, 0x0300: 0xE8, 0x0309: 0xFA, 0x0303: 0xFC, 0x0323: 0xEB}
	single := map[rune]byte{'í': 0xED, 'ì': 0xEC, 'ỉ': 0xE6, 'ĩ': 0xF3, 'ị': 0xF2, 'ỵ': 0xEE, 'đ': 0xF1,
		'Í': 0xCD, 'Ì': 0xCC, 'Ỉ': 0xC6, 'Ĩ': 0xD3, 'Ị': 0xD2, 'Ỵ': 0xCE, 'Đ': 0xD1}
	var out []byte
	for _, r := range norm.NFC.String(s) {
		if b, ok := single[r]; ok {
			out = append(out, b)
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		base, upper := d[0], d[0] >= 'A' && d[0] <= 'Z'
		var mod, tn rune
		for _, m := range d[1:] {
			switch m {
			case 0x0302, 0x0306, 0x031B:
				mod = m
			default:
				tn = m
			}
		}
		caseShift := func(b byte) byte {
			if upper {
				return b - 0x20
			}
			return b
		}
		switch {
		case base >= 0x80:
			t.Fatalf("%q: %c", s, r)
		case mod == 0x031B: // ơ, ư: a byte of their own
			b := map[rune]byte{'o': 0xF4, 'u': 0xF6, 'O': 0xD4, 'U': 0xD6}[base]
			out = append(out, b)
			if tn != 0 {
				out = append(out, caseShift(tone[tn]))
			}
		case mod == 0x0302:
			out = append(out, byte(base), caseShift(circ[tn]))
		case mod == 0x0306:
			out = append(out, byte(base), caseShift(breve[tn]))
		case tn != 0:
			out = append(out, byte(base), caseShift(tone[tn]))
		default:
			out = append(out, byte(base))
		}
	}
	return string(out)
}

// readNames writes vietNames, encoded by enc, into a shapefile with the
// given .cpg (none when empty) and reads it back.
func readNames(t *testing.T, enc func(string) string, cpg string) (*AreaSet, error) {
	t.Helper()
	dir := t.TempDir()
	var recs []shpRecord
	for i, name := range vietNames {
		x := 105 + float64(i)/10
		recs = append(recs, shpRecord{
			rings:  []orb.Ring{{{x, 10}, {x, 10.05}, {x + 0.05, 10.05}, {x + 0.05, 10}, {x, 10}}},
			values: []string{"A" + string(rune('a'+i)), enc(name), "", "", enc("ghi chú " + name)},
		})
	}
	writeShapefile(t, dir, "ap", recs, "", cpg)
	return ReadAreas(context.Background(), filepath.Join(dir, "ap.shp"), AreaOptions{})
}

func checkNames(t *testing.T, as *AreaSet) {
	t.Helper()
	if len(as.Areas) != len(vietNames) || len(as.Errors) != 0 {
		t.Fatalf("%d areas, errors %v", len(as.Areas), as.Errors)
	}
	for i, a := range as.Areas {
		if a.Name != vietNames[i] || a.Props["NOTE"] != "ghi chú "+vietNames[i] {
			t.Errorf("area %d: name %q (% x), note %q; want %q", i, a.Name, a.Name, a.Props["NOTE"], vietNames[i])
		}
	}
}

func wantWarning(t *testing.T, as *AreaSet, want string) {
	t.Helper()
	if len(as.Warnings) != 1 || !strings.HasPrefix(as.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", as.Warnings, want)
	}
}

func TestDBFWindows1258RoundTrip(t *testing.T) {
	enc := func(s string) string { return encodeCP1258(t, s) }
	if b := enc("Hòa"); b != "Ho\xcca" {
		t.Fatalf("Hòa in Windows-1258 = % x, want 48 6f cc 61", b)
	}
	as, err := readNames(t, enc, "")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, as)
	wantWarning(t, as, "ap.dbf: no .cpg, read as Windows-1258")

	for _, cpg := range []string{"1258", "CP1258", "ANSI 1258", "windows-1258\r\n"} {
		as, err := readNames(t, enc, cpg)
		if err != nil {
			t.Fatalf(".cpg %q: %v", cpg, err)
		}
		checkNames(t, as)
		if len(as.Warnings) != 0 {
			t.Errorf(".cpg %q: warnings %q", cpg, as.Warnings)
		}
	}
}

func TestDBFTCVN3(t *testing.T) {
	enc := func(s string) string { return encodeTable(t, s, tcvn3Rune) }
	as, err := readNames(t, enc, "")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, as)
	wantWarning(t, as, "ap.dbf: no .cpg, read as TCVN3")
	as, err = readNames(t, enc, "TCVN3")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, as)

	// Text as TCVN3 files hold it, seen as Latin-1 mojibake for decades.
	for raw, want := range map[string]string{
		"H\xb5 N\xe9i":                      "Hà Nội",
		"Th\xb5nh ph\xe8 H\xe5 Ch\xdd Minh": "Thành phố Hồ Chí Minh",
		"\xa7\xb5 N\xbdng":                  "Đà Nẵng",
		"B\xd7nh D\xad\xacng":               "Bình Dương",
		"Qu\xb6ng Tr\xde":                   "Quảng Trị",
		"Thanh H\xe3a":                      "Thanh Hóa",
		"\xae\xad\xeec":                     "được",
		"S\xe3c Tr\xa8ng":                   "Sóc Trăng",
		"Th\xf5a Thi\xaan Hu\xd5":           "Thừa Thiên Huế",
	} {
		if got := encTCVN3.decode([]byte(raw)); got != want {
			t.Errorf("TCVN3 % x = %q, want %q", raw, got, want)
		}
	}
}

func TestDBFVNI(t *testing.T) {
	enc := func(s string) string { return encodeVNI(t, s) }
	as, err := readNames(t, enc, "")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, as)
	wantWarning(t, as, "ap.dbf: no .cpg, read as VNI")

	for raw, want := range map[string]string{
		"Vie\xe4t Nam":                         "Việt Nam",
		"Ha\xf8 No\xe4i":                       "Hà Nội",
		"\xd1a\xf8 Na\xfcng":                   "Đà Nẵng",
		"Tr\xf6\xf4\xf8ng":                     "Trường",
		"Tha\xf8nh pho\xe1 Ho\xe0 Ch\xed Minh": "Thành phố Hồ Chí Minh",
		"So\xf9c Tra\xeang":                    "Sóc Trăng",
		"VIE\xc4T NAM":                         "VIỆT NAM",
		"Qua\xfbng Tr\xf2":                     "Quảng Trị",
	} {
		if got := encVNI.decode([]byte(raw)); got != want {
			t.Errorf("VNI % x = %q, want %q", raw, got, want)
		}
	}
}

func TestDBFEncodingUnclearRefused(t *testing.T) {
	// Western European names in Windows-1252, without a .cpg.
	enc := func(s string) string {
		b, err := charmap.Windows1252.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dir := t.TempDir()
	var recs []shpRecord
	for i, name := range []string{"Café Élysée", "Größe Straße", "Façade à côté", "Señor Muñoz"} {
		x := 105 + float64(i)/10
		recs = append(recs, shpRecord{rings: []orb.Ring{{{x, 10}, {x, 10.05}, {x + 0.05, 10.05}, {x, 10}}}, values: []string{"c", enc(name), "", "", ""}})
	}
	writeShapefile(t, dir, "eu", recs, "", "")
	_, err := ReadAreas(context.Background(), filepath.Join(dir, "eu.shp"), AreaOptions{})
	if err == nil || !strings.Contains(err.Error(), "eu.dbf: no .cpg file") || !strings.Contains(err.Error(), "add a .cpg file") {
		t.Fatalf("got %v, want a refusal asking for a .cpg", err)
	}
	// Told the encoding, it reads.
	writeShapefile(t, dir, "eu", recs, "", "1252")
	as, err := ReadAreas(context.Background(), filepath.Join(dir, "eu.shp"), AreaOptions{CodeField: "NOTE"})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Errors) == 0 || len(as.Areas) != 0 {
		t.Fatalf("want every feature rejected for its empty code, got %+v", as)
	}
	writeShapefile(t, dir, "eu", recs, "", "klingon")
	if _, err := ReadAreas(context.Background(), filepath.Join(dir, "eu.shp"), AreaOptions{}); err == nil || !strings.Contains(err.Error(), `eu.cpg: names the encoding "klingon"`) {
		t.Errorf("unknown .cpg: got %v", err)
	}
}

// TestDBFUTF8WithoutCPG: valid UTF-8 without a .cpg is read as UTF-8,
// without a warning.
func TestDBFUTF8WithoutCPG(t *testing.T) {
	as, err := readNames(t, func(s string) string { return s }, "")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, as)
	if len(as.Warnings) != 0 {
		t.Errorf("warnings %q, want none", as.Warnings)
	}
}

func TestCPGEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"UTF-8": "UTF-8", "utf8": "UTF-8", "65001": "UTF-8", "\uFEFFUTF-8\n": "UTF-8",
		"1258": "Windows-1258", "ANSI 1258": "Windows-1258", "CP1258": "Windows-1258",
		"TCVN3": "TCVN3", "tcvn": "TCVN3", "VNI": "VNI", "VNI-Win": "VNI",
		"1252": "windows-1252", "ANSI 1252": "windows-1252", "88591": "windows-1252", "ISO-8859-2": "iso-8859-2",
	} {
		enc, err := cpgEncoding(in)
		if err != nil || enc.name != want {
			t.Errorf("cpgEncoding(%q) = %q, %v; want %q", in, enc.name, err, want)
		}
	}
	for _, in := range []string{"", "OEM", "klingon"} {
		if _, err := cpgEncoding(in); err == nil {
			t.Errorf("cpgEncoding(%q) = nil error", in)
		}
	}
}

func TestVietnameseSyllable(t *testing.T) {
	for _, w := range []string{"Ấp", "Bình", "Hòa", "Hoà", "Xã", "Mỹ", "Lộc", "Phường", "người", "được", "khuỷu", "nghiêng",
		"quốc", "giữ", "gìn", "Đắk", "Đăk", "Krông", "thuyền", "rượu"} {
		if !vietnameseSyllable(w) {
			t.Errorf("%q: not a syllable, want one", w)
		}
	}
	for _, w := range []string{"Hµ", "Néi", "Thµnh", "Biènh", "Hoìa", "Vieät", "Café", "Größe", "àá", "xyzá", "Tân1", "Lôc"} {
		if vietnameseSyllable(w) {
			t.Errorf("%q: a syllable, want not", w)
		}
	}
}
