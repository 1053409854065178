package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// runUser manages users: add (password from stdin), list, passwd.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return usageError{"user: say what to do: gapmap user add|list|passwd (see gapmap user --help)"}
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		writeHelp(stdout, "user", nil)
		fmt.Fprint(stdout, "\nactions (gapmap user ACTION --help for its flags):\n  add      add a user; the password is read from standard input\n  list     list the users\n  passwd   set a user's password, read from standard input\n")
		return errHelpShown
	}
	fs := newFlagSet("user "+sub, stdout)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), dbUsage)
	var name, role, scope, carrier *string
	var noPassword *bool
	switch sub {
	case "add":
		name = fs.String("name", "", "user name: letters, digits and . _ - @")
		role = fs.String("role", "", "admin, reviewer, staff or carrier")
		scope = fs.String("scope", "", "staff: area codes, comma-separated (a commune's code covers its hamlets)")
		carrier = fs.String("carrier", "", "carrier role: viettel, vinaphone, mobifone or vietnamobile")
		noPassword = fs.Bool("no-password", false, "make a user who signs in with API tokens only")
	case "passwd":
		name = fs.String("name", "", "user name")
	case "list":
	default:
		return usageError{fmt.Sprintf("user: unknown action %q (want add, list or passwd)", sub)}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if sub != "add" {
		if err := storeMustExist("user "+sub, *db); err != nil {
			return err
		}
	}
	svc, closeStore, err := openService(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	cli := service.CommandLine(getenv("USER"))
	switch sub {
	case "list":
		us, err := svc.Users(ctx, cli)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tCARRIER\tCREATED")
		for _, u := range us {
			c := ""
			if u.Carrier != geo.CarrierUnknown {
				c = u.Carrier.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, strings.Join(u.Scope, ","), c, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "passwd":
		if *name == "" {
			return usageError{"user passwd: --name is required"}
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		// A new password ends every sign-in made with the old one.
		if err := svc.SetPassword(ctx, cli, *name, pw); err != nil {
			if errors.Is(err, geo.ErrInvalid) {
				return usageError{"user passwd: " + err.Error()}
			}
			return fmt.Errorf("user passwd: %w", err)
		}
		fmt.Fprintf(stdout, "password of %s changed\n", *name)
		return nil
	}
	spec := service.UserSpec{Name: *name, Role: *role, Carrier: *carrier}
	if *scope != "" {
		spec.Scope = strings.Split(*scope, ",")
	}
	if _, es := svc.CheckUser(spec); len(es) > 0 {
		return usageError{"user add: " + es.Error()}
	}
	if !*noPassword {
		if spec.Password, err = readPassword(stdin); err != nil {
			return err
		}
	}
	u, err := svc.AddUser(ctx, cli, spec)
	switch {
	case errors.Is(err, geo.ErrConflict):
		return fmt.Errorf("user add: a user named %q exists", spec.Name)
	case errors.Is(err, geo.ErrInvalid):
		return usageError{"user add: " + err.Error()}
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "user %s added (%s)\n", u.Name, u.Role)
	return nil
}

// readPassword reads a password from the first line of r.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", usageError{"the password is read from standard input, which is missing"}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageError{"password: required on standard input (e.g. printf '%s\\n' \"$PW\" | gapmap user add ...), or --no-password"}
	}
	return pw, nil
}

// runToken manages API tokens: create (prints the secret once), list,
// revoke.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return usageError{"token: say what to do: gapmap token create|list|revoke (see gapmap token --help)"}
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		writeHelp(stdout, "token", nil)
		fmt.Fprint(stdout, "\nactions (gapmap token ACTION --help for its flags):\n  create   make a token for a user and print its secret, once\n  list     list the tokens (--user: one user's)\n  revoke   revoke a token by its ID\n")
		return errHelpShown
	}
	fs := newFlagSet("token "+sub, stdout)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), dbUsage)
	var user, label, id *string
	switch sub {
	case "create":
		user = fs.String("user", "", "the user the token acts as")
		label = fs.String("label", "", "what the token is for, e.g. \"Viettel planning system\"")
	case "list":
		user = fs.String("user", "", "only this user's tokens")
	case "revoke":
		id = fs.String("id", "", "the token's ID (t-…), as listed")
	default:
		return usageError{fmt.Sprintf("token: unknown action %q (want create, list or revoke)", sub)}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := storeMustExist("token "+sub, *db); err != nil {
		return err
	}
	svc, closeStore, err := openService(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	cli := service.CommandLine(getenv("USER"))
	switch sub {
	case "create":
		if *user == "" {
			return usageError{"token create: --user is required"}
		}
		t, secret, err := svc.CreateToken(ctx, cli, *user, *label)
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		fmt.Fprintf(stderr, "token %s for %s; it is shown once, keep it secret:\n", t.ID, t.User)
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		ts, err := svc.Tokens(ctx, cli, *user)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tLABEL\tCREATED\tLAST USED\tREVOKED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Label, stamp(t.CreatedAt), stamp(t.LastUsedAt), stamp(t.RevokedAt))
		}
		return tw.Flush()
	}
	if *id == "" {
		return usageError{"token revoke: --id is required"}
	}
	if err := svc.RevokeToken(ctx, cli, *id); err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	fmt.Fprintf(stdout, "token %s revoked\n", *id)
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// openService opens the store at path and a service over it for one
// command's writes (no analysis); closeStore closes the store.
func openService(ctx context.Context, path string, logger *slog.Logger) (svc *service.Service, closeStore func(), err error) {
	store, err := openStore(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	svc, err = service.New(ctx, store, service.Options{Logger: logger, NoAnalysis: true})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() { svc.Close(); store.Close() }, nil
}
