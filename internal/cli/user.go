package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
)

// userUsage is printed for `chathub user` without a valid subcommand.
const userUsage = `Usage:
  chathub user add NAME --role admin|manager|operator   create a console account
  chathub user list [--format table|json]              list the accounts
  chathub user passwd NAME                             set a new password (ends the user's sessions)
  chathub user role NAME --role admin|manager|operator change a role (not the last admin's)
  chathub user remove NAME                             delete an account (not the last admin)

The password is the first line of standard input when it is piped
(echo "$PW" | chathub user add anna --role admin); when standard
input is a terminal or empty, a password is generated and printed once.
Names: 1-64 letters, digits, '.', '_', '-'; passwords: at least 10 characters.`

// cliActor is the audit log's actor for the command line.
const cliActor = "cli"

// userCmd is one `chathub user` subcommand: the names of its positional
// arguments and its flags, returning the function that runs it.
type userCmd = subcommand[userCall]

// userCall is what a subcommand runs with.
type userCall struct {
	env  *Env
	svc  *account.Service
	args []string
}

var userCmds = map[string]userCmd{
	"add":    {[]string{"NAME"}, userAddFlags},
	"list":   {nil, userListFlags},
	"passwd": {[]string{"NAME"}, func(*flag.FlagSet) func(context.Context, *userCall) error { return userPasswd }},
	"role":   {[]string{"NAME"}, userRoleFlags},
	"remove": {[]string{"NAME"}, func(*flag.FlagSet) func(context.Context, *userCall) error { return userRemove }},
}

// runUser manages console accounts.
func runUser(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	name, run, args, code, ok := parseSubcommand(env, "user", userUsage, "", userCmds)
	if !ok {
		return code
	}
	svc, closeDB, err := openAccounts(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub user %s: %v\n", name, err)
		return 1
	}
	defer closeDB()
	if err := run(account.WithActor(ctx, cliActor), &userCall{env: env, svc: svc, args: args}); err != nil {
		fmt.Fprintf(env.Stderr, "chathub user %s: %s\n", name, accountErrorText(err, args))
		return 1
	}
	return 0
}

// openAccounts opens the database and the account service over it.
func openAccounts(ctx context.Context, cfg config.Config, log *slog.Logger) (*account.Service, func(), error) {
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	svc, err := account.NewService(account.Config{Store: db, Logger: log})
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return svc, func() { _ = db.Close() }, nil
}

// accountErrorText says the account errors in a sentence naming the user.
func accountErrorText(err error, args []string) string {
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	switch {
	case errors.Is(err, account.ErrUserExists):
		return fmt.Sprintf("user %q exists (chathub user passwd %s sets a new password)", name, name)
	case errors.Is(err, account.ErrNoUser):
		return fmt.Sprintf("no user %q (chathub user list shows them)", name)
	case errors.Is(err, account.ErrLastAdmin):
		return fmt.Sprintf("%q is the last admin and must stay one; add another admin first (chathub user add NAME --role admin)", name)
	}
	return err.Error()
}

func userAddFlags(fs *flag.FlagSet) func(context.Context, *userCall) error {
	role := fs.String("role", "", "the user's role: admin, manager or operator (required)")
	return func(ctx context.Context, uc *userCall) error {
		r, err := parseRoleFlag(*role)
		if err != nil {
			return err
		}
		if err := account.ValidateName(uc.args[0]); err != nil {
			return err
		}
		pw, generated, err := uc.password()
		if err != nil {
			return err
		}
		u, err := uc.svc.AddUser(ctx, uc.args[0], r, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(uc.env.Stdout, "created user %s (%s)\n", u.Name, u.Role)
		uc.printGenerated(pw, generated)
		return nil
	}
}

func userPasswd(ctx context.Context, uc *userCall) error {
	pw, generated, err := uc.password()
	if err != nil {
		return err
	}
	if err := uc.svc.SetPassword(ctx, uc.args[0], pw); err != nil {
		return err
	}
	fmt.Fprintf(uc.env.Stdout, "password of %s changed; their console sessions ended\n", uc.args[0])
	uc.printGenerated(pw, generated)
	return nil
}

func userRoleFlags(fs *flag.FlagSet) func(context.Context, *userCall) error {
	role := fs.String("role", "", "the new role: admin, manager or operator (required)")
	return func(ctx context.Context, uc *userCall) error {
		r, err := parseRoleFlag(*role)
		if err != nil {
			return err
		}
		if err := uc.svc.SetRole(ctx, uc.args[0], r); err != nil {
			return err
		}
		fmt.Fprintf(uc.env.Stdout, "%s is now %s\n", uc.args[0], r)
		return nil
	}
}

// parseRoleFlag reads --role, which is required.
func parseRoleFlag(role string) (account.Role, error) {
	if role == "" {
		return "", errors.New("--role is required (admin, manager, operator)")
	}
	return account.ParseRole(role)
}

func userRemove(ctx context.Context, uc *userCall) error {
	if err := uc.svc.RemoveUser(ctx, uc.args[0]); err != nil {
		return err
	}
	fmt.Fprintf(uc.env.Stdout, "removed user %s\n", uc.args[0])
	return nil
}

// password returns the first line of piped standard input, or a generated
// password (generated true) when standard input is a terminal, absent or
// empty. Only the line ending is trimmed: spaces are part of a password.
func (uc *userCall) password() (pw string, generated bool, err error) {
	if uc.env.Stdin != nil && !isTerminal(uc.env.Stdin) {
		line, err := bufio.NewReader(uc.env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read the password from standard input: %w", err)
		}
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			return line, false, account.ValidatePassword(line)
		}
	}
	return uc.svc.GeneratePassword(), true, nil
}

// printGenerated prints a generated password, once.
func (uc *userCall) printGenerated(pw string, generated bool) {
	if !generated {
		return
	}
	fmt.Fprintf(uc.env.Stdout, "password: %s\n", pw)
	fmt.Fprintf(uc.env.Stdout, "Save it now: it is not shown again (chathub user passwd %s sets a new one).\n", uc.args[0])
}

func userListFlags(fs *flag.FlagSet) func(context.Context, *userCall) error {
	format := fs.String("format", "table", "output format: table or json")
	return func(ctx context.Context, uc *userCall) error {
		if *format != "table" && *format != "json" {
			return fmt.Errorf("unknown format %q (table, json)", *format)
		}
		us, err := uc.svc.Users(ctx)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeUsersJSON(uc.env.Stdout, us)
		}
		if len(us) == 0 {
			_, err := fmt.Fprintln(uc.env.Stdout, "no users (chathub user add NAME --role admin creates one)")
			return err
		}
		tw := tabwriter.NewWriter(uc.env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tPASSWORD CHANGED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.UTC().Format(time.RFC3339),
				u.PasswordChangedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	}
}

func writeUsersJSON(w io.Writer, us []account.User) error {
	type row struct {
		Name              string    `json:"name"`
		Role              string    `json:"role"`
		CreatedAt         time.Time `json:"created_at"`
		PasswordChangedAt time.Time `json:"password_changed_at"`
	}
	rows := make([]row, 0, len(us))
	for _, u := range us {
		rows = append(rows, row{u.Name, string(u.Role), u.CreatedAt.UTC(), u.PasswordChangedAt.UTC()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
