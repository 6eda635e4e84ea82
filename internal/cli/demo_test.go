package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/demo"
	"github.com/chathub/chathub/internal/store/postgres"
)

// syncBuffer is a bytes.Buffer safe to read while Main writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemo runs `chathub demo --addr 127.0.0.1:0` in-process: it prints the
// console's URL and the admin's credentials, signing in with them works
// over HTTP, the personas are CRM clients, a campaign created and started
// through the broadcast service reaches every persona on the fake Telegram
// and ends done, and Ctrl-C stops it and removes its temporary data.
func TestDemo(t *testing.T) {
	started := make(chan *demo.Demo, 1)
	demoStarted = func(d *demo.Demo) { started <- d }
	t.Cleanup(func() { demoStarted = func(*demo.Demo) {} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Main(ctx, &Env{Args: []string{"demo", "--addr", "127.0.0.1:0"}, Stdin: strings.NewReader(""),
			Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string { return map[string]string{"SCENARIOS_DIR": repoPath(t, "scenarios")}[k] }})
	}()
	var d *demo.Demo
	select {
	case d = <-started:
	case code := <-exit:
		t.Fatalf("chathub demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("chathub demo did not start\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}

	out := stdout.String()
	m := regexp.MustCompile(`(?m)^Демо запущено: откройте (http://127\.0\.0\.1:\d+/) — вход: admin / (\S+)\n` +
		`Demo running: open (http://127\.0\.0\.1:\d+/) — sign in: admin / (\S+)\n`).FindStringSubmatch(out)
	if m == nil || m[1] != m[3] || m[2] != m[4] || m[1] != d.URL || m[2] != d.AdminPassword {
		t.Fatalf("the URL and credentials are not printed as expected:\n%s", out)
	}
	for _, want := range []string{"Тихие часы выключены", "Quiet hours are off", "10 demo clients", "Анна Петровна", d.DataDir, "removed on exit"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	signInOverHTTP(t, m[1], m[2])

	// The personas are clients.
	clients, err := d.Stores.CRM.ListClients(ctx, postgres.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != len(d.Personas) || len(d.Personas) < 8 {
		t.Fatalf("%d clients, %d personas", len(clients), len(d.Personas))
	}
	anna, err := d.Stores.CRM.GetClient(ctx, d.Personas[0].Key())
	if err != nil || anna == nil || anna.City != "Самара" || anna.Age == nil || *anna.Age != 43 || !anna.Subscribed || !anna.HasTag("portrait_done") {
		t.Fatalf("Анна Петровна: %+v, %v", anna, err)
	}

	// A campaign to everyone subscribed reaches every persona and ends done.
	svc, err := app.BroadcastService(d.Config, d.Stores.CRM, d.Stores.Catalog(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(ctx, broadcast.Campaign{Name: "Демо", Segment: "subscribed",
		Text: `Здравствуйте, {{ .client.first_name }}! Скидка 10% до конца недели.`})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err = svc.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == broadcast.Done || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := svc.Stats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != broadcast.Done || st.Sent != len(d.Personas) || st.Targeted != len(d.Personas) {
		t.Fatalf("campaign %s: %+v", c.State, st)
	}
	for _, p := range d.Personas {
		msgs := d.Telegram.Messages(p.UserID)
		if len(msgs) != 1 || msgs[0].Text != "Здравствуйте, "+p.FirstName+"! Скидка 10% до конца недели." {
			t.Errorf("%s %s received %+v", p.FirstName, p.LastName, msgs)
		}
	}

	// Ctrl-C stops it and removes the temporary data.
	dir := d.DataDir
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit %d\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("chathub demo did not stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the temporary data %s is left: %v", dir, err)
	}
}

// signInOverHTTP signs in as admin with password at the console base and
// checks the session opens Обзор.
func signInOverHTTP(t *testing.T, base, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := client.PostForm(base+"login", url.Values{"name": {"admin"}, "password": {password}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.Contains(string(body), "admin") {
		t.Fatalf("sign in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, err = client.PostForm(base+"login", url.Values{"name": {"admin"}, "password": {"wrong-password"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d, want 401", resp.StatusCode)
	}
}

// TestDemoUsageAndErrors: the demo's help, a wrong command line, a missing
// scenario directory and a busy port each say what to do.
func TestDemoUsageAndErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	scenarios := repoPath(t, "scenarios")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   string
		stderrRE string
	}{
		{"help", []string{"demo", "-h"}, nil, 0, "-addr", `^$`},
		{"usage in help", []string{"help"}, nil, 0, "demo [--addr 127.0.0.1:8080] [--data DIR]", `^$`},
		{"a wrong flag", []string{"demo", "--port", "1"}, nil, 2, "", `flag provided but not defined: -port`},
		{"an argument", []string{"demo", "now"}, nil, 2, "", `takes no arguments but --addr ADDR and --data DIR`},
		{"no scenarios", []string{"demo", "--addr", "127.0.0.1:0"}, map[string]string{"SCENARIOS_DIR": filepath.Join(t.TempDir(), "none")}, 1, "",
			`set SCENARIOS_DIR to the scenario files' directory, or leave it unset for the shipped ones`},
		{"a busy port", []string{"demo", "--addr", busy.Addr().String()}, map[string]string{"SCENARIOS_DIR": scenarios}, 1, "",
			`(?s)address already in use.*try --addr 127\.0\.0\.1:0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, tt.env, "", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
				t.Errorf("exit %d (want %d)\nstdout %q\nstderr %q", code, tt.code, out, errOut)
			}
		})
	}
}

// TestDemoKeepsData: with --data the database stays after Ctrl-C, and the
// next start keeps the clients (no second seeding) and gives the admin a
// new password.
func TestDemoKeepsData(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo-data")
	env := map[string]string{"SCENARIOS_DIR": repoPath(t, "scenarios")}
	var passwords []string
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr syncBuffer
		exit := make(chan int, 1)
		go func() {
			exit <- Main(ctx, &Env{Args: []string{"demo", "--addr", "127.0.0.1:0", "--data", dir}, Stdin: strings.NewReader(""),
				Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
		}()
		re := regexp.MustCompile(`вход: admin / (\S+)\n`)
		deadline := time.Now().Add(60 * time.Second)
		for !re.MatchString(stdout.String()) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		m := re.FindStringSubmatch(stdout.String())
		if m == nil {
			cancel()
			t.Fatalf("round %d: no credentials\nstdout:\n%s\nstderr:\n%s", round, stdout.String(), stderr.String())
		}
		passwords = append(passwords, m[1])
		cancel()
		if code := <-exit; code != 0 {
			t.Fatalf("round %d: exit %d\nstderr:\n%s", round, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "Data kept in "+dir) {
			t.Errorf("round %d does not say where the data is:\n%s", round, stdout.String())
		}
	}
	if passwords[0] == passwords[1] {
		t.Error("the admin's password is the same after a restart")
	}
	db, err := postgres.Open(context.Background(), postgres.Config{URL: filepath.Join(dir, "chathub.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clients, err := db.ListClients(context.Background(), postgres.ListOptions{Limit: 100})
	if err != nil || len(clients) != len(demo.Personas(time.Now())) {
		t.Errorf("after two starts: %d clients, %v", len(clients), err)
	}
}
