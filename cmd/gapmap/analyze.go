package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gapmap/gapmap/data"
	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/ingest"
)

// maxShownErrors is how many input problems analyze prints; all of them
// (up to the reader's cap) go to rejected.csv.
const maxShownErrors = 20

func runAnalyze(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := newFlagSet("analyze", stdout)
	areasPath := fs.String("areas", "", "area boundaries: GeoJSON, Shapefile (.shp) or zipped Shapefile (.zip), EPSG:4326")
	reportsPath := fs.String("reports", "", "weak-signal reports: CSV or GeoJSON")
	teamsPath := fs.String("teams", "", "community digital-technology teams: CSV or GeoJSON (optional)")
	outDir := fs.String("out", "", "output directory (created if missing)")
	configPath := fs.String("config", getenv("GAPMAP_CONFIG"), "JSON file overriding thresholds and scoring parameters (env GAPMAP_CONFIG)")
	codeField := fs.String("code-field", "code", "area property holding the unique area code")
	nameField := fs.String("name-field", "name", "area property holding the area name")
	popField := fs.String("population-field", "population", "area property holding the population")
	parentField := fs.String("parent-field", "parent_code", "area property holding the parent area code")
	vintage := fs.String("vintage", "", "boundary-set label, e.g. 2025 (codes are compared only within one vintage)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *areasPath == "":
		return usageError{"analyze: --areas is required"}
	case *reportsPath == "":
		return usageError{"analyze: --reports is required"}
	case *outDir == "":
		return usageError{"analyze: --out is required"}
	}
	cfg := geo.DefaultConfig()
	if *configPath != "" {
		f, err := os.Open(*configPath)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		cfg, err = geo.ReadConfig(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("config %s: %w", *configPath, err)
		}
	}
	prog := newProgress(stderr, *quiet)
	start := time.Now()

	// Reports are streamed into compact observations while the areas are
	// read and indexed: the two files are independent, and each reader
	// keeps one core busy.
	rf, err := os.Open(*reportsPath)
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	defer rf.Close()
	reporters := geo.NewReporters()
	var obs []geo.Obs
	if st, err := rf.Stat(); err == nil {
		obs = make([]geo.Obs, 0, min(st.Size()/60, 20_000_000))
	}
	var sum ingest.ReadSummary
	reportsDone := make(chan error, 1)
	rctx, stopReports := context.WithCancel(ctx)
	go func() {
		var err error
		sum, err = ingest.ReadReports(rctx, bufio.NewReaderSize(rf, 1<<20), ingest.ReportFormat(*reportsPath), ingest.ReportOptions{
			Now: time.Now(),
		}, func(_ int, r *geo.Report) error {
			obs = append(obs, r.ToObs(reporters))
			return nil
		})
		reportsDone <- err
	}()
	// waitReports returns the reports' error; the areas' errors come
	// first, and a return before the reports are needed stops the reader
	// and waits for it.
	waitReports := func() error {
		if reportsDone == nil {
			return nil
		}
		err := <-reportsDone
		reportsDone = nil
		return err
	}
	defer func() { stopReports(); waitReports() }()

	prog.stage("read areas")
	as, err := data.ReadAreas(ctx, *areasPath, data.AreaOptions{
		CodeField: *codeField, NameField: *nameField, PopulationField: *popField,
		ParentField: *parentField, Vintage: *vintage,
		Progress: func(n int) { prog.count("areas", n) },
	})
	if err != nil {
		return err
	}
	prog.done()
	showWarnings(stderr, as.Warnings)
	showErrors(stderr, "areas", *areasPath, as.Errors, len(as.Errors))
	if len(as.Areas) == 0 {
		return fmt.Errorf("%s: no usable areas (%d features read, %d rejected)", *areasPath, as.Read, len(as.Errors))
	}
	prog.stage("index areas")
	ix := index.New(as.Areas)
	ix.SharePoints()
	prog.done()

	prog.stage("read reports")
	if err := waitReports(); err != nil {
		return fmt.Errorf("reports %s: %w", *reportsPath, err)
	}
	prog.count("reports", sum.Read)
	prog.done()
	// The capacity was guessed from the file's size; the observations are
	// live through every stage after this, so they are kept at their size.
	if cap(obs)-len(obs) > len(obs)/16 {
		obs = slices.Clone(obs)
	}
	showErrors(stderr, "reports", *reportsPath, sum.Errors, sum.Rejected)
	if sum.Read > 0 && sum.Accepted == 0 {
		return fmt.Errorf("%s: no usable reports (%d rows read, all rejected)", *reportsPath, sum.Read)
	}

	// Teams.
	var teams []geo.Team
	var teamErrs geo.FieldErrors
	if *teamsPath != "" {
		prog.stage("read teams")
		teams, teamErrs, err = data.ReadTeams(ctx, *teamsPath)
		if err != nil {
			return err
		}
		prog.done()
		showErrors(stderr, "teams", *teamsPath, teamErrs, len(teamErrs))
	}

	res, err := engine.Analyze(ctx, engine.Input{
		Areas: as.Areas, Index: ix, Obs: obs, Reporters: reporters, Teams: teams,
		Progress: func(s string) { prog.done(); prog.stage(s) },
	}, cfg)
	if err != nil {
		return err
	}
	prog.done()
	// What the analysis held besides its result (the observations, the
	// index, the engine's fields) is garbage now, about half the heap at
	// its largest. Collecting it before the writers allocate lets them
	// reuse that memory instead of growing the heap to twice its peak.
	obs, ix, reporters = nil, nil, nil
	runtime.GC()

	prog.stage("write outputs")
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	if err := writeOutputs(ctx, *outDir, as, res, cfg, sum, teamErrs, analyzeInputs{
		Areas: *areasPath, Reports: *reportsPath, Teams: *teamsPath,
	}); err != nil {
		return err
	}
	prog.done()
	logger.Debug("analyze finished", "duration_ms", time.Since(start).Milliseconds())

	s := res.Summary
	fmt.Fprintf(stdout, "areas %d (rejected %d), reports %d accepted, %d rejected, %d outside every area, %d weak\n",
		len(as.Areas), len(as.Errors), sum.Accepted, sum.Rejected, s.Outside, s.Weak)
	for _, c := range append(append([]geo.Carrier{}, geo.Carriers...), geo.CarrierAll) {
		fmt.Fprintf(stdout, "  %-13s %4d holes, %8.2f km²\n", c.Label(), s.Holes[c.String()], s.HoleKm2[c.String()])
	}
	fmt.Fprintf(stdout, "actions: carrier %d, team %d, both %d, ok %d\n",
		s.Actions[geo.ActionCarrier], s.Actions[geo.ActionTeam], s.Actions[geo.ActionBoth], s.Actions[geo.ActionOK])
	fmt.Fprintf(stdout, "wrote %s in %.1fs\n", *outDir, time.Since(start).Seconds())
	return nil
}

type analyzeInputs struct {
	Areas   string `json:"areas"`
	Reports string `json:"reports"`
	Teams   string `json:"teams,omitempty"`
}

// showWarnings prints what a reader said about a file as a whole (the
// text encoding it assumed).
func showWarnings(w io.Writer, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

func showErrors(w io.Writer, what, path string, errs geo.FieldErrors, total int) {
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "%s: %d %s rejected:\n", path, total, what)
	for i, e := range errs {
		if i == maxShownErrors {
			fmt.Fprintf(w, "  … and %d more (see rejected.csv)\n", total-maxShownErrors)
			break
		}
		fmt.Fprintf(w, "  %v\n", e)
	}
}

// writeOutputs writes every output file, each atomically (to a temporary
// file renamed into place) so a crash never leaves half a file.
func writeOutputs(ctx context.Context, dir string, as *data.AreaSet, res *geo.Result, cfg geo.Config, sum ingest.ReadSummary, teamErrs geo.FieldErrors, in analyzeInputs) error {
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"areas.geojson", func(w io.Writer) error { return export.WriteAreasGeoJSON(w, as.Areas, res.Areas) }},
		{"holes.geojson", func(w io.Writer) error { return export.WriteHolesGeoJSON(w, res.Holes) }},
		{"unobserved.geojson", func(w io.Writer) error { return export.WriteUnobservedGeoJSON(w, res.Unobserved) }},
		{"teams.geojson", func(w io.Writer) error { return export.WriteTeamsGeoJSON(w, res.Teams) }},
		{"cells.geojson", func(w io.Writer) error { return export.WriteCellsGeoJSON(w, res.Cells) }},
		{"tasks.csv", func(w io.Writer) error { return export.WriteTasksCSV(w, res.Tasks) }},
		{"rejected.csv", func(w io.Writer) error { return writeRejected(w, as.Errors, sum.Errors, teamErrs) }},
		{"summary.json", func(w io.Writer) error {
			var rollups []geo.AreaScore
			for _, a := range res.Areas {
				if a.Index < 0 {
					rollups = append(rollups, a)
				}
			}
			return export.WriteSummaryJSON(w, map[string]any{
				"version": version,
				"inputs":  in,
				"read": map[string]any{
					"areas":   map[string]int{"read": as.Read, "accepted": len(as.Areas), "rejected": len(as.Errors)},
					"reports": map[string]int{"read": sum.Read, "accepted": sum.Accepted, "rejected": sum.Rejected},
					"teams":   map[string]int{"accepted": len(res.Teams), "rejected": len(teamErrs)},
				},
				"summary":          res.Summary,
				"report_bias":      res.ReportBias,
				"report_bias_from": res.ReportBiasFrom,
				"rollups":          rollups,
				"config":           cfg,
			})
		}},
	}
	for _, c := range geo.Carriers {
		var holes []geo.Hole
		for _, h := range res.Holes {
			if h.Carrier == c {
				holes = append(holes, h)
			}
		}
		files = append(files,
			struct {
				name  string
				write func(io.Writer) error
			}{"gaps-" + c.String() + ".csv", func(w io.Writer) error { return export.WriteGapsCSV(w, holes) }},
			struct {
				name  string
				write func(io.Writer) error
			}{"gaps-" + c.String() + ".xlsx", func(w io.Writer) error { return export.WriteGapsXLSX(w, c, holes) }},
			struct {
				name  string
				write func(io.Writer) error
			}{"gaps-" + c.String() + ".geojson", func(w io.Writer) error { return export.WriteGapsGeoJSON(w, holes) }},
			struct {
				name  string
				write func(io.Writer) error
			}{"gaps-" + c.String() + ".kml", func(w io.Writer) error { return export.WriteGapsKML(w, c, holes) }},
			struct {
				name  string
				write func(io.Writer) error
			}{"gaps-" + c.String() + ".gpkg", func(w io.Writer) error { return gpkg.WriteGapList(ctx, w, c, holes) }},
		)
	}
	// The files are independent: written two at a time (the largest
	// encoders keep a core each); every failure is returned.
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = writeFileAtomic(filepath.Join(dir, files[i].name), files[i].write)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(slices.DeleteFunc(errs, func(e error) bool { return e == nil })...)
}

func writeRejected(w io.Writer, groups ...geo.FieldErrors) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"input", "row", "feature", "field", "reason"})
	names := []string{"areas", "reports", "teams"}
	for g, errs := range groups {
		for _, e := range errs {
			row := ""
			if e.Row > 0 {
				row = strconv.Itoa(e.Row)
			}
			cw.Write([]string{names[g], row, e.Feature, e.Field, e.Reason})
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// progress prints stage timings and counts on stderr, at most a few times
// a second, so long inputs show they are moving.
type progress struct {
	w     io.Writer
	quiet bool
	name  string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress { return &progress{w: w, quiet: quiet} }

func (p *progress) stage(name string) {
	p.name, p.start, p.last = name, time.Now(), time.Now()
}

func (p *progress) count(what string, n int) { p.countOf(what, n, 0, "") }

// countOf is count with the total when known (n of total, and its
// share), or else with a note of how far the input is.
func (p *progress) countOf(what string, n, total int, note string) {
	if p.quiet || time.Since(p.last) < 500*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(n) / time.Since(p.start).Seconds()
	switch {
	case total > 0:
		fmt.Fprintf(p.w, "\r%s: %d of %d %s (%.0f%%, %.0f/s)   ", p.name, n, total, what, 100*float64(n)/float64(total), rate)
	case note != "":
		fmt.Fprintf(p.w, "\r%s: %d %s, %s (%.0f/s)   ", p.name, n, what, note, rate)
	default:
		fmt.Fprintf(p.w, "\r%s: %d %s (%.0f/s)   ", p.name, n, what, rate)
	}
}

func (p *progress) done() {
	if p.quiet || p.name == "" {
		return
	}
	fmt.Fprintf(p.w, "\r%-40s %6.2fs\n", p.name, time.Since(p.start).Seconds())
	p.name = ""
}
