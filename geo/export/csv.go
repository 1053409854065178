package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// bom starts the CSV files so Excel reads them as UTF-8.
const bom = "\uFEFF"

// WriteGapsCSV writes holes, in the given order, as a CSV table for
// programs (RFC 4180): UTF-8 with a byte-order mark, CRLF line ends, the
// gap list's columns (GapColumns) under their machine names, the areas a
// hole touches joined by "; ", numbers with a decimal point (never
// quoted), times in Vietnam time with their offset
// (2025-07-01T07:00:00+07:00), deadlines as YYYY-MM-DD, and what is
// unknown or does not apply (see GapRow) as an empty cell. Text cells
// that a spreadsheet would take for a formula (starting with =, +, -, @,
// tab or CR) get a leading apostrophe. For spreadsheets, WriteGapsXLSX.
func WriteGapsCSV(w io.Writer, holes []geo.Hole) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	row := make([]string, len(GapColumns))
	for i, c := range GapColumns {
		row[i] = c.Name
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	values := make([]any, 0, len(GapColumns))
	for i := range holes {
		values = GapRow(values[:0], &holes[i])
		for j, v := range values {
			row[j] = csvCell(v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell writes a GapRow value as a CSV cell.
func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return text(v)
	case time.Time:
		return formatTime(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v) // GapRow writes no other type
}

// text guards a text cell against spreadsheet formula injection.
func text(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// formatTime is t in Vietnam time in RFC 3339, with its offset
// (2025-07-01T07:00:00+07:00), so a spreadsheet reader reads local
// times; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(geo.VietnamTime).Format(time.RFC3339)
}

var tasksHeader = []string{
	"team", "team_name", "rank", "area_code", "area_name", "place", "lat", "lon", "carrier", "why",
	"households", "score", "state", "proposed_at", "done_at", "done_by", "hole",
}

// WriteTasksCSV writes measurement tasks, in the given order, as a CSV
// table like WriteGapsCSV's (times in Vietnam time with their offset):
// one row per place a team is asked to measure, with its H3 cell,
// centre, the carrier to measure ("all": every SIM the team has) and
// why.
func WriteTasksCSV(w io.Writer, tasks []geo.Task) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(tasksHeader); err != nil {
		return err
	}
	row := make([]string, len(tasksHeader))
	for i := range tasks {
		t := &tasks[i]
		row = append(row[:0],
			text(t.Team), text(t.TeamName), strconv.Itoa(t.Rank), text(t.Area), text(t.AreaName), t.Place,
			formatNum(t.Lat, precCoord), formatNum(t.Lon, precCoord), t.Carrier.String(), string(t.Why),
			formatNum(t.Households, precValue), formatNum(t.Score, precValue), t.State,
			formatTime(t.ProposedAt), formatTime(t.DoneAt), text(t.DoneBy), text(t.Hole),
		)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
