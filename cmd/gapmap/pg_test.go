package main

import (
	"os"
	"testing"

	"github.com/gapmap/gapmap/data/postgis/pgtest"
)

// cluster is the PostgreSQL the tests of PostGIS stores run on.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
