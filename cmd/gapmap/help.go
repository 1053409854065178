package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand as help shows it.
type command struct {
	name    string
	usage   string // after "gapmap NAME"
	summary string
	example string
}

// commands lists the subcommands in the order help shows them.
var commands = []command{
	{"serve", "[--addr 127.0.0.1:8080] [--db gapmap.gpkg] [--empty]",
		"Run the web service (map page, HTTP API, OGC API) over a store, created if missing: a GeoPackage file, or a PostGIS database with --db postgres://…; an empty store gets the synthetic demo province unless --empty.",
		"gapmap serve --db tay-ninh.gpkg --addr 127.0.0.1:8080"},
	{"import", "areas|reports|teams [--db gapmap.gpkg] [flags] FILE",
		"Load areas (GeoJSON, Shapefile .shp or .zip), reports (CSV or GeoJSON) or teams (CSV or GeoJSON) into the store, in one transaction; rejected rows are listed and skipped. A running server picks the change up within a second.",
		"gapmap import areas --db tay-ninh.gpkg --vintage 2025 communes.geojson"},
	{"user", "add|list|passwd [--db gapmap.gpkg] [flags]",
		"Add a user (password on standard input), list the users, or set a user's password (which ends their sessions and revokes their tokens).",
		"printf '%s\\n' \"$PW\" | gapmap user add --name canbo.xa --role staff --scope 80001"},
	{"token", "create|list|revoke [--db gapmap.gpkg] [flags]",
		"Create an API token for a user (the secret is printed once), list tokens, or revoke one.",
		"gapmap token create --user viettel-ops --label \"Viettel planning system\""},
	{"review", "--id ID --status confirmed|rejected [--comment C] [--db gapmap.gpkg]",
		"Confirm or reject a stored report, as a reviewer does on the map; a rejected report leaves the analysis.",
		"gapmap review --id r-0123456789abcdef --status rejected --comment \"duplicate\""},
	{"migrate", "--from STORE --to STORE [--force]",
		"Copy everything a store holds into another, a GeoPackage file into PostGIS (postgres://…) or back: areas, teams, reports, users, tokens, sessions, the audit log, reviews, tasks, the hole registry, frozen gap lists and webhooks, in one transaction, then verify the copy by every table's rows and checksum. A target that holds anything is refused unless --force, which replaces it.",
		"gapmap migrate --from gapmap.gpkg --to postgres://gapmap@db.internal/gapmap"},
	{"analyze", "--areas FILE --reports FILE [--teams FILE] --out DIR [flags]",
		"Score coverage holes, dead zones and team reach from files, without a store, and write the layers, gap lists, tasks and summary into DIR.",
		"gapmap analyze --areas communes.geojson --reports reports.csv --teams teams.csv --out out/"},
	{"demo", "--out DIR [--seed N] [--areas FILE [--communes N]] [--reports N] [--bias 6] [--drive-share 0.03]",
		"Generate a synthetic province (towers, radio propagation, biased reports, teams) with its ground truth.",
		"gapmap demo --out out/demo --areas ../shared/data/vn-communes-2025/communes_2025_tay_ninh_80.geojson --communes 20 --drive-share 0"},
	{"eval", "--truth DIR --holes FILE [--format text|json] [--label L]",
		"Measure detected holes (holes.geojson) against a demo's ground truth: precision, recall and F1 by land area.",
		"gapmap eval --truth out/demo --holes out/analysis/holes.geojson"},
	{"eval-table", "RUNS.jsonl...",
		"Print a Markdown table of precision, recall and F1 per case, report bias and drive share (the mean over seeds and the lowest) from eval --format json runs.",
		"gapmap eval-table out/accuracy/runs.jsonl"},
	{"version", "", "Print the version.", "gapmap version"},
	{"help", "[COMMAND]", "Show the commands, or one command's flags.", "gapmap help import"},
}

func commandNamed(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// writeUsage writes the list of commands.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "usage: gapmap <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		summary, _, _ := strings.Cut(c.summary, ". ")
		fmt.Fprintf(w, "  %-11s %s\n", c.name, strings.TrimSuffix(summary, "."))
	}
	fmt.Fprint(w, "\nRun \"gapmap help COMMAND\" or \"gapmap COMMAND --help\" for a command's flags.\n")
}

// writeHelp writes command name's help: usage, what it does, its flags
// (fs may be nil) and an example.
func writeHelp(w io.Writer, name string, fs *flag.FlagSet) {
	base, _, _ := strings.Cut(name, " ")
	c := commandNamed(base)
	if c == nil {
		writeUsage(w)
		return
	}
	usage := c.usage
	if name != base {
		usage = "[flags]"
		if name == "import areas" || name == "import reports" || name == "import teams" {
			usage = "[--db gapmap.gpkg] [flags] FILE"
		}
	}
	fmt.Fprintf(w, "usage: gapmap %s %s\n\n%s\n", name, usage, c.summary)
	if fs != nil {
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nflags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nexample:\n  %s\n", c.example)
	}
}

// errHelpShown is returned once help was written: the command ends, with
// exit status 0.
var errHelpShown = errors.New("help shown")

// flagSet is a command's flags, with where its help goes.
type flagSet struct {
	*flag.FlagSet
	name string
	out  io.Writer
}

// newFlagSet returns the flag set of command name ("user add" for an
// action); its help goes to stdout, its mistakes are returned.
func newFlagSet(name string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet("gapmap "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, name: name, out: stdout}
}

// parseArgs parses args, flags before, between or after the other
// arguments, which it returns. -h and --help write the command's help
// (errHelpShown); a flag mistake is a usage error that says where to
// look.
func parseArgs(fs *flagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				writeHelp(fs.out, fs.name, fs.FlagSet)
				return nil, errHelpShown
			}
			return nil, usageError{fmt.Sprintf("%s: %v (see gapmap %s --help)", fs.name, err, fs.name)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// parseFlags is parseArgs for a command that takes flags only.
func parseFlags(fs *flagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (see gapmap %s --help)", fs.name, rest[0], fs.name)}
	}
	return nil
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// storeMustExist refuses a command that reads or changes an existing
// store when there is none at path, rather than creating an empty one.
func storeMustExist(cmd, path string) error {
	if strings.Contains(path, "://") {
		return nil // a database server, not a file
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: no store at %s: give the store with --db FILE (or GAPMAP_DB), or make one with gapmap serve or gapmap import areas --db %s FILE", cmd, path, path)
	}
	return nil
}
