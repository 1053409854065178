package api

import (
	"net/http"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
)

// handleTasks lists the measurement tasks and activity of the teams in
// ?area= (any level; all the viewer covers when absent), as JSON or, with
// format=csv, the tasks as a table like analyze's tasks.csv.
func (s *Server) handleTasks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return badField("format", `must be "json" or "csv"`)
	}
	list, err := s.svc.Tasks(r.Context(), &PrincipalFrom(r.Context()).Viewer, q.Get("area"))
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="tasks.csv"`)
		return export.WriteTasksCSV(w, list.Tasks)
	}
	if list.Tasks == nil {
		list.Tasks = []geo.Task{}
	}
	return writeJSON(w, http.StatusOK, list)
}
