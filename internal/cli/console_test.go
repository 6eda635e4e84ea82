package cli

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/logtest"
)

// TestConsoleCommandServesAPIWithoutBots: `chathub console` needs no bot
// token, serves the probes, the API and the web console's sign-in page on
// HTTP_ADDR, starts no bot, and stops on cancellation.
func TestConsoleCommandServesAPIWithoutBots(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := "127.0.0.1:" + freePort(t)
	env := map[string]string{
		"SCENARIOS_DIR": repoPath(t, "scenarios"), "DATABASE_URL": filepath.Join(t.TempDir(), "c.db"),
		"HTTP_ADDR": addr, "ADMIN_TOKEN": "0123456789abcdef0123",
	}
	var logs logtest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, &Env{Args: []string{"console"}, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &logs,
			Getenv: func(k string) string { return env[k] }})
	}()
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+env["ADMIN_TOKEN"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := get("/healthz"); code != http.StatusOK; code, _ = get("/healthz") {
		if time.Now().After(deadline) {
			t.Fatalf("chathub console did not answer /healthz: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get("/api/segments"); code != http.StatusOK {
		t.Errorf("GET /api/segments = %d: %.200s", code, body)
	}
	if code, body := get("/login"); code != http.StatusOK || !strings.Contains(body, "Имя пользователя") {
		t.Errorf("GET /login = %d: %.200s; want the console's sign-in page", code, body)
	}
	if !strings.Contains(logs.String(), "web console at /") {
		t.Errorf("no 'web console at /' in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "bot polling") {
		t.Errorf("chathub console started a bot:\n%s", logs.String())
	}
	stopRun(t, cancel, done, logs.String)
}
