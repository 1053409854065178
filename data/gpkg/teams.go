package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// ReplaceTeams replaces all teams with ts in one transaction. A team
// without a location is stored with a NULL geometry.
func (s *Store) ReplaceTeams(ctx context.Context, ts []geo.Team) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM teams`); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO teams
  (geom, id, name, area_code, members, households_reached) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range ts {
			t := &ts[i]
			var g any
			if t.HasLocation {
				b, err := encodeGeom(orb.Point{t.Lon, t.Lat})
				if err != nil {
					return fmt.Errorf("team %q: %w", t.ID, err)
				}
				g = b
			}
			if _, err := st.ExecContext(ctx, g, t.ID, t.Name, nullString(t.AreaCode), t.Members, t.HouseholdsReached); err != nil {
				if isUnique(err) {
					return fmt.Errorf("team %q: duplicate id: %w", t.ID, geo.ErrConflict)
				}
				return fmt.Errorf("team %q: %w", t.ID, err)
			}
		}
		return refreshBounds(ctx, tx, "teams")
	})
	if err != nil {
		return fmt.Errorf("gpkg: replace teams: %w", err)
	}
	return nil
}

// Teams returns all teams in insertion (fid) order.
func (s *Store) Teams(ctx context.Context) ([]geo.Team, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT geom, id, name, area_code, members, households_reached
  FROM teams ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: teams: %w", err)
	}
	defer rows.Close()
	var out []geo.Team
	for rows.Next() {
		var (
			t                geo.Team
			g                []byte
			id, name, area   sql.NullString
			members, reached sql.NullInt64
		)
		if err := rows.Scan(&g, &id, &name, &area, &members, &reached); err != nil {
			return nil, fmt.Errorf("gpkg: teams: %w", err)
		}
		t.ID, t.Name, t.AreaCode = id.String, name.String, area.String
		t.Members, t.HouseholdsReached = int(members.Int64), reached.Int64
		if g != nil {
			og, err := decodeGeom(g)
			if err != nil {
				return nil, fmt.Errorf("gpkg: team %q: %w", t.ID, err)
			}
			if p, ok := og.(orb.Point); ok {
				t.Lon, t.Lat, t.HasLocation = p[0], p[1], true
			}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: teams: %w", err)
	}
	return out, nil
}
