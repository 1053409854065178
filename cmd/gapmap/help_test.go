package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelp: "gapmap help", "gapmap help CMD" and "CMD --help" (and an
// action's) succeed and show that command's own flags and an example.
func TestHelp(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in stdout
		not  []string
	}{
		{[]string{"help"}, []string{"commands:", "serve", "import", "eval-table"}, nil},
		{[]string{"--help"}, []string{"commands:"}, nil},
		{[]string{"help", "analyze"}, []string{"usage: gapmap analyze", "-areas", "-reports", "example:"}, nil},
		{[]string{"serve", "--help"}, []string{"usage: gapmap serve", "-addr", "-db", "example:"}, nil},
		{[]string{"import", "--help"}, []string{"areas", "reports", "teams", "example:"}, nil},
		{[]string{"import", "areas", "--help"}, []string{"-vintage", "-code-field", "-db"}, nil},
		{[]string{"import", "reports", "-h"}, []string{"-db"}, []string{"-vintage string", "-code-field"}},
		{[]string{"user", "--help"}, []string{"add", "list", "passwd"}, []string{"unknown action"}},
		{[]string{"user", "add", "--help"}, []string{"-name", "-role", "-scope"}, nil},
		{[]string{"token", "help"}, []string{"create", "list", "revoke"}, nil},
		{[]string{"token", "create", "-h"}, []string{"-user", "-label"}, nil},
		{[]string{"review", "--help"}, []string{"-id", "-status"}, nil},
		{[]string{"eval-table", "--help"}, []string{"usage: gapmap eval-table"}, nil},
	}
	for _, c := range cases {
		err, stdout, _ := runCLI(t, c.args...)
		if err != nil && err != errHelpShown || exitCode(err) != 0 {
			t.Errorf("gapmap %s: %v (exit %d), want help and exit 0", strings.Join(c.args, " "), err, exitCode(err))
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("gapmap %s: stdout lacks %q:\n%s", strings.Join(c.args, " "), w, stdout)
			}
		}
		for _, w := range c.not {
			if strings.Contains(stdout, w) {
				t.Errorf("gapmap %s: stdout has %q:\n%s", strings.Join(c.args, " "), w, stdout)
			}
		}
	}
}

// TestFlagsBeforeOrAfterFile: the README's order (flags after the file)
// and the usual one both import the areas.
func TestFlagsBeforeOrAfterFile(t *testing.T) {
	areas := filepath.Join("testdata", "areas.geojson")
	dir := t.TempDir()
	for i, args := range [][]string{
		{"import", "areas", "--db", filepath.Join(dir, "a.gpkg"), areas, "--vintage", "2025"},
		{"import", "areas", areas, "--db", filepath.Join(dir, "b.gpkg"), "--vintage", "2025"},
		{"import", "areas", "--vintage", "2025", "--db", filepath.Join(dir, "c.gpkg"), areas},
	} {
		stdout, _ := mustRun(t, args...)
		if !strings.Contains(stdout, "areas: ") || !strings.Contains(stdout, " stored") {
			t.Errorf("order %d: %s", i, stdout)
		}
	}
	err, _, _ := runCLI(t, "import", "areas", "--db", filepath.Join(dir, "d.gpkg"), areas, areas)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "one input file") {
		t.Errorf("two files: %v", err)
	}
	err, _, _ = runCLI(t, "analyze", "--bogus")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--help") {
		t.Errorf("an unknown flag: %v, want a usage error pointing at --help", err)
	}
}

// TestReadOnlyCommandsCreateNoStore: listing users or tokens, revoking,
// reviewing or setting a password in a folder without a store says what
// to do and creates no file.
func TestReadOnlyCommandsCreateNoStore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gapmap.gpkg")
	for _, args := range [][]string{
		{"user", "list", "--db", db},
		{"token", "list", "--db", db},
		{"token", "revoke", "--id", "t-1", "--db", db},
		{"review", "--id", "r-1", "--status", "rejected", "--db", db},
		{"user", "passwd", "--name", "x", "--db", db},
	} {
		err, _, _ := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), "no store at") || !strings.Contains(err.Error(), "--db") {
			t.Errorf("gapmap %s: %v, want an error saying there is no store and how to give one", strings.Join(args, " "), err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			t.Fatalf("gapmap %s created %s", strings.Join(args, " "), ents[0].Name())
		}
	}
}
