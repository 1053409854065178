package data

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
)

// Team fields, in the order of teamFieldNames.
const (
	tID = iota
	tName
	tAreaCode
	tMembers
	tHouseholds
	tLat
	tLon
	numTeamFields
)

var teamFieldNames = [numTeamFields]string{
	"id", "name", "area_code", "members", "households_reached", "lat", "lon",
}

var teamFieldAliases = map[string]int{
	"latitude": tLat, "longitude": tLon, "lng": tLon,
}

// ReadTeams reads community digital-technology teams from path: CSV
// (columns id, name, area_code, members, households_reached and optional
// lat, lon; the same header rules as report CSV) or, for .geojson and
// .json, a FeatureCollection whose features carry those properties and an
// optional Point geometry (lon/lat, EPSG:4326) giving the team's location.
// geometry may be null. A team with coordinates has HasLocation set.
//
// Teams that fail geo.Team.Validate, or repeat an earlier id, are left out
// and described in the returned FieldErrors (Row as for ReadReports: the
// line counted from the header for CSV, the 1-based feature index for
// GeoJSON). The error is non-nil, naming path, only when the file cannot
// be used: unreadable, no id column, or not GeoJSON.
func ReadTeams(ctx context.Context, path string) ([]geo.Team, geo.FieldErrors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: read teams: %w", err)
	}
	defer f.Close()
	tr := &teamReader{ctx: ctx, seen: map[string]int{}}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".geojson", ".json":
		err = tr.readGeoJSON(bufio.NewReader(f))
	default:
		err = tr.readCSV(f)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data: read teams from %s: %w", path, err)
	}
	return tr.teams, tr.errs, nil
}

type teamReader struct {
	ctx   context.Context
	teams []geo.Team
	errs  geo.FieldErrors
	seen  map[string]int // id → row
	n     int
}

func (tr *teamReader) readCSV(r io.Reader) error {
	t, err := ingest.OpenCSV(r)
	if err != nil {
		return err
	}
	idx, err := t.Columns(teamFieldNames[:], teamFieldAliases)
	if err == nil {
		err = ingest.RequireColumns(idx, teamFieldNames[:], []int{tID})
	}
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	for {
		rec, row, rowErr, err := t.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rowErr == nil && len(rec) != len(t.Header) {
			rowErr = t.FieldCountError(len(rec))
		}
		if rowErr != nil {
			rowErr.Row = row
			tr.errs = append(tr.errs, rowErr)
			continue
		}
		var vals [numTeamFields]string
		for f, c := range idx {
			if c >= 0 {
				vals[f] = rec[c]
			}
		}
		if err := tr.add(row, &vals, nil, t.Semicolon); err != nil {
			return err
		}
	}
}

func (tr *teamReader) readGeoJSON(r io.Reader) error {
	return ingest.StreamFeatures(r, func(row int, f *ingest.Feature, ferr error) error {
		if ferr != nil {
			tr.errs = append(tr.errs, &geo.FieldError{Row: row, Field: "feature", Reason: ferr.Error()})
			return nil
		}
		var lonLat *[2]float64
		if !ingest.IsNull(f.Geometry) {
			ll, reason := ingest.DecodePoint(f.Geometry)
			if reason != "" {
				tr.errs = append(tr.errs, &geo.FieldError{Row: row, Field: "geometry", Reason: reason})
				return nil
			}
			lonLat = &ll
		}
		var props map[string]json.RawMessage
		if !ingest.IsNull(f.Properties) {
			if err := json.Unmarshal(f.Properties, &props); err != nil {
				tr.errs = append(tr.errs, &geo.FieldError{Row: row, Field: "properties", Reason: "not a JSON object"})
				return nil
			}
		}
		var raws [numTeamFields]json.RawMessage
		for k, raw := range props {
			for i, n := range teamFieldNames {
				if strings.EqualFold(k, n) {
					raws[i] = raw
				}
			}
		}
		var vals [numTeamFields]string
		var es geo.FieldErrors
		for i, raw := range raws {
			v, ok := ingest.JSONScalarText(raw)
			if !ok {
				es = append(es, &geo.FieldError{Row: row, Field: teamFieldNames[i], Reason: "not a string or number"})
			}
			vals[i] = v
		}
		if len(es) > 0 {
			tr.errs = append(tr.errs, es...)
			return nil
		}
		return tr.add(row, &vals, lonLat, false)
	})
}

// add parses and validates one team. lonLat, when not nil, is the
// location from a GeoJSON geometry and wins over lat/lon properties.
func (tr *teamReader) add(row int, vals *[numTeamFields]string, lonLat *[2]float64, commaDecimal bool) error {
	tr.n++
	if tr.n%1024 == 0 {
		if err := tr.ctx.Err(); err != nil {
			return err
		}
	}
	var es geo.FieldErrors
	bad := func(f int, reason string) {
		es = append(es, &geo.FieldError{Field: teamFieldNames[f], Reason: reason})
	}
	number := func(s string) (float64, bool, string) { return ingest.ParseNumber(s, commaDecimal) }
	t := geo.Team{
		ID:       strings.TrimSpace(vals[tID]),
		Name:     strings.TrimSpace(vals[tName]),
		AreaCode: strings.TrimSpace(vals[tAreaCode]),
	}
	if v, ok, reason := number(vals[tMembers]); reason != "" {
		bad(tMembers, reason)
	} else if ok {
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			bad(tMembers, "not a whole number")
		} else {
			t.Members = int(v)
		}
	}
	if v, ok, reason := number(vals[tHouseholds]); reason != "" {
		bad(tHouseholds, reason)
	} else if ok {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			bad(tHouseholds, "not a whole number")
		} else {
			t.HouseholdsReached = int64(v)
		}
	}
	if lonLat != nil {
		t.Lon, t.Lat, t.HasLocation = lonLat[0], lonLat[1], true
	} else {
		lat, latOK, latReason := number(vals[tLat])
		lon, lonOK, lonReason := number(vals[tLon])
		switch {
		case latReason != "":
			bad(tLat, latReason)
		case lonReason != "":
			bad(tLon, lonReason)
		case latOK && lonOK:
			t.Lat, t.Lon, t.HasLocation = lat, lon, true
		case latOK:
			bad(tLon, "required when lat is given")
		case lonOK:
			bad(tLat, "required when lon is given")
		}
	}
	for _, e := range geo.AsFieldErrors(t.Validate()) {
		if !hasField(es, e.Field) {
			es = append(es, e)
		}
	}
	if len(es) == 0 && t.ID != "" {
		if first, dup := tr.seen[t.ID]; dup {
			bad(tID, "duplicate of row "+strconv.Itoa(first))
		}
	}
	if len(es) > 0 {
		tr.errs = append(tr.errs, es.WithRow(row)...)
		return nil
	}
	tr.seen[t.ID] = row
	tr.teams = append(tr.teams, t)
	return nil
}
