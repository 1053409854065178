// Package pgtest starts a throwaway PostgreSQL cluster with PostGIS for
// tests, from the binaries Debian's postgresql-NN packages install under
// /usr/lib/postgresql/NN/bin: initdb into a temporary folder, the server
// listening on a Unix socket in that folder only, one database per test
// made from a template that has the postgis extension, and everything
// removed at the end.
//
// A package's tests share one cluster, started in TestMain:
//
//	var cluster *pgtest.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
//
// and each test asks it for a database with cluster.NewDatabase(t),
// which skips the test when the machine has no PostgreSQL (see Main).
//
// initdb and the server refuse to run as root; as root, they are run as
// the postgres user the Debian packages create (or nobody), through
// runuser, and the folder is handed to that user.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the environment variable that makes a missing
// PostgreSQL a failure instead of a skip (CI sets it).
const RequireEnv = "GAPMAP_REQUIRE_POSTGIS"

// superuser is the cluster's superuser role; template the database every
// test database is copied from.
const (
	superuser = "gapmap"
	template  = "gapmap_template"
	port      = 5432
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	dir    string // holds data/, the socket and the log
	bin    string // the folder of initdb, pg_ctl, postgres
	runAs  *user.User
	n      atomic.Int64
	reason string // why there is no cluster, when Main found none
}

// Main starts a cluster, stores it in *c, runs m and stops the cluster,
// returning m's exit code. When no PostgreSQL binaries are installed it
// runs m with a Cluster whose NewDatabase skips, unless RequireEnv is
// set: then it fails without running m. A cluster that fails to start
// fails the run.
func Main(m *testing.M, c **Cluster) int {
	bin, err := findBin()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			fmt.Fprintf(os.Stderr, "pgtest: %v, and %s is set\n", err, RequireEnv)
			return 1
		}
		*c = &Cluster{reason: err.Error()}
		return m.Run()
	}
	cl, err := Start(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	*c = cl
	code := m.Run()
	if err := cl.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// findBin returns the bin folder of the newest PostgreSQL installed.
func findBin() (string, error) {
	if d := os.Getenv("GAPMAP_PG_BIN"); d != "" {
		return d, nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		return "", errors.New("no PostgreSQL found (/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql-15 postgresql-15-postgis-3)")
	}
	ver := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	sort.Slice(ms, func(i, j int) bool { return ver(ms[i]) > ver(ms[j]) })
	return filepath.Dir(ms[0]), nil
}

// Start initialises a cluster in a new temporary folder with the
// binaries in bin, starts it and makes the template database.
func Start(bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "gapmap-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			if u, err = user.Lookup("nobody"); err != nil {
				os.RemoveAll(dir)
				return nil, fmt.Errorf("running as root, and neither user postgres nor nobody exists: %w", err)
			}
		}
		c.runAs = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := c.init(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) init() error {
	if out, err := c.command("initdb", "-D", c.data(), "-U", superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// Settings for a throwaway server: a socket in our folder and no TCP
	// port, small memory, and no fsync: nothing here must survive the
	// machine crashing, while a server killed loses nothing committed
	// (the WAL is written at each commit, only not synced).
	conf := fmt.Sprintf(`
listen_addresses = ''
unix_socket_directories = '%s'
port = %d
max_connections = 200
shared_buffers = 32MB
fsync = off
full_page_writes = off
log_min_messages = warning
`, c.dir, port)
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := c.StartServer(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.exec(ctx, "postgres", `CREATE DATABASE `+template); err != nil {
		return err
	}
	if err := c.exec(ctx, template, `CREATE EXTENSION postgis`); err != nil {
		return fmt.Errorf("%w (is postgresql-NN-postgis-3 installed for this PostgreSQL?)", err)
	}
	return nil
}

// command is name from the bin folder with args, run as the cluster's
// user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.runAs == nil {
		return exec.Command(path, args...)
	}
	cmd := exec.Command("runuser", append([]string{"-u", c.runAs.Username, "--", path}, args...)...)
	cmd.Dir = c.dir
	return cmd
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// StartServer starts the server (again, after StopServer) and waits
// until it accepts connections.
func (c *Cluster) StartServer() error {
	cmd := c.command("pg_ctl", "start", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60")
	// pg_ctl's server must not be in the test's process group, so that an
	// interrupted test does not leave it orphaned half-way.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// StopServer stops the server at once, as a crash would (pg_ctl stop -m
// immediate): what was committed is recovered from the WAL at the next
// start.
func (c *Cluster) StopServer() error {
	if out, err := c.command("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Close stops the server and removes the folder.
func (c *Cluster) Close() error {
	if c == nil || c.dir == "" {
		return nil
	}
	var err error
	if _, statErr := os.Stat(filepath.Join(c.data(), "postmaster.pid")); statErr == nil {
		if out, e := c.command("pg_ctl", "stop", "-D", c.data(), "-m", "fast", "-w").CombinedOutput(); e != nil {
			err = fmt.Errorf("pg_ctl stop: %v\n%s", e, out)
		}
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// DSN is the connection URL of database db as the superuser.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", superuser, db, c.dir, port)
}

// exec runs sql in database db as the superuser.
func (c *Cluster) exec(ctx context.Context, db, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// Exec runs sql in database db as the superuser, failing t on error.
func (c *Cluster) Exec(t testing.TB, db, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.exec(ctx, db, sql); err != nil {
		t.Fatal(err)
	}
}

// NewDatabase makes a new database with the postgis extension (and
// nothing else) for t, dropped when t ends, and returns its name; it
// skips t when the machine has no PostgreSQL and RequireEnv is not set.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	return c.newDatabase(t, template)
}

// NewEmptyDatabase is NewDatabase without the postgis extension.
func (c *Cluster) NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return c.newDatabase(t, "template0")
}

func (c *Cluster) newDatabase(t testing.TB, from string) string {
	t.Helper()
	c.Skip(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.n.Add(1))
	c.Exec(t, "postgres", fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY`, name, from))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.exec(ctx, "postgres", `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return name
}

// Skip skips t when there is no cluster (no PostgreSQL installed and
// RequireEnv not set).
func (c *Cluster) Skip(t testing.TB) {
	t.Helper()
	if c == nil {
		t.Fatal("pgtest: no cluster: call pgtest.Main from TestMain")
	}
	if c.dir == "" {
		t.Skipf("pgtest: %s; set %s=1 to make this a failure", c.reason, RequireEnv)
	}
}

// Log returns the server's log, for a failing test to show.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	return string(bytes.TrimSpace(b))
}

// Role makes a login role without superuser rights and returns the DSN
// of database db as that role.
func (c *Cluster) Role(t testing.TB, db, role string) string {
	t.Helper()
	c.Exec(t, "postgres", fmt.Sprintf(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN CREATE ROLE %[1]s LOGIN; END IF;
END $$`, role))
	c.Exec(t, "postgres", fmt.Sprintf(`ALTER DATABASE %s OWNER TO %s`, db, role))
	return strings.Replace(c.DSN(db), superuser+"@", role+"@", 1)
}
