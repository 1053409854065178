package export

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/xuri/excelize/v2"
)

// xlsxHoles are the fixture holes, the first with a registry state.
func xlsxHoles() []geo.Hole {
	holes := fixtureHoles()
	holes[0].Life = geo.HoleLife{State: geo.StatePlanned, AnswerDue: "2025-03-31", FixDue: "2025-06-30", Overdue: true,
		Cause: geo.CauseNoPower, Funding: geo.FundPublic}
	return holes
}

func openXLSX(t *testing.T, raw []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("excelize cannot read the file back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// colOf is the cell name of column name in row.
func colOf(t *testing.T, name string, row int) string {
	t.Helper()
	for i, c := range GapColumns {
		if c.Name == name {
			cell, err := excelize.CoordinatesToCellName(i+1, row)
			if err != nil {
				t.Fatal(err)
			}
			return cell
		}
	}
	t.Fatalf("no column %s", name)
	return ""
}

// TestGapsXLSX writes the gap list as XLSX and reads it back: Vietnamese
// headers in a frozen, filtered first row; numbers, dates and booleans in
// typed cells; Vietnamese text intact; the columns sheet naming each
// column by its machine name.
func TestGapsXLSX(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGapsXLSX(&b, geo.Viettel, xlsxHoles()); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	sheets := f.GetSheetList()
	if len(sheets) != 2 || sheets[0] != "Vùng lõm sóng Viettel" || sheets[1] != xlsxColumnsSheet {
		t.Fatalf("sheets %q", sheets)
	}
	sh := sheets[0]
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("sheet %d opens first, want the gap list", f.GetActiveSheetIndex())
	}
	rows, err := f.GetRows(sh)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2 holes", len(rows))
	}
	for i, c := range GapColumns {
		if rows[0][i] != c.Vi {
			t.Errorf("header %d = %q, want %q", i, rows[0][i], c.Vi)
		}
	}
	panes, err := f.GetPanes(sh)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v (%v), want the first row frozen", panes, err)
	}

	cases := []struct {
		name      string
		row       int
		typ       excelize.CellType
		raw, show string
	}{
		{"rank", 2, excelize.CellTypeUnset, "1", "1"},
		{"reports", 2, excelize.CellTypeUnset, "14", "14"},
		{"median_signal_dbm", 2, excelize.CellTypeUnset, "-118", "-118.0"},
		{"median_signal_dbm", 3, excelize.CellTypeUnset, "", ""},
		{"centroid_lon", 3, excelize.CellTypeUnset, "105.2345679", "105.2345679"},
		{"weak_share", 2, excelize.CellTypeUnset, "0.785714", "78.6%"},
		{"households_affected", 2, excelize.CellTypeUnset, "22.361111", "22"},
		// 2025-03-01 08:30 +07:00 is Excel day 45717 and 08:30/24h.
		{"first_observed", 2, excelize.CellTypeUnset, "45717.354166666664", "01/03/2025 08:30"},
		{"last_observed", 2, excelize.CellTypeUnset, "45718.854166666664", "02/03/2025 20:30"},
		{"first_observed", 3, excelize.CellTypeUnset, "", ""},
		{"answer_due", 2, excelize.CellTypeUnset, "45747", "31/03/2025"},
		{"fix_due", 2, excelize.CellTypeUnset, "45838", "30/06/2025"},
		{"overdue", 2, excelize.CellTypeBool, "1", "TRUE"},
		{"overdue", 3, excelize.CellTypeUnset, "", ""},
		{"carrier", 2, excelize.CellTypeInlineString, "Viettel", "Viettel"},
		{"carrier", 3, excelize.CellTypeInlineString, "Mọi nhà mạng", "Mọi nhà mạng"},
		{"state", 2, excelize.CellTypeInlineString, "Có kế hoạch", "Có kế hoạch"},
		{"state", 3, excelize.CellTypeUnset, "", ""},
		{"cause", 2, excelize.CellTypeInlineString, "Chưa có điện lưới", "Chưa có điện lưới"},
		{"funding", 2, excelize.CellTypeInlineString, "Quỹ Dịch vụ viễn thông công ích", "Quỹ Dịch vụ viễn thông công ích"},
		{"area_names", 2, excelize.CellTypeInlineString, nameHamlet, nameHamlet},
		{"area_names", 3, excelize.CellTypeInlineString, nameFormula + "; " + nameWard, nameFormula + "; " + nameWard},
		{"id", 3, excelize.CellTypeInlineString, "-all-77c0", "-all-77c0"},
	}
	for _, c := range cases {
		cell := colOf(t, c.name, c.row)
		typ, err := f.GetCellType(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := f.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
		show, _ := f.GetCellValue(sh, cell)
		if typ != c.typ || !sameRaw(raw, c.raw) || show != c.show {
			t.Errorf("%s row %d (%s): type %v, raw %q, shown %q; want type %v, raw %q, shown %q",
				c.name, c.row, cell, typ, raw, show, c.typ, c.raw, c.show)
		}
	}
	// A name that looks like a formula is text, not a formula.
	if fm, _ := f.GetCellFormula(sh, colOf(t, "area_names", 3)); fm != "" {
		t.Errorf("area name written as the formula %q", fm)
	}
	// Dates carry a date format, so the spreadsheet shows them as dates.
	for _, name := range []string{"first_observed", "answer_due"} {
		id, err := f.GetCellStyle(sh, colOf(t, name, 2))
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil || st.CustomNumFmt == nil || !strings.Contains(*st.CustomNumFmt, "yyyy") {
			t.Errorf("%s: style %+v (%v), want a date format", name, st, err)
		}
	}

	// The filter covers the header and every hole.
	dn := f.GetDefinedName()
	if len(dn) != 1 || dn[0].Name != "_xlnm._FilterDatabase" || dn[0].RefersTo != "'"+sh+"'!$A$1:$AD$3" {
		t.Errorf("defined names %+v, want the filter over A1:AD3", dn)
	}
	x := sheetXML(t, b.Bytes(), "xl/worksheets/sheet1.xml")
	if !strings.Contains(strings.ReplaceAll(x, "$", ""), `<autoFilter ref="A1:AD3"`) {
		t.Errorf("the sheet has no autofilter over A1:AD3:\n%s", x)
	}
	// Excel wants the columns' widths in order.
	if i, j := strings.Index(x, `<col min="1" `), strings.Index(x, `<col min="2" `); i < 0 || j < i {
		t.Errorf("column widths out of order:\n%s", x)
	}
	if w, err := f.GetColWidth(sh, "H"); err != nil || w < float64(len([]rune(nameFormula+"; "+nameWard))) {
		t.Errorf("area names column %.1f wide (%v), want room for the longest", w, err)
	}

	cols, err := f.GetRows(xlsxColumnsSheet)
	if err != nil {
		t.Fatal(err)
	}
	// The used ranges are given: readers that trust them (openpyxl's
	// read-only mode) see every row.
	for sheet, want := range map[string]string{sh: "A1:AD3", xlsxColumnsSheet: fmt.Sprintf("A1:D%d", len(cols))} {
		if got, err := f.GetSheetDimension(sheet); err != nil || got != want {
			t.Errorf("%s: dimension %q (%v), want %q", sheet, got, err, want)
		}
	}
	found := map[string][]string{}
	for _, r := range cols {
		if len(r) == 4 {
			found[r[3]] = r
		}
	}
	if r := found["median_signal_dbm"]; r == nil || r[0] != "P" || r[1] != "Cường độ sóng trung vị (dBm)" || r[2] != "Median signal (dBm)" {
		t.Errorf("columns sheet: median_signal_dbm row %q", r)
	}
	if r := found["no_power"]; r == nil || r[0] != "Nguyên nhân" || r[1] != "Chưa có điện lưới" {
		t.Errorf("columns sheet: no_power row %q", r)
	}
}

// sameRaw compares raw cell values, numbers as numbers (excelize reads
// them back to 15 digits).
func sameRaw(got, want string) bool {
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	if err1 == nil && err2 == nil {
		return math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return got == want
}

func sheetXML(t *testing.T, raw []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGapsXLSXEmpty: a list with no holes is a header row, still frozen
// and filtered; the dead zones' sheet says so.
func TestGapsXLSXEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGapsXLSX(&b, geo.CarrierAll, nil); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	sh := f.GetSheetList()[0]
	if sh != "Vùng lõm sóng mọi nhà mạng" {
		t.Errorf("sheet %q", sh)
	}
	rows, err := f.GetRows(sh)
	if err != nil || len(rows) != 1 || rows[0][0] != GapColumns[0].Vi {
		t.Errorf("rows %q (%v), want the header only", rows, err)
	}
	if p, _ := f.GetPanes(sh); !p.Freeze {
		t.Error("header not frozen")
	}
}

func TestExcelSerial(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want float64
	}{
		{time.Date(1900, 3, 1, 0, 0, 0, 0, geo.VietnamTime), 61},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), 45839 + 7.0/24}, // 07:00 in Vietnam
		{time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC), 45838 + 1},    // midnight in Vietnam
	} {
		if got := excelSerial(c.t); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("excelSerial(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// BenchmarkGapsXLSX: a province's gap list for one carrier.
func BenchmarkGapsXLSX(b *testing.B) {
	for _, n := range []int{100, 2000} {
		holes := make([]geo.Hole, n)
		for i := range holes {
			holes[i] = xlsxHoles()[i%2]
			holes[i].Rank = i + 1
		}
		b.Run(fmt.Sprintf("holes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := WriteGapsXLSX(&buf, geo.Viettel, holes); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/file")
		})
	}
}

// TestVocabulary holds the exports' Vietnamese words to the README's
// glossary: "lõm sóng", never "lõm" alone nor "không sóng".
func TestVocabulary(t *testing.T) {
	var words []string
	for _, c := range GapColumns {
		words = append(words, c.Vi)
	}
	for _, cw := range valueWords {
		for _, w := range cw.words {
			words = append(words, w.vi)
		}
	}
	for _, c := range []geo.Carrier{geo.Viettel, geo.Vietnamobile, geo.CarrierAll} {
		words = append(words, gapListTitle(c))
	}
	for _, w := range words {
		if i := strings.Index(w, "lõm"); i >= 0 && !strings.HasPrefix(w[i:], "lõm sóng") || strings.Contains(strings.ToLower(w), "không sóng") {
			t.Errorf("%q: the glossary says \"vùng lõm sóng\" (mọi nhà mạng)", w)
		}
	}
}
