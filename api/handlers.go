package api

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
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

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
}

// month is one month of an area's reports.
type month struct {
	Month   string `json:"month"` // YYYY-MM, UTC
	Reports int    `json:"reports"`
	Weak    int    `json:"weak"`
}

func (s *Server) handleArea(w http.ResponseWriter, r *http.Request) {
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
		writeProblem(w, http.StatusNotFound, "no area with code "+strconv.Quote(code))
		return
	}
	in := s.leavesUnder(score)
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
	}{AreaScore: *score, Monthly: []month{}}
	for _, m := range months {
		out.Monthly = append(out.Monthly, *m)
	}
	sort.Slice(out.Monthly, func(i, j int) bool { return out.Monthly[i].Month < out.Monthly[j].Month })
	var b bytes.Buffer
	// WriteSummaryJSON writes the engine's NaN "unknown" as null.
	if err := export.WriteSummaryJSON(&b, out); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

// leavesUnder returns the indexes of the loaded areas that score covers:
// itself, or for a roll-up every area whose parent chain reaches it.
func (s *Server) leavesUnder(score *geo.AreaScore) map[int32]bool {
	in := map[int32]bool{}
	if score.Index >= 0 {
		in[int32(score.Index)] = true
		return in
	}
	for i := range s.areas {
		p := s.areas[i].ParentCode
		for depth := 0; p != "" && depth < 8; depth++ {
			if p == score.Code {
				in[int32(i)] = true
				break
			}
			j, ok := s.areaByCod[p]
			if !ok {
				break
			}
			p = s.areas[j].ParentCode
		}
	}
	return in
}

func (s *Server) handleGaps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := PrincipalFrom(r.Context())
	own, ownOnly := p.OwnCarrier()
	if !q.Has("carrier") && ownOnly {
		q.Set("carrier", own.String())
	}
	if !q.Has("carrier") {
		fieldProblem(w, "carrier", "required: viettel, vinaphone, mobifone, vietnamobile or all")
		return
	}
	c, err := geo.ParseCarrier(q.Get("carrier"))
	if err != nil {
		fieldProblem(w, "carrier", err.Error())
		return
	}
	if !p.SeesCarrier(c) {
		writeProblem(w, http.StatusForbidden, "a carrier reads its own gap list only",
			fieldError{Field: "carrier", Reason: "must be " + own.String()})
		return
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
	default:
		fieldProblem(w, "format", "must be csv, geojson or kml")
		return
	}
	var holes []geo.Hole
	for _, h := range s.cur.load().result.Holes {
		if h.Carrier == c {
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
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "gaps", "err", err)
	}
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
	// Reporter is shown to admins and reviewers only.
	Reporter string `json:"reporter,omitempty"`
}

// newReportOut is r as p may see it.
func newReportOut(r *geo.Report, p *Principal) reportOut {
	o := reportOut{ID: r.ID, Lat: r.Lat, Lon: r.Lon, ObservedAt: r.ObservedAt.UTC(), Carrier: r.Carrier,
		Tech: r.Tech, SignalDBm: r.SignalDBm, DownloadMbps: r.DownloadMbps, UploadMbps: r.UploadMbps,
		NoService: r.NoService, Source: r.Source, Note: r.Note}
	if p.SeesReporters() {
		o.Reporter = r.Reporter
	}
	return o
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// reportLocation is a report's URL.
func reportLocation(id string) string { return "/api/v1/reports/" + urlPathEscape(id) }

func (s *Server) handlePostReport(w http.ResponseWriter, r *http.Request) {
	mt := mediaType(r)
	if mt != "application/json" && mt != "application/geo+json" {
		w.Header().Set("Accept-Post", "application/json, application/geo+json")
		writeProblem(w, http.StatusUnsupportedMediaType, "send application/json or application/geo+json",
			fieldError{Field: "Content-Type", Reason: "must be application/json or application/geo+json"})
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var rep geo.Report
	var es geo.FieldErrors
	if mt == "application/json" {
		rep, es = decodeReportJSON(body)
	} else {
		rep, es = decodeReportFeature(body)
	}
	if len(es) > 0 {
		s.metrics.rejected.Add(1)
		writeProblem(w, http.StatusBadRequest, "invalid report: "+es.Error(), fieldErrors(es)...)
		return
	}
	p := PrincipalFrom(r.Context())
	stored, created, err := s.svc.AddReport(r.Context(), &p.Viewer, rep, r.Header.Get("Idempotency-Key"))
	if err != nil {
		if errors.Is(err, geo.ErrInvalid) || errors.Is(err, geo.ErrForbidden) {
			s.metrics.rejected.Add(1)
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", reportLocation(stored.ID))
	if !created {
		writeJSON(w, http.StatusOK, newReportOut(&stored, p))
		return
	}
	s.metrics.accepted.Add(1)
	writeJSON(w, http.StatusCreated, newReportOut(&stored, p))
}

func (s *Server) handleGetReport(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	rep, err := s.svc.Report(r.Context(), &p.Viewer, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newReportOut(&rep, p))
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

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	var f ingest.Format
	switch mediaType(r) {
	case "text/csv":
		f = ingest.FormatCSV
	case "application/geo+json":
		f = ingest.FormatGeoJSON
	default:
		w.Header().Set("Accept-Post", "text/csv, application/geo+json")
		writeProblem(w, http.StatusUnsupportedMediaType, "send text/csv or application/geo+json",
			fieldError{Field: "Content-Type", Reason: "must be text/csv or application/geo+json"})
		return
	}
	p := PrincipalFrom(r.Context())
	body := http.MaxBytesReader(w, r.Body, s.maxBody)
	res, err := s.svc.ImportReports(r.Context(), &p.Viewer, body, service.ImportOptions{Format: f, MaxErrors: maxImportErrors})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.accepted.Add(uint64(res.Accepted))
	s.metrics.rejected.Add(uint64(res.Rejected))
	out := importResult{Accepted: res.Accepted, Rejected: res.Rejected, Errors: fieldErrors(res.Errors), Truncated: res.Truncated}
	writeJSON(w, http.StatusOK, out)
}
