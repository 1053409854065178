package api

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

//go:embed openapi.json
var openapiJSON []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
	return nil
}

// month is one month of an area's reports.
type month struct {
	Month   string `json:"month"` // YYYY-MM, UTC
	Reports int    `json:"reports"`
	Weak    int    `json:"weak"`
}

func (s *Server) handleArea(w http.ResponseWriter, r *http.Request) error {
	code := mux.Vars(r)["code"]
	st := s.cur.load()
	var score *geo.AreaScore
	for i := range st.result.Areas {
		if st.result.Areas[i].Code == code {
			score = &st.result.Areas[i]
			break
		}
	}
	if score == nil {
		return geo.NewError(geo.ErrNotFound, "no area with code "+strconv.Quote(code))
	}
	in := leavesUnder(st, score)
	months := map[string]*month{}
	for i := range st.obs {
		o := &st.obs[i]
		if o.Area < 0 || !in[o.Area] {
			continue
		}
		k := time.Unix(o.At, 0).UTC().Format("2006-01")
		m := months[k]
		if m == nil {
			m = &month{Month: k}
			months[k] = m
		}
		m.Reports++
		if o.Flags&geo.FlagWeak != 0 {
			m.Weak++
		}
	}
	out := struct {
		geo.AreaScore
		Monthly []month `json:"monthly"`
		// HolesByState counts the holes touching the area by state.
		HolesByState map[geo.HoleState]int `json:"holes_by_state"`
	}{AreaScore: *score, Monthly: []month{}, HolesByState: holesByState(st, in)}
	for _, m := range months {
		out.Monthly = append(out.Monthly, *m)
	}
	sort.Slice(out.Monthly, func(i, j int) bool { return out.Monthly[i].Month < out.Monthly[j].Month })
	var b bytes.Buffer
	// WriteSummaryJSON writes the engine's NaN "unknown" as null.
	if err := export.WriteSummaryJSON(&b, out); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
	return nil
}

// holesByState counts the holes of st that touch the areas in by state
// (carriers' holes and dead zones alike).
func holesByState(st *state, in map[int32]bool) map[geo.HoleState]int {
	codes := make(map[string]bool, len(in))
	for i := range in {
		codes[st.areas[i].Code] = true
	}
	n := map[geo.HoleState]int{}
	for i := range st.result.Holes {
		h := &st.result.Holes[i]
		for _, a := range h.Areas {
			if codes[a.Code] {
				if h.Life.State != "" {
					n[h.Life.State]++
				}
				break
			}
		}
	}
	return n
}

// leavesUnder returns the indexes of st's areas that score covers:
// itself, or for a roll-up every area whose parent chain reaches it.
func leavesUnder(st *state, score *geo.AreaScore) map[int32]bool {
	in := map[int32]bool{}
	if score.Index >= 0 {
		in[int32(score.Index)] = true
		return in
	}
	for i := range st.areas {
		p := st.areas[i].ParentCode
		for depth := 0; p != "" && depth < 8; depth++ {
			if p == score.Code {
				in[int32(i)] = true
				break
			}
			j, ok := st.areaByCode[p]
			if !ok {
				break
			}
			p = st.areas[j].ParentCode
		}
	}
	return in
}

func (s *Server) handleGaps(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := PrincipalFrom(r.Context())
	own, ownOnly := p.OwnCarrier()
	if !q.Has("carrier") && ownOnly {
		q.Set("carrier", own.String())
	}
	if !q.Has("carrier") {
		return badField("carrier", "required: viettel, vinaphone, mobifone, vietnamobile or all")
	}
	c, err := geo.ParseCarrier(q.Get("carrier"))
	if err != nil {
		return badField("carrier", err.Error())
	}
	if !p.SeesCarrier(c) {
		return geo.NewError(geo.ErrForbidden, "a carrier reads its own gap list only",
			&geo.FieldError{Field: "carrier", Reason: "must be " + own.String()})
	}
	format := q.Get("format")
	if format == "" {
		format = "geojson"
	}
	var ctype, ext string
	switch format {
	case "csv":
		ctype, ext = "text/csv; charset=utf-8", "csv"
	case "geojson":
		ctype, ext = "application/geo+json", "geojson"
	case "kml":
		ctype, ext = "application/vnd.google-earth.kml+xml", "kml"
	case "xlsx":
		ctype, ext = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
	case "gpkg":
		if s.gapListGPKG == nil {
			return badField("format", "gpkg is not available on this server: csv, geojson, kml or xlsx")
		}
		ctype, ext = "application/geopackage+sqlite3", "gpkg"
	default:
		return badField("format", "must be csv, geojson, kml, xlsx or gpkg")
	}
	var state geo.HoleState
	if q.Has("state") {
		if state, err = geo.ParseHoleState(q.Get("state")); err != nil {
			return err
		}
	}
	all := s.cur.load().result.Holes
	if q.Has("as_of") {
		if all, err = s.svc.FrozenGaps(r.Context(), &p.Viewer, q.Get("as_of"), c); err != nil {
			return err
		}
	}
	// A dismissed hole is off the list, unless asked for by its state.
	var holes []geo.Hole
	for _, h := range all {
		if h.Carrier == c && (state == "" && h.Life.State != geo.StateDismissed || state != "" && h.Life.State == state) {
			holes = append(holes, h)
		}
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="gaps-`+c.String()+"."+ext+`"`)
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "csv":
		err = export.WriteGapsCSV(bw, holes)
	case "geojson":
		err = export.WriteGapsGeoJSON(bw, holes)
	case "kml":
		err = export.WriteGapsKML(bw, c, holes)
	case "xlsx":
		err = export.WriteGapsXLSX(bw, c, holes)
	case "gpkg":
		err = s.gapListGPKG(r.Context(), bw, c, holes)
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

// reportOut is a report as the API shows it: everything but the reporter.
type reportOut struct {
	ID           string      `json:"id"`
	Lat          float64     `json:"lat"`
	Lon          float64     `json:"lon"`
	ObservedAt   time.Time   `json:"observed_at"`
	Carrier      geo.Carrier `json:"carrier"`
	Tech         geo.Tech    `json:"tech,omitempty"`
	SignalDBm    *float64    `json:"signal_dbm,omitempty"`
	DownloadMbps *float64    `json:"download_mbps,omitempty"`
	UploadMbps   *float64    `json:"upload_mbps,omitempty"`
	NoService    bool        `json:"no_service"`
	Source       geo.Source  `json:"source,omitempty"`
	Note         string      `json:"note,omitempty"`
	// ClientID is the id a staff member gave the report, when its id was
	// made from it (see service.AddReport).
	ClientID string `json:"client_id,omitempty"`
	// Reporter, and Submitter (the account the evidence rules count),
	// are shown to admins and reviewers only.
	Reporter  string `json:"reporter,omitempty"`
	Submitter string `json:"submitter,omitempty"`
	// HoleID and HoleState are the hole of the current analysis the
	// report is in, when it is in one.
	HoleID    string        `json:"hole_id,omitempty"`
	HoleState geo.HoleState `json:"hole_state,omitempty"`
}

// newReportOut is r as p may see it.
func newReportOut(r *geo.Report, p *Principal) reportOut {
	o := reportOut{ID: r.ID, Lat: r.Lat, Lon: r.Lon, ObservedAt: r.ObservedAt.UTC(), Carrier: r.Carrier,
		Tech: r.Tech, SignalDBm: r.SignalDBm, DownloadMbps: r.DownloadMbps, UploadMbps: r.UploadMbps,
		NoService: r.NoService, Source: r.Source, Note: r.Note, ClientID: r.ClientID}
	if p.SeesReporters() {
		o.Reporter, o.Submitter = r.Reporter, r.Submitter
	}
	return o
}

// writeJSON replies with v as JSON and a success status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

// reportLocation is a report's URL.
func reportLocation(id string) string { return "/api/v1/reports/" + urlPathEscape(id) }

func (s *Server) handlePostReport(w http.ResponseWriter, r *http.Request) error {
	mt := mediaType(r)
	if mt != "application/json" && mt != "application/geo+json" {
		w.Header().Set("Accept-Post", "application/json, application/geo+json")
		return unsupportedMedia("application/json or application/geo+json")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	// The same field parser as a file import, so a report is read alike
	// whichever way it comes.
	decode := ingest.DecodeReport
	if mt == "application/geo+json" {
		decode = ingest.DecodeReportFeature
	}
	rep, err := decode(body, s.svc.Now())
	if err != nil {
		s.metrics.rejected.Add(1)
		return fmt.Errorf("invalid report: %w", geo.AsFieldErrors(err))
	}
	p := PrincipalFrom(r.Context())
	stored, created, err := s.svc.AddReport(r.Context(), &p.Viewer, rep, r.Header.Get("Idempotency-Key"))
	if err != nil {
		if errors.Is(err, geo.ErrInvalid) || errors.Is(err, geo.ErrForbidden) {
			s.metrics.rejected.Add(1)
		}
		return err
	}
	w.Header().Set("Location", reportLocation(stored.ID))
	if !created {
		return writeJSON(w, http.StatusOK, newReportOut(&stored, p))
	}
	s.metrics.accepted.Add(1)
	return writeJSON(w, http.StatusCreated, newReportOut(&stored, p))
}

func (s *Server) handleGetReport(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	rep, err := s.svc.Report(r.Context(), &p.Viewer, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	out := newReportOut(&rep, p)
	out.HoleID, out.HoleState, _ = s.svc.HoleOf(&rep)
	return writeJSON(w, http.StatusOK, out)
}

// importResult is the reply to an import.
type importResult struct {
	Accepted  int          `json:"accepted"`
	Rejected  int          `json:"rejected"`
	Errors    []fieldError `json:"errors"`
	Truncated bool         `json:"truncated,omitempty"`
}

// maxImportErrors caps the errors an import reply lists.
const maxImportErrors = 1000

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) error {
	var f ingest.Format
	switch mediaType(r) {
	case "text/csv":
		f = ingest.FormatCSV
	case "application/geo+json":
		f = ingest.FormatGeoJSON
	default:
		w.Header().Set("Accept-Post", "text/csv, application/geo+json")
		return unsupportedMedia("text/csv or application/geo+json")
	}
	p := PrincipalFrom(r.Context())
	body := s.bodyOf(w, r)
	res, err := s.svc.ImportReports(r.Context(), &p.Viewer, body, service.ImportOptions{Format: f, MaxErrors: maxImportErrors})
	if err != nil {
		return err
	}
	s.metrics.accepted.Add(uint64(res.Accepted))
	s.metrics.rejected.Add(uint64(res.Rejected))
	out := importResult{Accepted: res.Accepted, Rejected: res.Rejected, Errors: fieldErrors(res.Errors), Truncated: res.Truncated}
	return writeJSON(w, http.StatusOK, out)
}
