package main

import (
	"context"
	"fmt"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/data/postgis"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// dbUsage is the help of every command's --db flag.
const dbUsage = "store: a GeoPackage file, or a postgres:// URL for PostGIS (env GAPMAP_DB)"

// store is what the command line uses of a store, whichever the backend.
type store interface {
	service.Store
	ReplaceAreas(ctx context.Context, vintage string, areas []geo.Area) error
	ReplaceTeams(ctx context.Context, ts []geo.Team) error
	Empty(ctx context.Context) (bool, error)
	Close() error
}

// openStore opens the store db names, the one choice of a backend: a
// postgres:// (or postgresql://) URL is a PostGIS database, anything else
// the path of a GeoPackage file, created if missing.
func openStore(ctx context.Context, db string) (store, error) {
	var st store
	var err error
	if postgis.IsDSN(db) {
		st, err = postgis.Open(ctx, db)
	} else {
		st, err = gpkg.Open(ctx, db)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", storeName(db), err)
	}
	return st, nil
}

// storeName is db for messages and logs: a URL without its password.
func storeName(db string) string {
	if postgis.IsDSN(db) {
		return postgis.Redact(db)
	}
	return db
}
