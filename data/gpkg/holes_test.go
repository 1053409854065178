package gpkg

import (
	"context"
	"testing"

	"github.com/gapmap/gapmap/data/storetest"
)

// TestHoleStateStored: a record's state is in hole_registry for GIS tools
// and SQL, and the tables keep their foreign keys.
func TestHoleStateStored(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.SaveHoleRecords(ctx, storetest.HoleRecords()); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := s.rdb.QueryRowContext(ctx, `SELECT state FROM hole_registry WHERE id = 'h-1'`).Scan(&state); err != nil || state != "planned" {
		t.Errorf("stored state %q, %v; want planned", state, err)
	}
	checkForeignKeys(t, s)
}
