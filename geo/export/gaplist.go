package export

import (
	"math"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// GapColumn is one column of a carrier's gap list: the ranked table of
// its coverage holes (or, for carrier all, of the dead zones) that the
// CSV (WriteGapsCSV), the XLSX (WriteGapsXLSX) and the GeoPackage
// (data/gpkg.WriteGapList) write with the same columns in the same order.
type GapColumn struct {
	// Name is the machine name: the CSV header, the GeoPackage column
	// and, but for area_codes and area_names, the GeoJSON property.
	Name string
	// Type is the type of the column's values (see GapRow): "integer",
	// "number", "string", "date-time", "date" (a day in Vietnam time,
	// YYYY-MM-DD) or "boolean".
	Type string
	// Vi and En are the headers people read.
	Vi, En string

	prec   int     // decimals a number keeps
	numFmt string  // XLSX number format ("" for text)
	width  float64 // XLSX column width, in characters
}

// Number formats of the XLSX cells. Excel and LibreOffice show them with
// the reader's own decimal and thousands separators.
const (
	fmtInt      = "#,##0"
	fmtCoord    = "0.0000000"
	fmtKm2      = "#,##0.000"
	fmtDBm      = "0.0"
	fmtScore    = "0.00"
	fmtPriority = "#,##0.0"
	fmtShare    = "0.0%"
	fmtDateTime = "dd/mm/yyyy hh:mm"
	fmtDate     = "dd/mm/yyyy"
)

// GapColumns are the columns of a gap list, in order. The headers follow
// the README's glossary: a carrier's "vùng lõm sóng" (coverage hole),
// "vùng lõm sóng mọi nhà mạng" (dead zone).
var GapColumns = []GapColumn{
	{Name: "rank", Type: "integer", Vi: "Hạng ưu tiên", En: "Priority rank", numFmt: fmtInt, width: 8},
	{Name: "id", Type: "string", Vi: "Mã vùng lõm sóng", En: "Hole ID", width: 22},
	{Name: "carrier", Type: "string", Vi: "Nhà mạng", En: "Carrier", width: 12},
	{Name: "centroid_lat", Type: "number", Vi: "Vĩ độ tâm", En: "Centroid latitude", prec: precCoord, numFmt: fmtCoord, width: 12},
	{Name: "centroid_lon", Type: "number", Vi: "Kinh độ tâm", En: "Centroid longitude", prec: precCoord, numFmt: fmtCoord, width: 12},
	{Name: "area_km2", Type: "number", Vi: "Diện tích (km²)", En: "Area (km²)", prec: precValue, numFmt: fmtKm2, width: 10},
	{Name: "area_codes", Type: "string", Vi: "Mã địa bàn", En: "Area codes", width: 14},
	{Name: "area_names", Type: "string", Vi: "Địa bàn", En: "Areas", width: 30},
	{Name: "population_affected", Type: "number", Vi: "Dân số bị ảnh hưởng", En: "People affected", prec: precValue, numFmt: fmtInt, width: 11},
	{Name: "households_affected", Type: "number", Vi: "Hộ bị ảnh hưởng", En: "Households affected", prec: precValue, numFmt: fmtInt, width: 11},
	{Name: "reports", Type: "integer", Vi: "Số báo cáo", En: "Reports", numFmt: fmtInt, width: 9},
	{Name: "weak_reports", Type: "integer", Vi: "Báo cáo sóng yếu", En: "Weak reports", numFmt: fmtInt, width: 9},
	{Name: "reporters", Type: "integer", Vi: "Số người báo cáo", En: "Reporters", numFmt: fmtInt, width: 9},
	{Name: "weak_share", Type: "number", Vi: "Tỉ lệ sóng yếu", En: "Weak share", prec: precValue, numFmt: fmtShare, width: 9},
	{Name: "weak_low", Type: "number", Vi: "Tỉ lệ sóng yếu, cận dưới", En: "Weak share, lower bound", prec: precValue, numFmt: fmtShare, width: 10},
	{Name: "median_signal_dbm", Type: "number", Vi: "Cường độ sóng trung vị (dBm)", En: "Median signal (dBm)", prec: precValue, numFmt: fmtDBm, width: 11},
	{Name: "first_observed", Type: "date-time", Vi: "Ghi nhận lần đầu", En: "First observed", numFmt: fmtDateTime, width: 16},
	{Name: "last_observed", Type: "date-time", Vi: "Ghi nhận lần cuối", En: "Last observed", numFmt: fmtDateTime, width: 16},
	{Name: "severity", Type: "number", Vi: "Mức độ nghiêm trọng", En: "Severity", prec: precValue, numFmt: fmtScore, width: 10},
	{Name: "confidence", Type: "number", Vi: "Độ tin cậy", En: "Confidence", prec: precValue, numFmt: fmtScore, width: 9},
	{Name: "priority", Type: "number", Vi: "Điểm ưu tiên", En: "Priority", prec: precValue, numFmt: fmtPriority, width: 9},
	{Name: "prob_weak", Type: "number", Vi: "Khả năng sóng yếu", En: "Probability weak", prec: precValue, numFmt: fmtShare, width: 10},
	{Name: "weak_share_p05", Type: "number", Vi: "Tỉ lệ sóng yếu, mức 5%", En: "Weak share, 5th percentile", prec: precValue, numFmt: fmtShare, width: 10},
	{Name: "weak_share_p95", Type: "number", Vi: "Tỉ lệ sóng yếu, mức 95%", En: "Weak share, 95th percentile", prec: precValue, numFmt: fmtShare, width: 10},
	{Name: "state", Type: "string", Vi: "Trạng thái", En: "State", width: 16},
	{Name: "answer_due", Type: "date", Vi: "Hạn trả lời", En: "Answer due", numFmt: fmtDate, width: 11},
	{Name: "fix_due", Type: "date", Vi: "Hạn khắc phục", En: "Fix due", numFmt: fmtDate, width: 11},
	{Name: "overdue", Type: "boolean", Vi: "Quá hạn", En: "Overdue", width: 8},
	{Name: "cause", Type: "string", Vi: "Nguyên nhân", En: "Cause", width: 18},
	{Name: "funding", Type: "string", Vi: "Nguồn kinh phí", En: "Funding", width: 18},
}

// GapRow appends h's values to row in the order of GapColumns, one per
// column, typed by the column's Type: int64 (integer), float64 rounded
// to the decimals the CSV keeps (number), string (string; area codes and
// names joined by "; "), time.Time (date-time), string YYYY-MM-DD (date)
// and bool (boolean). A value that is unknown or does not apply is nil:
// an unknown number (NaN), a hole never observed, a hole without a
// registry state (an analysis outside a running service: state,
// deadlines and overdue), no cause, no funding route. Enumerations are
// their machine names (viettel, planned, no_power); see Label for the
// words people read.
func GapRow(row []any, h *geo.Hole) []any {
	codes, names := areaLists(h.Areas)
	l := &h.Life
	row = append(row,
		int64(h.Rank),
		h.ID,
		h.Carrier.String(),
		gapNum(h.Centroid[1], precCoord),
		gapNum(h.Centroid[0], precCoord),
		gapNum(h.AreaKm2, precValue),
		strings.Join(codes, "; "),
		strings.Join(names, "; "),
		gapNum(h.Population, precValue),
		gapNum(h.Households, precValue),
		int64(h.Reports),
		int64(h.Weak),
		int64(h.Reporters),
		gapNum(h.WeakShare, precValue),
		gapNum(h.WeakLow, precValue),
		gapNum(h.MedianSignalDBm, precValue),
		gapTime(h.FirstObserved),
		gapTime(h.LastObserved),
		gapNum(h.Severity, precValue),
		gapNum(h.Confidence, precValue),
		gapNum(h.Priority, precValue),
		gapNum(h.ProbWeak, precValue),
		gapNum(h.Share05, precValue),
		gapNum(h.Share95, precValue),
		gapStr(string(l.State)),
		gapStr(l.AnswerDue),
		gapStr(l.FixDue),
		nil,
		gapStr(string(l.Cause)),
		gapStr(string(l.Funding)),
	)
	if l.State != "" {
		row[len(row)-3] = l.Overdue
	}
	return row
}

func gapNum(v float64, prec int) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return roundTo(v, prec)
}

func gapTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func gapStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
