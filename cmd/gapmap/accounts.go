package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gapmap/gapmap/api"
	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
)

// runUser manages users: add (password from stdin), list, passwd.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"user: say what to do: gapmap user add|list|passwd"}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, stderr)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), "GeoPackage store (env GAPMAP_DB)")
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
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "list":
		us, err := store.Users(ctx)
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
		if _, err := store.User(ctx, *name); err != nil {
			return fmt.Errorf("user %q: %w", *name, err)
		}
		hash, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := store.SetPassword(ctx, *name, hash); err != nil {
			return err
		}
		// A new password ends every sign-in made with the old one.
		if err := store.DeleteUserSessions(ctx, *name); err != nil {
			return err
		}
		if err := cliAudit(ctx, store, getenv, "user.passwd", *name, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", *name)
		return nil
	}
	areas, err := store.Areas(ctx)
	if err != nil {
		return err
	}
	var codes []string
	if *scope != "" {
		codes = strings.Split(*scope, ",")
	}
	u, es := api.NewUser(areas, *name, *role, codes, *carrier)
	if len(es) > 0 {
		return usageError{"user add: " + es.Error()}
	}
	if !*noPassword {
		if u.PasswordHash, err = readPassword(stdin); err != nil {
			return err
		}
	}
	u.CreatedAt = time.Now().UTC()
	if err := store.AddUser(ctx, u); err != nil {
		if errors.Is(err, geo.ErrConflict) {
			return fmt.Errorf("user add: a user named %q exists", u.Name)
		}
		return err
	}
	if err := cliAudit(ctx, store, getenv, "user.add", u.Name, "role="+string(u.Role)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s added (%s)\n", u.Name, u.Role)
	return nil
}

// readPassword reads a password from the first line of r and hashes it.
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
	h, err := credential.HashPassword(pw)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return h, nil
}

// runToken manages API tokens: create (prints the secret once), list,
// revoke.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"token: say what to do: gapmap token create|list|revoke"}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("token "+sub, stderr)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), "GeoPackage store (env GAPMAP_DB)")
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
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "create":
		if *user == "" {
			return usageError{"token create: --user is required"}
		}
		t, secret, err := api.CreateToken(ctx, store, *user, *label, time.Now())
		if errors.Is(err, geo.ErrNotFound) {
			return fmt.Errorf("token create: no user %q", *user)
		}
		if err != nil {
			return err
		}
		if err := cliAudit(ctx, store, getenv, "token.create", t.ID, "user="+t.User); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %s for %s; it is shown once, keep it secret:\n", t.ID, t.User)
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		ts, err := store.Tokens(ctx, *user)
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
	if err := store.RevokeToken(ctx, *id, time.Now()); err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return fmt.Errorf("token revoke: no token %q", *id)
		}
		return err
	}
	if err := cliAudit(ctx, store, getenv, "token.revoke", *id, ""); err != nil {
		return err
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

// cliAudit records a write made from the command line, by the operating
// system user who ran it.
func cliAudit(ctx context.Context, store *gpkg.Store, getenv func(string) string, action, target, detail string) error {
	return store.AddAudit(ctx, geo.AuditEntry{At: time.Now().UTC(), Actor: getenv("USER"), Via: "cli",
		Action: action, Target: target, Detail: detail})
}
