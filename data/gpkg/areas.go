package gpkg

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// ReplaceAreas replaces the areas of one vintage with areas, in one
// transaction: on any error the store is left as it was. Each area is
// stored with that vintage; an area whose Vintage is set and differs is an
// error. A code given twice is a conflict (geo.ErrConflict).
func (s *Store) ReplaceAreas(ctx context.Context, vintage string, areas []geo.Area) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM areas WHERE vintage = ?`, vintage); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO areas
  (geom, vintage, code, name, parent_code, level, population, households, props)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range areas {
			a := &areas[i]
			if a.Vintage != "" && a.Vintage != vintage {
				return fmt.Errorf("area %q: vintage %q, want %q: %w", a.Code, a.Vintage, vintage, geo.ErrInvalid)
			}
			g, err := encodeGeom(a.Geometry)
			if err != nil {
				return fmt.Errorf("area %q: %w", a.Code, err)
			}
			props, err := encodeProps(a.Props)
			if err != nil {
				return fmt.Errorf("area %q: props: %w", a.Code, err)
			}
			if _, err := st.ExecContext(ctx, g, vintage, a.Code, a.Name, nullString(a.ParentCode),
				nullString(a.Level.String()), a.Population, a.Households, props); err != nil {
				if isUnique(err) {
					return fmt.Errorf("area %q: duplicate code in vintage %q: %w", a.Code, vintage, geo.ErrConflict)
				}
				return fmt.Errorf("area %q: %w", a.Code, err)
			}
		}
		return refreshBounds(ctx, tx, "areas")
	})
	if err != nil {
		return fmt.Errorf("gpkg: replace areas: %w", err)
	}
	return nil
}

// Areas returns every area of every vintage, in insertion (fid) order.
func (s *Store) Areas(ctx context.Context) ([]geo.Area, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT geom, vintage, code, name, parent_code, level,
  population, households, props FROM areas ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: areas: %w", err)
	}
	defer rows.Close()
	var out []geo.Area
	for rows.Next() {
		var (
			a                      geo.Area
			g, props               []byte
			name, parent, level    sql.NullString
			population, households sql.NullInt64
		)
		if err := rows.Scan(&g, &a.Vintage, &a.Code, &name, &parent, &level, &population, &households, &props); err != nil {
			return nil, fmt.Errorf("gpkg: areas: %w", err)
		}
		a.Name, a.ParentCode = name.String, parent.String
		a.Population, a.Households = population.Int64, households.Int64
		if a.Level, err = geo.ParseLevel(level.String); err != nil {
			return nil, fmt.Errorf("gpkg: area %q: level: %w", a.Code, err)
		}
		if g != nil {
			og, err := decodeGeom(g)
			if err != nil {
				return nil, fmt.Errorf("gpkg: area %q: %w", a.Code, err)
			}
			switch og := og.(type) {
			case orb.MultiPolygon:
				a.Geometry = og
			case orb.Polygon:
				a.Geometry = orb.MultiPolygon{og}
			default:
				return nil, fmt.Errorf("gpkg: area %q: geometry is %s, want MultiPolygon", a.Code, og.GeoJSONType())
			}
		}
		if props != nil {
			if err := json.Unmarshal(props, &a.Props); err != nil {
				return nil, fmt.Errorf("gpkg: area %q: props: %w", a.Code, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: areas: %w", err)
	}
	return out, nil
}

// encodeProps encodes p as JSON text without HTML escaping, or NULL when
// p is nil.
func encodeProps(p map[string]any) (any, error) {
	if p == nil {
		return nil, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return string(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// nullString is NULL for "" and s otherwise.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
