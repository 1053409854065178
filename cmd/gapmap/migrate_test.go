package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMigrateBothWays fills a GeoPackage with the command line, copies
// it into PostGIS and back into a new GeoPackage with gapmap migrate, and
// finds the same rows and checksums each way; a non-empty target is
// refused without --force, and replaced with it.
func TestMigrateBothWays(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.gpkg")
	mustRun(t, "import", "areas", "--db", src, filepath.Join("testdata", "areas.geojson"))
	mustRun(t, "import", "reports", "--db", src, filepath.Join("testdata", "reports.csv"))
	if err, _, stderr := runCLIInput(t, "mật khẩu đủ dài\n", "user", "add", "--db", src, "--name", "lan", "--role", "admin"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	mustRun(t, "token", "create", "--db", src, "--user", "lan")
	mustRun(t, "review", "--db", src, "--id", "r1", "--status", "rejected")
	pg := cluster.DSN(cluster.NewDatabase(t))

	sums := func(out string) string {
		t.Helper()
		if !strings.Contains(out, "verified") {
			t.Errorf("migrate did not say it verified the copy:\n%s", out)
		}
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 3 && regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(f[2]) {
				lines = append(lines, strings.Join(f, " "))
			}
		}
		if len(lines) != 13 {
			t.Fatalf("migrate listed %d tables, want 13:\n%s", len(lines), out)
		}
		return strings.Join(lines, "\n")
	}
	out, _ := mustRun(t, "migrate", "--from", src, "--to", pg)
	there := sums(out)
	for _, want := range []string{"areas 2 ", "reports 6 ", "users 1 ", "tokens 1 ", "reviews 1 "} {
		if !strings.Contains(there+"\n", want) {
			t.Errorf("the copy lacks %q:\n%s", want, there)
		}
	}
	if err, _, _ := runCLI(t, "migrate", "--from", src, "--to", pg); err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("migrate into the filled database: %v, want a refusal naming --force", err)
	}
	out, _ = mustRun(t, "migrate", "--from", src, "--to", pg, "--force")
	if again := sums(out); again != there {
		t.Errorf("forced copy:\n%s\nwant\n%s", again, there)
	}
	back := filepath.Join(dir, "back.gpkg")
	out, _ = mustRun(t, "migrate", "--from", pg, "--to", back)
	if got := sums(out); got != there {
		t.Errorf("the copy back:\n%s\nwant\n%s", got, there)
	}
	// The copy back is a store the command line reads.
	if out, _ := mustRun(t, "user", "list", "--db", back); !strings.Contains(out, "lan") {
		t.Errorf("user list on the copy back: %s", out)
	}
	if err, _, _ := runCLI(t, "migrate", "--from", src); exitCode(err) != 2 {
		t.Errorf("migrate without --to: %v, want a usage error", err)
	}
}
