// Gapmap finds where people cannot get a usable mobile signal, and who can
// help them.
//
// Usage:
//
//	gapmap serve   [--addr 127.0.0.1:8080] [--db gapmap.gpkg] [--empty] [--public-holes outline|full|none] [--base-url URL] [--answer-days 30]
//	gapmap import  areas|reports|teams [--db gapmap.gpkg] FILE
//	gapmap user    add --name N --role R [--scope CODES] [--carrier C] [--db F] < password
//	gapmap user    list|passwd [--db F]
//	gapmap token   create --user N [--label L] | list [--user N] | revoke --id ID [--db F]
//	gapmap review  --id ID --status confirmed|rejected [--comment C] [--db F]
//	gapmap migrate --from STORE --to STORE [--force]
//	gapmap analyze --areas FILE --reports FILE [--teams FILE] --out DIR [flags]
//	gapmap demo    --out DIR [--seed N] [--areas FILE [--communes N]] [--reports N] [--bias 6] [--drive-share 0.03]
//	gapmap eval    --truth DIR --holes FILE [--format text|json] [--label L]
//	gapmap eval-table RUNS.jsonl...
//	gapmap version
//
// analyze reads area boundaries (GeoJSON, Shapefile .shp or .zip), weak-signal
// reports (CSV or GeoJSON) and community digital-technology teams, and
// writes areas.geojson, holes.geojson, teams.geojson, cells.geojson,
// gaps-<carrier>.{csv,xlsx,geojson,kml,gpkg} and summary.json into DIR.
//
// demo generates a synthetic province (clearly named as synthetic) with
// towers, a radio propagation model, biased reports, teams and the ground
// truth; eval scores holes.geojson against that truth, and eval-table
// turns many evaluations (eval --format json) into a Markdown table.
//
// import, user, token and review write to the store a running gapmap
// serve may have open; the server picks their writes up within about a
// second, without a restart.
//
// Run "gapmap help COMMAND" or "gapmap COMMAND --help" for a command's flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelpShown) {
		fmt.Fprintln(os.Stderr, "gapmap:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil || errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// gcPercent is the collector's target when GOGC is not set (see run).
const gcPercent = 50

// run is the whole program; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		writeUsage(stderr)
		return usageError{"no command given"}
	}
	// The commands hold one large analysis (analyze, serve) or batch
	// (import): with Go's default (GOGC=100) the heap grows to twice what
	// is live before a collection, which at national scale is gigabytes
	// held for nothing. At half that the collector costs about 1–2 % more
	// CPU and serve's throughput did not change (README, National scale).
	// GOGC, when set, has the last word.
	if getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	if path := getenv("GAPMAP_CPUPROFILE"); path != "" {
		// A CPU profile of the whole command, for go tool pprof.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if path := getenv("GAPMAP_MEMPROFILE"); path != "" && args[0] != "serve" {
		// A heap profile when the command ends, of what is live then and
		// of every allocation made, for go tool pprof
		// (-sample_index=inuse_space or alloc_space); serve writes its
		// own once stopped, with what it held (see runServe).
		defer func() {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(stderr, "gapmap: heap profile:", err)
			}
		}()
	}
	logOut := stderr
	if args[0] == "serve" {
		// A server logs every request: buffer the lines (see logWriter).
		lw := newLogWriter(stderr, logFlushEvery)
		defer lw.Close()
		logOut = lw
	}
	logger := newLogger(getenv("GAPMAP_LOG_LEVEL"), getenv("GAPMAP_LOG_FORMAT"), logOut)
	switch args[0] {
	case "analyze", "analyse":
		return runAnalyze(ctx, args[1:], getenv, stdout, stderr, logger)
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr, logger)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr, logger)
	case "user":
		return runUser(ctx, args[1:], getenv, stdin, stdout, stderr, logger)
	case "token":
		return runToken(ctx, args[1:], getenv, stdout, stderr, logger)
	case "review":
		return runReview(ctx, args[1:], getenv, stdout, stderr, logger)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "eval":
		return runEval(ctx, args[1:], stdout, stderr)
	case "eval-table":
		return runEvalTable(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "gapmap", version)
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && commandNamed(args[1]) != nil && args[1] != "help" {
			// The command's own help, with its flags.
			return run(ctx, []string{args[1], "--help"}, getenv, stdin, stdout, stderr)
		}
		writeUsage(stdout)
		return nil
	}
	writeUsage(stderr)
	return usageError{fmt.Sprintf("unknown command %q (see gapmap help)", args[0])}
}

func newLogger(level, format string, w io.Writer) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil || level == "" {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if lw, ok := w.(*logWriter); ok {
		h = flushHandler{h, lw}
	}
	return slog.New(h)
}

// writeHeapProfile writes the heap profile to path, after a collection
// so that it shows what is live.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
