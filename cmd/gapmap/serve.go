package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/api"
	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/gapmap/gapmap/web"
)

// Defaults of gapmap serve.
const (
	defaultAddr = "127.0.0.1:8080"
	defaultDB   = "gapmap.gpkg"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := newFlagSet("serve", stdout)
	addr := fs.String("addr", envOr(getenv, "GAPMAP_ADDR", defaultAddr), "listen address (env GAPMAP_ADDR)")
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), dbUsage+", created if missing")
	empty := fs.Bool("empty", false, "do not seed an empty store with the synthetic demo province")
	seed := fs.Int64("seed", 1, "seed of the demo province put in an empty store")
	publicHoles := fs.String("public-holes", envOr(getenv, "GAPMAP_PUBLIC_HOLES", geo.HoleOutline.String()),
		"what the public and other carriers see of a carrier's holes: outline, full or none (env GAPMAP_PUBLIC_HOLES)")
	baseURL := fs.String("base-url", getenv("GAPMAP_BASE_URL"),
		"public URL of the service, e.g. https://gapmap.example.vn, that absolute links are built on (env GAPMAP_BASE_URL; default: the listener's address)")
	answerDays := fs.String("answer-days", envOr(getenv, "GAPMAP_ANSWER_DAYS", strconv.Itoa(geo.DefaultAnswerDays)),
		"days after a hole is listed (or reopened) that its carrier's answer is due (env GAPMAP_ANSWER_DAYS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	holes, err := geo.ParseHoleView(*publicHoles)
	if err != nil {
		return usageError{"--public-holes: " + strings.TrimPrefix(err.Error(), geo.ErrInvalid.Error()+": ")}
	}
	if _, err := api.CheckBaseURL(*baseURL); err != nil {
		return usageError{"--base-url: " + err.Error()}
	}
	days, err := strconv.Atoi(*answerDays)
	if err != nil || days < 1 || days > 365 {
		return usageError{fmt.Sprintf("--answer-days %q: want a whole number of days from 1 to 365", *answerDays)}
	}
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	seeded := false
	if !*empty {
		if seeded, err = seedDemo(ctx, store, *seed, logger); err != nil {
			return err
		}
	}
	start := time.Now()
	var allow []string
	for _, h := range strings.Split(getenv("GAPMAP_WEBHOOK_ALLOW_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			allow = append(allow, h)
		}
	}
	svc, err := service.New(ctx, store, service.Options{Logger: logger, AnswerDays: days, WebhookAllowHosts: allow,
		HoldCatchUp: true})
	if err != nil {
		return err
	}
	defer svc.Close()
	logger.Info("analysis loaded", "duration_ms", time.Since(start).Milliseconds())
	cli := service.CommandLine(getenv("USER"))
	var demoAdmin string
	if seeded {
		if demoAdmin, err = addDemoAdmin(ctx, svc, cli); err != nil {
			return err
		}
	}
	if us, err := svc.Users(ctx, cli); err != nil {
		return err
	} else if len(us) == 0 {
		logger.Warn("no users yet: the public sees the aggregated map only; add the first admin with: gapmap user add --role admin --name NAME --db " + *db)
	}
	srv, err := api.New(svc, api.Options{Logger: logger, Web: web.FS(), PublicHoles: holes, BaseURL: *baseURL,
		GapListGPKG: gpkg.WriteGapList})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "gapmap serving %s on http://%s/ (store %s)\n", version, ln.Addr(), storeName(*db))
	if demoAdmin != "" {
		fmt.Fprintf(stdout, "demo province: sign in as admin with password %s (shown once; change it with gapmap user passwd --name admin)\n", demoAdmin)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// After a restart the kept analysis is served from here on; the
	// reports are read and analysed again in the background.
	svc.StartCatchUp()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish the requests in flight (a report being stored is committed
	// before its reply), then stop.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if path := getenv("GAPMAP_MEMPROFILE"); path != "" {
		// What the server held while serving: the service and the API
		// are still alive here.
		if err := writeHeapProfile(path); err != nil {
			logger.Error("heap profile", "err", err)
		}
		runtime.KeepAlive(srv)
		runtime.KeepAlive(svc)
	}
	logger.Info("stopped")
	return nil
}

// seedDemo puts the synthetic demo province (areas, reports, teams) in a
// store that has no areas and no reports, so a fresh install shows a
// populated map.
func seedDemo(ctx context.Context, store store, seed int64, logger *slog.Logger) (seeded bool, err error) {
	if empty, err := store.Empty(ctx); err != nil || !empty {
		return false, err
	}
	start := time.Now()
	w, err := sim.Generate(sim.Options{Seed: seed})
	if err != nil {
		return false, err
	}
	if err := store.ReplaceAreas(ctx, w.Areas[0].Vintage, w.Areas); err != nil {
		return false, fmt.Errorf("seed demo areas: %w", err)
	}
	// The simulated reports carry no submitter: like the command line's
	// imports, they count by their typed reporters.
	seedAudit := geo.AuditEntry{Via: "cli", Action: "report.import", Detail: fmt.Sprintf("demo province seeded: accepted=%d", len(w.Reports))}
	if _, err := store.AddReports(ctx, w.Reports, seedAudit); err != nil {
		return false, fmt.Errorf("seed demo reports: %w", err)
	}
	if err := store.ReplaceTeams(ctx, w.Teams); err != nil {
		return false, fmt.Errorf("seed demo teams: %w", err)
	}
	logger.Info("empty store seeded with the synthetic demo province (mô phỏng)",
		"areas", len(w.Areas), "reports", len(w.Reports), "teams", len(w.Teams), "duration_ms", time.Since(start).Milliseconds())
	return true, nil
}

// addDemoAdmin gives a freshly seeded demo store without users an
// admin, "admin", with a random password that is returned to be shown
// once.
func addDemoAdmin(ctx context.Context, svc *service.Service, cli *geo.Viewer) (string, error) {
	if us, err := svc.Users(ctx, cli); err != nil || len(us) > 0 {
		return "", err
	}
	pw, _ := credential.NewSecret("")
	pw = pw[:16]
	if _, err := svc.AddUser(ctx, cli, service.UserSpec{Name: "admin", Role: string(geo.RoleAdmin), Password: pw}); err != nil {
		return "", fmt.Errorf("demo admin: %w", err)
	}
	return pw, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
