package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
)

// gapListCore is the GeoPackage 1.3 core a gap list file needs (spec
// §1.1.2, §1.1.3, §2.1.5): the reference systems, the contents and the
// geometry columns, as in the store's first migration, and the
// extensions table for the spatial index.
const gapListCore = `
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
`

// gapListSQLTypes are the GeoPackage column types (spec Table 1) of the
// gap list's value types (export.GapColumn.Type).
var gapListSQLTypes = map[string]string{
	"integer":   "INTEGER",
	"number":    "REAL",
	"string":    "TEXT",
	"date-time": "DATETIME",
	"date":      "DATE",
	"boolean":   "BOOLEAN",
}

// GapListTable is the name of the one feature table of carrier's gap
// list file (gaps_viettel, gaps_all).
func GapListTable(c geo.Carrier) string { return "gaps_" + c.String() }

// WriteGapList writes carrier's holes (for carrier all, the dead zones),
// in the given order, to w as a GeoPackage 1.3 file with one feature
// table, GapListTable(carrier), with a spatial index: a row per hole with
// its outline (MULTIPOLYGON, EPSG:4326) and the gap list's columns
// (export.GapColumns) typed INTEGER, REAL, TEXT, DATETIME (UTC), DATE
// (the day in Vietnam time) and BOOLEAN, so GDAL and QGIS read every
// field with its type (a median of −92.5 dBm stays −92.5). What is
// unknown or does not apply is NULL. The file is built in memory, and
// nothing is written to w unless all of it was built.
func WriteGapList(ctx context.Context, w io.Writer, carrier geo.Carrier, holes []geo.Hole) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("gpkg: gap list: %w", err)
		}
	}()
	if err := registerFunctions(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection: an in-memory database lives in the connection
	// that opened it.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	b, err := buildGapList(ctx, conn, carrier, holes)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func buildGapList(ctx context.Context, conn *sql.Conn, carrier geo.Carrier, holes []geo.Hole) ([]byte, error) {
	table := GapListTable(carrier)
	cols := make([]string, len(export.GapColumns))
	defs := make([]string, len(export.GapColumns))
	for i, c := range export.GapColumns {
		cols[i] = c.Name
		defs[i] = "  " + c.Name + " " + gapListSQLTypes[c.Type]
	}
	title, desc := gapListWords(carrier)
	header := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, userVersion)
	if _, err := conn.ExecContext(ctx, header); err != nil {
		return nil, err
	}
	schema := gapListCore + `
CREATE TABLE ` + table + ` (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
` + strings.Join(defs, ",\n") + `
);
`
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{schema, nil},
		{`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES (?, 'features', ?, ?, 4326)`, []any{table, title, desc}},
		{`INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'MULTIPOLYGON', 4326, 0, 0)`, []any{table}},
		{rtreeSQL(table), nil},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return nil, err
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (geom, `+strings.Join(cols, ", ")+
		`) VALUES (?`+strings.Repeat(", ?", len(cols))+`)`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	row := make([]any, 0, len(cols))
	args := make([]any, len(cols)+1)
	for i := range holes {
		h := &holes[i]
		g, err := encodeGeom(h.Geometry)
		if err != nil {
			return nil, fmt.Errorf("hole %q: %w", h.ID, err)
		}
		args[0] = g
		row = export.GapRow(row[:0], h)
		for j, v := range row {
			if t, ok := v.(time.Time); ok {
				v = dateTime(t)
			}
			args[j+1] = v
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return nil, fmt.Errorf("hole %q: %w", h.ID, err)
		}
	}
	if err := refreshBounds(ctx, tx, table); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	var b []byte
	err = conn.Raw(func(dc any) error {
		s, ok := dc.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return errors.New("the driver cannot serialize a database")
		}
		var err error
		b, err = s.Serialize()
		return err
	})
	return b, err
}

// gapListWords are the identifier and description of carrier's gap list
// table, in Vietnamese and English.
func gapListWords(c geo.Carrier) (title, desc string) {
	if c == geo.CarrierAll {
		return "Vùng lõm sóng mọi nhà mạng", "Vùng lõm sóng mọi nhà mạng, xếp theo điểm ưu tiên. Dead zones (all carriers), ranked by priority."
	}
	return "Vùng lõm sóng " + c.Label(), "Danh sách vùng lõm sóng " + c.Label() + ", xếp theo điểm ưu tiên. " +
		c.Label() + "'s gap list: its coverage holes, ranked by priority."
}
