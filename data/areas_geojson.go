package data

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/paulmach/orb"
)

// readAreasGeoJSON streams the features of the GeoJSON file at path into b.
func readAreasGeoJSON(ctx context.Context, path string, b *areaBuilder) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readAreasGeoJSONFrom(ctx, bufio.NewReaderSize(f, 1<<20), b)
}

// readAreasGeoJSONSerial streams the features of the GeoJSON in r into b
// one at a time, all through encoding/json. readAreasGeoJSONFrom must give
// the same areas and errors; the tests hold it to that.
func readAreasGeoJSONSerial(ctx context.Context, r io.Reader, b *areaBuilder) error {
	return ingest.StreamFeatures(r, func(_ int, gf *ingest.Feature, ferr error) error {
		return b.add(ctx, rawFromFeature(gf, ferr))
	})
}

// rawFromFeature decodes a feature's properties and geometry; ferr is the
// problem of a feature of the wrong shape.
func rawFromFeature(gf *ingest.Feature, ferr error) rawFeature {
	var rf rawFeature
	if ferr != nil {
		rf.geomErr, rf.errField = ferr.Error(), "feature"
		return rf
	}
	if !ingest.IsNull(gf.Properties) {
		if err := json.Unmarshal(gf.Properties, &rf.props); err != nil {
			rf.geomErr, rf.errField = "not a JSON object", "properties"
		}
	}
	if rf.geomErr == "" {
		rf.mp, rf.geomErr = decodePolygonal(gf.Geometry)
	}
	return rf
}

// decodePolygonal decodes a GeoJSON Polygon or MultiPolygon geometry into a
// MultiPolygon. The string is the reason it cannot, for a FieldError on
// "geometry".
func decodePolygonal(raw json.RawMessage) (orb.MultiPolygon, string) {
	if ingest.IsNull(raw) {
		return nil, "missing"
	}
	var g ingest.Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, "not a GeoJSON geometry object"
	}
	switch g.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, "Polygon coordinates are not an array of rings of [lon, lat] positions"
		}
		p, reason := toPolygon(c)
		if reason != "" {
			return nil, reason
		}
		return orb.MultiPolygon{p}, ""
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, "MultiPolygon coordinates are not an array of polygons of [lon, lat] positions"
		}
		mp := make(orb.MultiPolygon, 0, len(c))
		for _, pc := range c {
			p, reason := toPolygon(pc)
			if reason != "" {
				return nil, reason
			}
			mp = append(mp, p)
		}
		return mp, ""
	case "":
		return nil, "geometry has no type"
	}
	return nil, fmt.Sprintf("%s is not a Polygon or MultiPolygon", g.Type)
}

func toPolygon(c [][][]float64) (orb.Polygon, string) {
	p := make(orb.Polygon, len(c))
	for i, rc := range c {
		r := make(orb.Ring, len(rc))
		for j, pos := range rc {
			if len(pos) < 2 {
				return nil, "position with fewer than 2 coordinates"
			}
			r[j] = orb.Point{pos[0], pos[1]}
		}
		p[i] = r
	}
	return p, ""
}
