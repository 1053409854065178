package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

// holeOut is a hole of the registry as GET /api/v1/holes/{id} shows it:
// its state, deadlines and history, and its figures in the latest
// analysis.
type holeOut struct {
	service.HoleView
	Analysis *holeFigures `json:"analysis"`
}

// holeFigures are a hole's figures in the latest analysis.
type holeFigures struct {
	Rank          int           `json:"rank"`
	Priority      float64       `json:"priority"`
	AreaKm2       float64       `json:"area_km2"`
	Cells         int           `json:"cells"`
	Households    float64       `json:"households_affected"`
	Population    float64       `json:"population_affected"`
	Reports       int           `json:"reports"`
	Weak          int           `json:"weak_reports"`
	Reporters     int           `json:"reporters"`
	WeakShare     float64       `json:"weak_share"`
	ProbWeak      float64       `json:"prob_weak"`
	FirstObserved time.Time     `json:"first_observed"`
	LastObserved  time.Time     `json:"last_observed"`
	Areas         []geo.AreaRef `json:"areas"`
}

// writeHole replies with hv.
func writeHole(w http.ResponseWriter, status int, hv service.HoleView) error {
	out := holeOut{HoleView: hv}
	if h := hv.Analysis; h != nil {
		out.Analysis = &holeFigures{Rank: h.Rank, Priority: h.Priority, AreaKm2: h.AreaKm2, Cells: h.Cells,
			Households: h.Households, Population: h.Population, Reports: h.Reports, Weak: h.Weak,
			Reporters: h.Reporters, WeakShare: h.WeakShare, ProbWeak: h.ProbWeak,
			FirstObserved: h.FirstObserved.UTC(), LastObserved: h.LastObserved.UTC(), Areas: h.Areas}
	}
	var b bytes.Buffer
	// WriteSummaryJSON writes an unknown (NaN) figure as null.
	if err := export.WriteSummaryJSON(&b, out); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return nil
}

func (s *Server) handleHole(w http.ResponseWriter, r *http.Request) error {
	hv, err := s.svc.Hole(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	return writeHole(w, http.StatusOK, hv)
}

func (s *Server) handleHoleAnswer(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		State       string `json:"state"`
		PlannedDate string `json:"planned_date"`
		Plan        string `json:"plan"`
		FixedDate   string `json:"fixed_date"`
		Note        string `json:"note"`
		Cause       string `json:"cause"`
		Funding     string `json:"funding"`
		Lead        string `json:"lead_carrier"`
		Carrier     string `json:"carrier"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	hv, err := s.svc.AnswerHole(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"], service.Answer{
		State: in.State, PlannedDate: in.PlannedDate, Plan: in.Plan, FixedDate: in.FixedDate, Note: in.Note,
		Cause: in.Cause, Funding: in.Funding, Lead: in.Lead, Carrier: in.Carrier})
	if err != nil {
		return err
	}
	return writeHole(w, http.StatusCreated, hv)
}

func (s *Server) handleHoleRuling(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
		Carrier  string `json:"carrier"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	hv, err := s.svc.RuleHole(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"], in.Decision, in.Note, in.Carrier)
	if err != nil {
		return err
	}
	return writeHole(w, http.StatusCreated, hv)
}

// scorecardOut is the reply of GET /api/v1/scorecard.
type scorecardOut struct {
	Period string         `json:"period"`
	From   string         `json:"from"`
	To     string         `json:"to"` // the last day
	Rows   []geo.ScoreRow `json:"rows"`
}

func (s *Server) handleScorecard(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c := geo.CarrierUnknown
	if q.Has("carrier") {
		var err error
		if c, err = geo.ParseCarrier(q.Get("carrier")); err != nil {
			return badField("carrier", err.Error())
		}
	}
	if !q.Has("period") {
		return badField("period", "required: a month such as 2026-11 or a quarter such as 2026Q4")
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return badField("format", "must be json or csv")
	}
	rows, p, err := s.svc.Scorecard(r.Context(), &PrincipalFrom(r.Context()).Viewer, c, q.Get("period"))
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="scorecard-`+p.Name+`.csv"`)
		return writeScorecardCSV(w, p, rows)
	}
	out := scorecardOut{Period: p.Name, From: geo.FormatDate(p.From), To: geo.FormatDate(p.To.AddDate(0, 0, -1)), Rows: rows}
	var b bytes.Buffer
	if err := export.WriteSummaryJSON(&b, out); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
	return nil
}

// writeScorecardCSV writes the scorecard rows as CSV for spreadsheets
// (UTF-8 with a byte-order mark, CRLF): one row per carrier, the counts
// by cause and funding route in columns of their own, an unknown median
// as an empty cell.
func writeScorecardCSV(w http.ResponseWriter, p geo.Period, rows []geo.ScoreRow) error {
	head := []string{"period", "carrier", "listed", "answered", "answered_on_time", "planned", "fixed", "verified",
		"reopened", "overdue", "median_days_to_answer", "median_days_to_fix"}
	for _, c := range geo.Causes {
		head = append(head, "cause_"+string(c))
	}
	for _, f := range geo.Fundings {
		head = append(head, "funding_"+string(f))
	}
	w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(head)
	num := func(v float64) string {
		if v != v {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	for _, r := range rows {
		rec := []string{p.Name, r.Carrier.String()}
		for _, n := range []int{r.Listed, r.Answered, r.AnsweredOnTime, r.Planned, r.Fixed, r.Verified, r.Reopened, r.Overdue} {
			rec = append(rec, strconv.Itoa(n))
		}
		rec = append(rec, num(r.MedianDaysToAnswer), num(r.MedianDaysToFix))
		for _, c := range geo.Causes {
			rec = append(rec, strconv.Itoa(r.Causes[c]))
		}
		for _, f := range geo.Fundings {
			rec = append(rec, strconv.Itoa(r.Funding[f]))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
