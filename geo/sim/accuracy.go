package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gapmap/gapmap/geo"
)

// Accuracy is one evaluation of detected holes against a truth: each
// carrier's score, all carriers' holes pooled (land area summed over the
// four carriers before dividing, so a carrier with more weak land weighs
// more), the plain mean of the four carriers' scores, and the dead zones.
type Accuracy struct {
	Carriers    []Score `json:"carriers"`
	Holes       Score   `json:"holes"`
	CarrierMean Score   `json:"carrier_mean"`
	DeadZones   Score   `json:"dead_zones"`
}

// Summarize turns Evaluate's scores into an Accuracy. Scores for
// geo.CarrierAll are the dead zones; the others are carriers. With no
// predicted land pooled precision is 1 and with no true weak land pooled
// recall is 1, as in Evaluate.
func Summarize(scores []Score) Accuracy {
	var a Accuracy
	var pooled Score
	for _, s := range scores {
		if s.Carrier == geo.CarrierAll {
			a.DeadZones = s
			continue
		}
		a.Carriers = append(a.Carriers, s)
		pooled.TruthKm2 += s.TruthKm2
		pooled.PredKm2 += s.PredKm2
		pooled.TPKm2 += s.TPKm2
	}
	pooled.Precision, pooled.Recall = 1, 1
	if pooled.PredKm2 > 0 {
		pooled.Precision = pooled.TPKm2 / pooled.PredKm2
	}
	if pooled.TruthKm2 > 0 {
		pooled.Recall = pooled.TPKm2 / pooled.TruthKm2
	}
	if pooled.Precision+pooled.Recall > 0 {
		pooled.F1 = 2 * pooled.Precision * pooled.Recall / (pooled.Precision + pooled.Recall)
	}
	a.Holes = pooled
	if n := float64(len(a.Carriers)); n > 0 {
		var m Score
		for _, s := range a.Carriers {
			m.Precision += s.Precision / n
			m.Recall += s.Recall / n
			m.F1 += s.F1 / n
			m.TruthKm2 += s.TruthKm2 / n
			m.PredKm2 += s.PredKm2 / n
			m.TPKm2 += s.TPKm2 / n
		}
		a.CarrierMean = m
	}
	return a
}

// Run is one evaluation as gapmap eval --format json writes it, one JSON
// object a line: a label naming the case (e.g. "dense"), the conditions
// of the simulation when known, and the accuracy.
type Run struct {
	Label      string      `json:"label"`
	Conditions *Conditions `json:"conditions,omitempty"`
	Accuracy   Accuracy    `json:"accuracy"`
}

// ReadRuns reads JSON lines of Runs; blank lines are skipped. A line that
// is not a Run is a *geo.FieldError with its line number as Row; all such
// lines are returned together (geo.FieldErrors).
func ReadRuns(r io.Reader) ([]Run, error) {
	var runs []Run
	var errs geo.FieldErrors
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var run Run
		switch err := json.Unmarshal(b, &run); {
		case err != nil:
			errs = append(errs, &geo.FieldError{Row: line, Reason: "not a run: " + err.Error()})
		case run.Label == "":
			errs = append(errs, &geo.FieldError{Row: line, Field: "label", Reason: "missing"})
		case len(run.Accuracy.Carriers) == 0:
			errs = append(errs, &geo.FieldError{Row: line, Field: "accuracy.carriers", Reason: "missing"})
		default:
			runs = append(runs, run)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return runs, nil
}

// Range is a figure's mean and minimum over the runs of a condition.
type Range struct{ Mean, Min float64 }

// PRF is precision, recall and F1 over the runs of a condition.
type PRF struct{ Precision, Recall, F1 Range }

// AccuracyRow is one condition of an accuracy grid: the runs with one
// label, report bias and drive share, over seeds.
type AccuracyRow struct {
	Label      string
	ReportBias float64 // 0 when the runs carry no conditions
	DriveShare float64
	Runs       int
	Seeds      []int64 // in order of appearance; empty without conditions
	// Means over the runs.
	Areas                                  float64
	LandKm2, ReportsPerKm2, ReportsPerArea float64
	Holes, CarrierMean, DeadZones          PRF
}

// AccuracyTable groups runs by label, report bias and drive share, in the
// order labels first appear, then by bias and drive share ascending, and
// gives each group's mean and minimum of every figure. A seed that
// appears twice in one group is an error (the same run appended twice).
func AccuracyTable(runs []Run) ([]AccuracyRow, error) {
	type key struct {
		label       string
		bias, drive float64
	}
	labelOrder := map[string]int{}
	groups := map[key][]Run{}
	var keys []key
	for _, r := range runs {
		if _, ok := labelOrder[r.Label]; !ok {
			labelOrder[r.Label] = len(labelOrder)
		}
		k := key{label: r.Label}
		if r.Conditions != nil {
			k.bias, k.drive = r.Conditions.ReportBias, r.Conditions.DriveShare
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if d := labelOrder[a.label] - labelOrder[b.label]; d != 0 {
			return d
		}
		if a.bias != b.bias {
			return cmpFloat(a.bias, b.bias)
		}
		return cmpFloat(a.drive, b.drive)
	})
	var rows []AccuracyRow
	for _, k := range keys {
		g := groups[k]
		row := AccuracyRow{Label: k.label, ReportBias: k.bias, DriveShare: k.drive, Runs: len(g)}
		seen := map[int64]bool{}
		n := float64(len(g))
		for _, r := range g {
			if c := r.Conditions; c != nil {
				if seen[c.Seed] {
					return nil, fmt.Errorf("sim: %s, bias %g, drive share %g: seed %d appears twice", k.label, k.bias, k.drive, c.Seed)
				}
				seen[c.Seed] = true
				row.Seeds = append(row.Seeds, c.Seed)
				row.Areas += float64(c.Areas) / n
				row.LandKm2 += c.LandKm2 / n
				row.ReportsPerKm2 += c.ReportsPerKm2 / n
				row.ReportsPerArea += c.ReportsPerArea / n
			}
		}
		row.Holes = spread(g, func(a *Accuracy) Score { return a.Holes })
		row.CarrierMean = spread(g, func(a *Accuracy) Score { return a.CarrierMean })
		row.DeadZones = spread(g, func(a *Accuracy) Score { return a.DeadZones })
		rows = append(rows, row)
	}
	return rows, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func spread(runs []Run, pick func(*Accuracy) Score) PRF {
	var p PRF
	p.Precision.Min, p.Recall.Min, p.F1.Min = math.Inf(1), math.Inf(1), math.Inf(1)
	n := float64(len(runs))
	for i := range runs {
		s := pick(&runs[i].Accuracy)
		for _, f := range []struct {
			r *Range
			v float64
		}{{&p.Precision, s.Precision}, {&p.Recall, s.Recall}, {&p.F1, s.F1}} {
			f.r.Mean += f.v / n
			f.r.Min = min(f.r.Min, f.v)
		}
	}
	return p
}

// WriteAccuracyMarkdown writes rows as a Markdown table: one line per
// condition, each figure as its mean over the seeds with the lowest in
// brackets, then a line saying so.
func WriteAccuracyMarkdown(w io.Writer, rows []AccuracyRow) error {
	var b strings.Builder
	b.WriteString("| case | areas | reports/km² | reports/area | bias | drive tests | seeds " +
		"| holes P | holes R | holes F1 | carrier mean P | carrier mean R | carrier mean F1 " +
		"| dead zones P | dead zones R | dead zones F1 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		areas, perKm2, perArea, bias, drive, seeds := "–", "–", "–", "–", "–", strconv.Itoa(r.Runs)+" runs"
		if len(r.Seeds) > 0 {
			areas = fmt.Sprintf("%s, %s km²", thousands(r.Areas), thousands(r.LandKm2))
			perKm2 = strconv.FormatFloat(r.ReportsPerKm2, 'f', 1, 64)
			perArea = thousands(r.ReportsPerArea)
			bias = strconv.FormatFloat(r.ReportBias, 'g', -1, 64) + "×"
			drive = "none"
			if r.DriveShare > 0 {
				drive = strconv.FormatFloat(100*r.DriveShare, 'g', 3, 64) + "%"
			}
			ss := make([]string, len(r.Seeds))
			for i, s := range r.Seeds {
				ss[i] = strconv.FormatInt(s, 10)
			}
			seeds = strings.Join(ss, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s", r.Label, areas, perKm2, perArea, bias, drive, seeds)
		for _, p := range []PRF{r.Holes, r.CarrierMean, r.DeadZones} {
			for _, v := range []Range{p.Precision, p.Recall, p.F1} {
				fmt.Fprintf(&b, " | %.2f (%.2f)", v.Mean, v.Min)
			}
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\nEach figure: the mean over the seeds, the lowest in brackets. P precision, R recall, F1 their balance, by land area; " +
		"holes pools the four carriers' holes, carrier mean averages the four carriers' scores.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// thousands formats v rounded to a whole number with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
