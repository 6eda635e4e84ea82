package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/store/postgres"
)

// login checks name's password against the database at url.
func login(t *testing.T, url, name, password string) error {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := account.NewService(account.Config{Store: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(context.Background(), name, password, "127.0.0.1")
	return err
}

// TestUserCommands walks an account's life through the CLI on one
// database: each step sees the previous ones' effects.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	url := filepath.Join(t.TempDir(), "crm.db")
	// error, not warn: a loaded machine adds "slow SQL" warnings the steps
	// do not cause (seen in a run with SQLite migrating under load).
	env := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "error"}
	const annaPW = "anna's long secret"
	steps := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{"list empty", "", []string{"user", "list"}, 0, `^no users \(chathub user add NAME --role admin creates one\)\n$`, `^$`},
		{"add piped", annaPW + "\nsecond line\n", []string{"user", "add", "anna", "--role", "admin"}, 0, `^created user anna \(admin\)\n$`, `^$`},
		{"add generated", "", []string{"user", "add", "--role", "operator", "olga"}, 0,
			`^created user olga \(operator\)\npassword: [a-km-zA-HJ-NP-Z2-9]{20}\nSave it now: it is not shown again`, `^$`},
		{"add exists", annaPW + "\n", []string{"user", "add", "anna", "--role", "manager"}, 1, `^$`, `user "anna" exists`},
		{"add no role", annaPW + "\n", []string{"user", "add", "boris"}, 1, `^$`, `--role is required`},
		{"add bad role", annaPW + "\n", []string{"user", "add", "boris", "--role", "root"}, 1, `^$`, `unknown role "root"`},
		{"add bad name", annaPW + "\n", []string{"user", "add", "bo ris", "--role", "manager"}, 1, `^$`, `letters, digits`},
		{"add short password", "short\n", []string{"user", "add", "boris", "--role", "manager"}, 1, `^$`, `at least 10 characters`},
		{"add two names", "", []string{"user", "add", "a", "b", "--role", "manager"}, 2, `^$`, `want NAME, got 2`},
		{"list", "", []string{"user", "list"}, 0, `^NAME +ROLE +CREATED +PASSWORD CHANGED\nanna +admin +\d{4}-.*\nolga +operator +`, `^$`},
		{"list json", "", []string{"user", "list", "--format", "json"}, 0, `(?s)^\[\n  \{\n    "name": "anna",\n    "role": "admin"`, `^$`},
		{"passwd piped", "olga's new password\n", []string{"user", "passwd", "olga"}, 0, `^password of olga changed; their console sessions ended\n$`, `^$`},
		{"passwd nobody", "olga's new password\n", []string{"user", "passwd", "nobody"}, 1, `^$`, `no user "nobody"`},
		{"remove last admin", "", []string{"user", "remove", "anna"}, 1, `^$`, `"anna" is the last admin and must stay one; add another admin first`},
		{"demote last admin", "", []string{"user", "role", "anna", "--role", "manager"}, 1, `^$`, `"anna" is the last admin`},
		{"role", "", []string{"user", "role", "olga", "--role", "manager"}, 0, `^olga is now manager\n$`, `^$`},
		{"role missing", "", []string{"user", "role", "olga"}, 1, `^$`, `--role is required`},
		{"remove", "", []string{"user", "remove", "olga"}, 0, `^removed user olga\n$`, `^$`},
		{"remove again", "", []string{"user", "remove", "olga"}, 1, `^$`, `no user "olga"`},
		{"unknown subcommand", "", []string{"user", "del", "x"}, 2, `^$`, `unknown subcommand "del"`},
		{"help", "", []string{"user", "help"}, 0, `^Usage:\n  chathub user add NAME`, `^$`},
		{"audit", "", []string{"audit"}, 0,
			`(?s)^ID +AT +ACTOR +ACTION +OBJECT +DETAILS\n\d+ .* cli +user\.remove +user olga +-\n.*cli +user\.role +user olga +role manager\n.*cli +user\.passwd +user olga.*cli +user\.add +user anna +role admin\n$`, `^$`},
		{"audit filtered json", "", []string{"audit", "--action", "user.add", "--format", "json", "--limit", "1"}, 0,
			`(?s)^\[\n  \{\n    "id": 2,\n.*"actor": "cli",\n    "action": "user.add",\n    "object": "user olga",\n    "details": "role operator"\n  \}\n\]\n$`, `^$`},
		{"audit nothing", "", []string{"audit", "--actor", "api"}, 0, `^no audit entries\n$`, `^$`},
		{"audit bad limit", "", []string{"audit", "--limit", "0"}, 2, `^$`, `--limit must be from 1 to 1000`},
		{"audit bad format", "", []string{"audit", "--format", "xml"}, 2, `^$`, `unknown format "xml"`},
	}
	var all bytes.Buffer
	var generated string
	for _, st := range steps {
		code, out, errOut := runMain(t, env, st.stdin, st.args...)
		all.WriteString(out + errOut)
		if code != st.code || !regexp.MustCompile(st.stdoutRE).MatchString(out) || !regexp.MustCompile(st.stderrRE).MatchString(errOut) {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", st.name, code, out, errOut)
		}
		if st.name == "add generated" {
			generated = regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
			if err := login(t, url, "olga", generated); err != nil {
				t.Fatalf("olga with the printed password: %v", err)
			}
		}
		if st.name == "passwd piped" {
			if err := login(t, url, "olga", generated); !errors.Is(err, account.ErrBadCredentials) {
				t.Fatalf("olga's old password after passwd: %v", err)
			}
			if err := login(t, url, "olga", "olga's new password"); err != nil {
				t.Fatalf("olga's new password: %v", err)
			}
		}
	}
	if err := login(t, url, "anna", annaPW); err != nil {
		t.Errorf("anna with the first piped line: %v", err)
	}
	// Only the generated password is printed, once; no other is.
	for _, secret := range []string{annaPW, "olga's new password", "second line"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the output holds %q", secret)
		}
	}
	if n := strings.Count(all.String(), generated); n != 1 {
		t.Errorf("the generated password appears %d times; want once", n)
	}
	code, out, _ := runMain(t, env, "", "audit", "--format", "json", "--limit", "1000")
	var entries []struct{ Actor, Action, Details string }
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil {
		t.Fatalf("audit json: exit %d, %v", code, err)
	}
	users := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "user.") {
			users++
			if e.Actor != cliActor {
				t.Errorf("audit entry %+v; want actor cli", e)
			}
		}
	}
	if users != 5 { // add anna, add olga, passwd olga, role olga, remove olga
		t.Errorf("%d user.* audit entries; want 5", users)
	}
}

func TestHelpListsAccountCommands(t *testing.T) {
	t.Parallel()
	code, out, _ := runMain(t, nil, "", "help")
	if code != 0 || !regexp.MustCompile(`(?m)^  user +console accounts`).MatchString(out) || !regexp.MustCompile(`(?m)^  audit +the audit log`).MatchString(out) {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// TestHintFirstUser: `chathub run` says how to create the first account,
// and only while none exists.
func TestHintFirstUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: filepath.Join(t.TempDir(), "crm.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	hintFirstUser(ctx, db, log)
	if !strings.Contains(buf.String(), "level=INFO") || !strings.Contains(buf.String(), "chathub user add NAME --role admin") {
		t.Errorf("no users: logged %q", buf.String())
	}
	if _, err := db.CreateUser(ctx, account.User{Name: "anna", Role: account.RoleAdmin}, "$argon2id$x"); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	hintFirstUser(ctx, db, log)
	if buf.Len() != 0 {
		t.Errorf("with a user: logged %q", buf.String())
	}
}
