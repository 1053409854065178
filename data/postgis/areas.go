package postgis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
)

// ReplaceAreas replaces the areas of one vintage with areas, in one
// transaction (COPY): on any error the store is left as it was. Each area
// is stored with that vintage; an area whose Vintage is set and differs
// is an error. A code given twice is a conflict (geo.ErrConflict).
func (s *Store) ReplaceAreas(ctx context.Context, vintage string, areas []geo.Area) error {
	rows := make([][]any, len(areas))
	seen := make(map[string]bool, len(areas))
	for i := range areas {
		a := &areas[i]
		if a.Vintage != "" && a.Vintage != vintage {
			return fmt.Errorf("postgis: replace areas: area %q: vintage %q, want %q: %w", a.Code, a.Vintage, vintage, geo.ErrInvalid)
		}
		if seen[a.Code] {
			return fmt.Errorf("postgis: replace areas: area %q: duplicate code in vintage %q: %w", a.Code, vintage, geo.ErrConflict)
		}
		seen[a.Code] = true
		row, err := areaRow(a, vintage)
		if err != nil {
			return fmt.Errorf("postgis: replace areas: area %q: %w", a.Code, err)
		}
		rows[i] = row
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM areas WHERE vintage = $1`, vintage); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"areas"}, areaColumns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: replace areas: %w", classify(err))
	}
	return nil
}

var areaColumns = []string{"geom", "vintage", "code", "name", "parent_code", "level", "population", "households", "props"}

func areaRow(a *geo.Area, vintage string) ([]any, error) {
	g, err := encodeGeom(a.Geometry)
	if err != nil {
		return nil, err
	}
	props, err := encodeProps(a.Props)
	if err != nil {
		return nil, fmt.Errorf("props: %w", err)
	}
	return []any{g, vintage, a.Code, a.Name, nullString(a.ParentCode), nullString(a.Level.String()),
		a.Population, a.Households, props}, nil
}

// Areas returns every area of every vintage, in insertion order.
func (s *Store) Areas(ctx context.Context) ([]geo.Area, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columnList(areaColumns)+` FROM areas ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("postgis: areas: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Area, error) { return scanArea(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: areas: %w", classify(err))
	}
	return out, nil
}

// scanArea reads the areaColumns of one row.
func scanArea(row pgx.Row) (geo.Area, error) {
	var (
		a                      geo.Area
		g, props               []byte
		name, parent, level    pgtype.Text
		population, households pgtype.Int8
	)
	if err := row.Scan(&g, &a.Vintage, &a.Code, &name, &parent, &level, &population, &households, &props); err != nil {
		return a, err
	}
	a.Name, a.ParentCode = name.String, parent.String
	a.Population, a.Households = population.Int64, households.Int64
	var err error
	if a.Level, err = geo.ParseLevel(level.String); err != nil {
		return a, fmt.Errorf("area %q: level: %w", a.Code, err)
	}
	if a.Geometry, err = multiPolygon(g); err != nil {
		return a, fmt.Errorf("area %q: %w", a.Code, err)
	}
	if props != nil {
		if err := json.Unmarshal(props, &a.Props); err != nil {
			return a, fmt.Errorf("area %q: props: %w", a.Code, err)
		}
	}
	return a, nil
}

// encodeProps encodes p as JSON without HTML escaping, or NULL when p is
// nil.
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

// ReplaceTeams replaces all teams with ts in one transaction. A team
// without a location is stored with a NULL geometry; an ID given twice is
// a conflict (geo.ErrConflict).
func (s *Store) ReplaceTeams(ctx context.Context, ts []geo.Team) error {
	rows := make([][]any, len(ts))
	seen := make(map[string]bool, len(ts))
	for i := range ts {
		t := &ts[i]
		if seen[t.ID] {
			return fmt.Errorf("postgis: replace teams: team %q: duplicate id: %w", t.ID, geo.ErrConflict)
		}
		seen[t.ID] = true
		var g any
		if t.HasLocation {
			b, err := encodeGeom(orb.Point{t.Lon, t.Lat})
			if err != nil {
				return fmt.Errorf("postgis: replace teams: team %q: %w", t.ID, err)
			}
			g = b
		}
		rows[i] = []any{g, t.ID, t.Name, nullString(t.AreaCode), t.Members, t.HouseholdsReached}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM teams`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"teams"}, teamColumns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: replace teams: %w", classify(err))
	}
	return nil
}

var teamColumns = []string{"geom", "id", "name", "area_code", "members", "households_reached"}

// Teams returns all teams in insertion order.
func (s *Store) Teams(ctx context.Context) ([]geo.Team, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columnList(teamColumns)+` FROM teams ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("postgis: teams: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Team, error) { return scanTeam(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: teams: %w", classify(err))
	}
	return out, nil
}

// scanTeam reads the teamColumns of one row.
func scanTeam(row pgx.Row) (geo.Team, error) {
	var (
		t              geo.Team
		g              []byte
		id, name, area pgtype.Text
		members        pgtype.Int4
		reached        pgtype.Int8
	)
	if err := row.Scan(&g, &id, &name, &area, &members, &reached); err != nil {
		return t, err
	}
	t.ID, t.Name, t.AreaCode = id.String, name.String, area.String
	t.Members, t.HouseholdsReached = int(members.Int32), reached.Int64
	if g != nil {
		p, err := point(g)
		if err != nil {
			return t, fmt.Errorf("team %q: %w", t.ID, err)
		}
		t.Lon, t.Lat, t.HasLocation = p[0], p[1], true
	}
	return t, nil
}
