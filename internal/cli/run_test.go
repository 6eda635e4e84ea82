package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func TestRunNeedsABot(t *testing.T) {
	t.Parallel()
	code, _, errOut := runMain(t, map[string]string{"SCENARIOS_DIR": repoPath(t, "scenarios")}, "", "run")
	if code != 2 || !strings.Contains(errOut, "no bot configured: set TELEGRAM_TOKEN") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestRunServesAndStops runs `chathub run` against the fake Bot API: a
// client's /start is answered, the probes answer, and cancellation stops it.
func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	fake := telegramtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := "127.0.0.1:" + freePort(t)
	env := map[string]string{
		"SCENARIOS_DIR": repoPath(t, "scenarios"), "DATABASE_URL": filepath.Join(t.TempDir(), "c.db"),
		"TELEGRAM_TOKEN": fake.Token(), "TELEGRAM_API_URL": fake.URL(), "HTTP_ADDR": addr, "LOG_LEVEL": "error",
	}
	done := make(chan int, 1)
	go func() {
		var out strings.Builder
		done <- Main(ctx, &Env{Args: []string{"run"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard,
			Getenv: func(k string) string { return env[k] }})
	}()
	fake.SendText(77, "/start")
	msgs := fake.WaitMessages(77, 1, 10*time.Second)
	if len(msgs) == 0 || !strings.Contains(msgs[0].Text, "Согласны") {
		t.Fatalf("bot replies: %+v", msgs)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": `"ready":true`,
		"/metrics": `chathub_updates_total{platform="telegram",result="ok"} 1`} {
		// The reply leaves before the update is counted: poll briefly.
		var code int
		var body []byte
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if code = resp.StatusCode; code == 200 && strings.Contains(string(body), want) {
				break
			}
		}
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s = %d, want %q in %.300s", path, code, want, body)
		}
	}
	stopRun(t, cancel, done, nil)
}

// stopRun cancels a `chathub run` started in a goroutine and waits for its
// exit code on done: it must exit 0 within 30 s (log, when set, gives
// what the run logged, shown on failure).
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan int, log func() string) {
	t.Helper()
	cancel()
	select {
	case code := <-done:
		if code != 0 && log != nil {
			t.Fatalf("run exited %d: %s", code, log())
		}
		if code != 0 {
			t.Fatalf("run exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
