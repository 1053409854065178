package data

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

func TestReadTeams(t *testing.T) {
	type wantErr struct {
		row           int
		field, reason string
	}
	tests := []struct {
		file  string
		teams []geo.Team
		errs  []wantErr
	}{
		{
			file: "teams.csv",
			teams: []geo.Team{
				{ID: "t1", Name: "Tổ công nghệ số ấp Bình Thạnh", AreaCode: "80001", Members: 7, HouseholdsReached: 120, Lat: 10.05, Lon: 106.05, HasLocation: true},
				{ID: "t2", Name: "Tổ CNS ấp Phước Lợi", AreaCode: "80002", Members: 5},
			},
			errs: []wantErr{
				{3, "area_code", "required when lat/lon are not given"},
				{4, "members", "not a number"},
				{5, "id", "duplicate of row 1"},
				{6, "lon", "required when lat is given"},
			},
		},
		{
			file: "teams.geojson",
			teams: []geo.Team{
				{ID: "t1", Name: "Tổ công nghệ số ấp Bình Thạnh", AreaCode: "80001", Members: 7, HouseholdsReached: 120, Lat: 10.05, Lon: 106.05, HasLocation: true},
				{ID: "t2", Name: "Tổ CNS ấp Phước Lợi", AreaCode: "80002", Members: 5},
			},
			errs: []wantErr{
				{3, "geometry", "Polygon is not a Point"},
				{4, "members", "must be between 0 and 200"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			teams, errs, err := ReadTeams(context.Background(), filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(teams, tc.teams) {
				t.Errorf("teams:\ngot  %+v\nwant %+v", teams, tc.teams)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("got errors %v, want %d", errs, len(tc.errs))
			}
			for i, w := range tc.errs {
				e := errs[i]
				if e.Row != w.row || e.Field != w.field || !strings.Contains(e.Reason, w.reason) {
					t.Errorf("error %d = %q, want row %d, %s: …%s…", i, e, w.row, w.field, w.reason)
				}
			}
		})
	}
}

func TestReadTeamsFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope.csv")},
		{"no id column", write("noid.csv", "name,area_code\nx,1\n")},
		{"not GeoJSON", write("t.geojson", "id,name\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadTeams(context.Background(), tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("got %v, want an error naming %s", err, tc.path)
			}
		})
	}
}

func TestReadTeamsSemicolon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "teams.csv")
	if err := os.WriteFile(path, []byte("\xef\xbb\xbfID;Name;Area_Code;Members;Lat;Lon\nt1;Tổ 1;;6;10,5;106,25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	teams, errs, err := ReadTeams(context.Background(), path)
	if err != nil || len(errs) != 0 {
		t.Fatalf("err %v, errs %v", err, errs)
	}
	want := []geo.Team{{ID: "t1", Name: "Tổ 1", Members: 6, Lat: 10.5, Lon: 106.25, HasLocation: true}}
	if !reflect.DeepEqual(teams, want) {
		t.Errorf("got %+v, want %+v", teams, want)
	}
}
