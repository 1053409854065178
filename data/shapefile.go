package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-shapefile"
)

// readAreasShapefile reads the shapefile at path (basename.shp with its
// sibling files, or a .zip holding one shapefile) into b.
//
// go-shapefile decodes DBF text as ISO 8859-1 when no .cpg is present; we
// ask for UTF-8 instead, which is what QGIS and GDAL write, so Vietnamese
// names survive byte for byte. A .cpg file still takes precedence.
func readAreasShapefile(ctx context.Context, path string, zipped bool, b *areaBuilder) error {
	opts := &shapefile.ReadShapefileOptions{DBF: &shapefile.ReadDBFOptions{Charset: "utf-8"}}
	var (
		sf  *shapefile.Shapefile
		err error
	)
	if zipped {
		sf, err = shapefile.ReadZipFile(path, opts)
	} else {
		base := strings.TrimSuffix(path, filepath.Ext(path))
		if _, err := os.Stat(path); err != nil {
			return err
		}
		sf, err = shapefile.Read(base, opts)
	}
	if err != nil {
		return err
	}
	if sf.SHP == nil {
		return errors.New("no .shp file")
	}
	if sf.PRJ != nil {
		if err := checkPRJ(sf.PRJ.Projection); err != nil {
			return err
		}
	}
	for i := range len(sf.SHP.Records) {
		var props map[string]any
		if sf.DBF != nil {
			if sf.DBF.Records[i] == nil {
				continue // deleted in the DBF
			}
			props = sf.DBF.Record(i)
		}
		rf := rawFeature{props: props}
		rf.mp, rf.geomErr = shapeToMultiPolygon(sf.SHP.Records[i].Geom)
		if err := b.add(ctx, rf); err != nil {
			return err
		}
	}
	return nil
}

// checkPRJ rejects a .prj that is clearly not geographic lon/lat: any
// projected coordinate system. Geographic systems on other datums (VN-2000
// geographic) are accepted; they differ from WGS 84 by metres, less than
// the accuracy of the boundaries we use.
func checkPRJ(wkt string) error {
	u := strings.ToUpper(strings.TrimSpace(wkt))
	if u == "" {
		return nil
	}
	if strings.HasPrefix(u, "PROJCS") || strings.HasPrefix(u, "PROJCRS") || strings.Contains(u, "PROJECTION[") {
		name := wkt
		if i := strings.IndexByte(name, '"'); i >= 0 {
			name = name[i+1:]
			if j := strings.IndexByte(name, '"'); j >= 0 {
				name = name[:j]
			}
		}
		return fmt.Errorf(".prj names the projected coordinate system %q; the file must be EPSG:4326 lon/lat (reproject it, e.g. ogr2ogr -t_srs EPSG:4326)", name)
	}
	return nil
}

// shapeToMultiPolygon converts a go-shapefile geometry to an orb
// MultiPolygon in x (lon), y (lat) order, dropping Z and M.
func shapeToMultiPolygon(g geom.T) (orb.MultiPolygon, string) {
	switch g := g.(type) {
	case nil:
		return nil, "missing"
	case *geom.MultiPolygon:
		if g == nil || g.Empty() {
			return nil, "missing"
		}
		flat, stride := g.FlatCoords(), g.Stride()
		mp := make(orb.MultiPolygon, 0, g.NumPolygons())
		offset := 0
		for _, ends := range g.Endss() {
			p := make(orb.Polygon, 0, len(ends))
			for _, end := range ends {
				r := make(orb.Ring, 0, (end-offset)/stride)
				for k := offset; k < end; k += stride {
					r = append(r, orb.Point{flat[k], flat[k+1]})
				}
				p = append(p, r)
				offset = end
			}
			mp = append(mp, p)
		}
		return mp, ""
	case *geom.Point:
		return nil, "Point is not a Polygon or MultiPolygon"
	case *geom.MultiPoint:
		return nil, "MultiPoint is not a Polygon or MultiPolygon"
	case *geom.MultiLineString:
		return nil, "LineString is not a Polygon or MultiPolygon"
	}
	return nil, fmt.Sprintf("%T is not a Polygon or MultiPolygon", g)
}
