package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// bom starts the CSV files so Excel reads them as UTF-8.
const bom = "\uFEFF"

var gapsHeader = []string{
	"rank", "id", "carrier", "centroid_lat", "centroid_lon", "area_km2", "area_codes", "area_names",
	"population_affected", "households_affected", "reports", "weak_reports", "reporters",
	"weak_share", "weak_low", "median_signal_dbm", "first_observed", "last_observed",
	"severity", "confidence", "priority", "prob_weak", "weak_share_p05", "weak_share_p95",
	"state", "answer_due", "fix_due", "overdue", "cause", "funding",
}

// WriteGapsCSV writes holes, in the given order, as a CSV table for
// spreadsheets: UTF-8 with a byte-order mark, CRLF line ends, each hole's
// state, deadlines (YYYY-MM-DD), cause and funding route last (empty when
// it has none), the areas a
// hole touches joined by "; ", unknown numbers as empty cells. Text cells
// that a spreadsheet would take for a formula (starting with =, +, -, @,
// tab or CR) get a leading apostrophe.
func WriteGapsCSV(w io.Writer, holes []geo.Hole) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(gapsHeader); err != nil {
		return err
	}
	row := make([]string, len(gapsHeader))
	for i := range holes {
		h := &holes[i]
		codes, names := areaLists(h.Areas)
		row = append(row[:0],
			strconv.Itoa(h.Rank),
			text(h.ID),
			h.Carrier.String(),
			formatNum(h.Centroid[1], precCoord),
			formatNum(h.Centroid[0], precCoord),
			formatNum(h.AreaKm2, precValue),
			text(strings.Join(codes, "; ")),
			text(strings.Join(names, "; ")),
			formatNum(h.Population, precValue),
			formatNum(h.Households, precValue),
			strconv.Itoa(h.Reports),
			strconv.Itoa(h.Weak),
			strconv.Itoa(h.Reporters),
			formatNum(h.WeakShare, precValue),
			formatNum(h.WeakLow, precValue),
			formatNum(h.MedianSignalDBm, precValue),
			formatTime(h.FirstObserved),
			formatTime(h.LastObserved),
			formatNum(h.Severity, precValue),
			formatNum(h.Confidence, precValue),
			formatNum(h.Priority, precValue),
			formatNum(h.ProbWeak, precValue),
			formatNum(h.Share05, precValue),
			formatNum(h.Share95, precValue),
			string(h.Life.State),
			h.Life.AnswerDue,
			h.Life.FixDue,
			overdue(&h.Life),
			string(h.Life.Cause),
			string(h.Life.Funding),
		)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// overdue is the overdue cell: empty for a hole without a state (an
// analysis outside a running service), else true or false.
func overdue(l *geo.HoleLife) string {
	if l.State == "" {
		return ""
	}
	return strconv.FormatBool(l.Overdue)
}

// text guards a text cell against spreadsheet formula injection.
func text(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// formatTime is RFC 3339 in UTC, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

var tasksHeader = []string{
	"team", "team_name", "rank", "area_code", "area_name", "place", "lat", "lon", "carrier", "why",
	"households", "score", "state", "proposed_at", "done_at", "done_by", "hole",
}

// WriteTasksCSV writes measurement tasks, in the given order, as a CSV
// table like WriteGapsCSV's: one row per place a team is asked to
// measure, with its H3 cell, centre, the carrier to measure ("all":
// every SIM the team has) and why.
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
