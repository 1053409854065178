package export

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"github.com/xuri/excelize/v2"
)

// Sheets of the XLSX gap list. Excel limits a sheet's name to 31
// characters and forbids : \ / ? * [ ].
const (
	xlsxColumnsSheet = "Cột - Columns"
	xlsxMaxWidth     = 60
)

// WriteGapsXLSX writes carrier's holes (for carrier all, the dead
// zones), in the given order, as an Excel workbook for planners: the
// gap list's columns (GapColumns) under Vietnamese headers in a frozen,
// filtered first row, one hole a row, with typed cells — integers and
// numbers as numbers with a display format (shares as percentages),
// first and last observed as date-times and deadlines as dates in
// Vietnam time (Asia/Ho_Chi_Minh, UTC+7), overdue as a boolean — and
// unknown values as empty cells. Carrier, state, cause and funding are
// written in Vietnamese. A second sheet, "Cột - Columns", gives each
// column's Vietnamese and English header and its machine name (the CSV
// header and GeoJSON property), and each Vietnamese value's machine
// name.
//
// Text is written as text cells: a name starting with "=" stays text,
// never a formula.
func WriteGapsXLSX(w io.Writer, carrier geo.Carrier, holes []geo.Hole) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	x := &xlsxWriter{f: f}
	sheet := gapListTitle(carrier)
	if utf8.RuneCountInString(sheet) > 31 {
		sheet = "Vùng lõm sóng"
	}
	x.do(f.SetSheetName("Sheet1", sheet))
	x.do(f.SetDocProps(&excelize.DocProperties{
		Title:       "gapmap — " + gapListTitle(carrier),
		Subject:     "gapmap gap list: " + gapListTitleEn(carrier),
		Creator:     "gapmap",
		Language:    "vi-VN",
		Description: "Thời gian theo giờ Việt Nam (UTC+7). Times in Vietnam time (UTC+7).",
	}))
	x.gapSheet(sheet, holes)
	x.columnsSheet()
	if x.err != nil {
		return fmt.Errorf("export: xlsx: %w", x.err)
	}
	return f.Write(w)
}

// xlsxWriter keeps the first error of a run of excelize calls.
type xlsxWriter struct {
	f   *excelize.File
	err error
}

func (x *xlsxWriter) do(err error) {
	if x.err == nil {
		x.err = err
	}
}

func (x *xlsxWriter) style(s *excelize.Style) int {
	id, err := x.f.NewStyle(s)
	x.do(err)
	return id
}

// headerStyle: bold on a pale fill, wrapped, a line under it.
func (x *xlsxWriter) headerStyle() int {
	return x.style(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Border:    []excelize.Border{{Type: "bottom", Color: "7F7F7F", Style: 1}},
	})
}

func (x *xlsxWriter) gapSheet(sheet string, holes []geo.Hole) {
	f := x.f
	last, err := excelize.CoordinatesToCellName(len(GapColumns), len(holes)+1)
	x.do(err)
	// Set before streaming: the stream writer writes the sheet's used
	// range and filter as they are when it starts.
	x.do(f.SetSheetDimension(sheet, "A1:"+last))
	x.do(f.AutoFilter(sheet, "A1:"+last, nil))
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		x.do(err)
		return
	}
	styles := make([]int, len(GapColumns))
	for i := range GapColumns {
		if c := &GapColumns[i]; c.numFmt != "" {
			styles[i] = x.style(&excelize.Style{CustomNumFmt: &c.numFmt})
		}
	}
	x.setWidths(sw, widths(holes))
	x.do(sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}))
	head := x.headerStyle()
	row := make([]any, len(GapColumns))
	for i, c := range GapColumns {
		row[i] = excelize.Cell{StyleID: head, Value: c.Vi}
	}
	x.do(sw.SetRow("A1", row, excelize.RowOpts{Height: 48}))
	values := make([]any, 0, len(GapColumns))
	for i := range holes {
		values = GapRow(values[:0], &holes[i])
		for j, v := range values {
			row[j] = excelize.Cell{StyleID: styles[j], Value: xlsxValue(&GapColumns[j], v)}
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		x.do(err)
		x.do(sw.SetRow(cell, row))
		if x.err != nil {
			return
		}
	}
	x.do(sw.Flush())
}

// setWidths sets the widths of the first len(wd) columns. excelize puts
// each column set before those set earlier, and Excel wants them in
// order: so from the last.
func (x *xlsxWriter) setWidths(sw *excelize.StreamWriter, wd []float64) {
	for i := len(wd) - 1; i >= 0; i-- {
		x.do(sw.SetColWidth(i+1, i+1, wd[i]))
	}
}

// widths are the columns' widths: their own, or wider for text that
// needs it (area names), up to xlsxMaxWidth.
func widths(holes []geo.Hole) []float64 {
	wd := make([]float64, len(GapColumns))
	for i := range GapColumns {
		wd[i] = GapColumns[i].width
	}
	var row []any
	for k := range holes {
		row = GapRow(row[:0], &holes[k])
		for i := range GapColumns {
			c := &GapColumns[i]
			if c.Type != "string" {
				continue
			}
			s, _ := xlsxValue(c, row[i]).(string)
			if n := float64(utf8.RuneCountInString(s)) + 1; n > wd[i] {
				wd[i] = min(n, xlsxMaxWidth)
			}
		}
	}
	return wd
}

// xlsxValue is the cell value of v in column c: enumerations in
// Vietnamese, times as Excel serial dates of their Vietnam wall-clock
// time, YYYY-MM-DD days as serial dates.
func xlsxValue(c *GapColumn, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case time.Time:
		return excelSerial(v)
	case string:
		switch c.Type {
		case "date":
			t, err := time.ParseInLocation(geo.DateLayout, v, geo.VietnamTime)
			if err != nil {
				return v // not a day: shown as it is
			}
			return excelSerial(t)
		case "string":
			return viValue(c.Name, v)
		}
		return v
	}
	return v
}

// excelEpoch is day 0 of Excel's 1900 date system as it counts after
// February 1900: 1899-12-30.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelSerial is t as an Excel date: days (and the fraction of a day)
// since excelEpoch of t's wall-clock time in Vietnam, to the second.
// Excel dates carry no zone; the reader sees Vietnam's time.
func excelSerial(t time.Time) float64 {
	_, off := t.In(geo.VietnamTime).Zone()
	s := t.Unix() + int64(off) - excelEpoch.Unix()
	return float64(s) / 86400
}

// columnsSheet writes the sheet that names every column and value in
// both languages and by its machine name.
func (x *xlsxWriter) columnsSheet() {
	f := x.f
	const sheet = xlsxColumnsSheet
	_, err := f.NewSheet(sheet)
	x.do(err)
	n := 1 + len(GapColumns) + 2 // the columns, a blank line, the values' header
	for _, cw := range valueWords {
		n += len(cw.words)
	}
	last, err := excelize.CoordinatesToCellName(4, n+2) // a blank line, the note on times
	x.do(err)
	x.do(f.SetSheetDimension(sheet, "A1:"+last))
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		x.do(err)
		return
	}
	x.setWidths(sw, []float64{18, 30, 30, 22})
	head := x.headerStyle()
	n = 1
	put := func(style int, vals ...string) {
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = excelize.Cell{StyleID: style, Value: v}
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		x.do(err)
		x.do(sw.SetRow(cell, row))
		n++
	}
	put(head, "Cột\nColumn", "Tiêu đề\n(tiếng Việt)", "Heading\n(English)", "Tên trường\nField name")
	for i, c := range GapColumns {
		col, err := excelize.ColumnNumberToName(i + 1)
		x.do(err)
		put(0, col, c.Vi, c.En, c.Name)
	}
	n++
	put(head, "", "Giá trị\n(tiếng Việt)", "Value\n(English)", "Tên giá trị\nMachine name")
	for _, cw := range valueWords {
		for _, w := range cw.words {
			put(0, columnVi(cw.column), w.vi, w.en, w.value)
		}
	}
	n++
	put(0, "", "Thời gian theo giờ Việt Nam (UTC+7).", "Times are in Vietnam time (UTC+7).", "")
	x.do(sw.Flush())
}
