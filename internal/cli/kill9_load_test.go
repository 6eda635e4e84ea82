package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestKill9SilenceUnderLoad measures, for docs/BENCHMARKS.md ("Faults"),
// how long chats go without replies when `chathub run` is killed with
// SIGKILL under inbound traffic and restarted at once: 350 chats each
// write /help twice a second (700 updates/s, paced, open loop) for 10s,
// the process is killed at 3s. It prints the per-chat silence (the longest
// gap between two replies of a chat around the kill) and fails only when
// a reply is lost. Run it with
//
//	CHATHUB_FAULT_BENCH=1 go test -run TestKill9SilenceUnderLoad -v -count=1 ./internal/cli/
func TestKill9SilenceUnderLoad(t *testing.T) {
	if os.Getenv("CHATHUB_FAULT_BENCH") != "1" {
		t.Skip("a measurement: set CHATHUB_FAULT_BENCH=1")
	}
	storetest.SkipUnlessServices(t)
	for _, tc := range []struct {
		name     string
		sameHost bool
	}{{"same host", true}, {"elsewhere", false}} {
		t.Run(tc.name, func(t *testing.T) { measureKill9(t, tc.sameHost) })
	}
}

func measureKill9(t *testing.T, sameHost bool) {
	const (
		chats    = 350
		rate     = 700 // updates per second, all chats together
		duration = 10 * time.Second
		killAt   = 3 * time.Second
	)
	fake := telegramtest.New(t)
	prefix := storetest.Name(t, "kill9load")
	t.Cleanup(func() { cleanRedisPrefix(t, prefix) })
	dir := t.TempDir()
	tmpA, tmpB := filepath.Join(dir, "tmp-a"), filepath.Join(dir, "tmp-b")
	for _, d := range []string{tmpA, tmpB} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := startRun(t, fake, prefix, dir, "TMPDIR="+tmpA)
	// Every chat is known before the load starts.
	for i := range chats {
		fake.SendText(int64(5000+i), "/help")
	}
	for i := range chats {
		fake.WaitMessages(int64(5000+i), 1, 60*time.Second)
	}
	sent := make([]int, chats)
	start := time.Now()
	var killed, restarted time.Time
	for n := 0; ; n++ {
		at := start.Add(time.Duration(n) * time.Second / rate)
		if at.Sub(start) >= duration {
			break
		}
		time.Sleep(time.Until(at))
		i := n % chats
		fake.SendText(int64(5000+i), "/help")
		sent[i]++
		if killed.IsZero() && time.Since(start) >= killAt {
			killed = time.Now()
			c.kill9()
			if !sameHost {
				c.env[len(c.env)-1] = "TMPDIR=" + tmpB
			}
			c.start()
			restarted = time.Now()
		}
	}
	loadEnd := time.Now()
	for i := range chats {
		fake.WaitMessages(int64(5000+i), 1+sent[i], 90*time.Second)
	}
	replies := map[string][]time.Time{}
	for _, r := range fake.Requests("sendMessage") {
		replies[r.Params["chat_id"]] = append(replies[r.Params["chat_id"]], r.Time)
	}
	firstAfter := time.Time{}
	silences := make([]time.Duration, 0, chats)
	for i := range chats {
		times := replies[strconv.Itoa(5000+i)]
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		var worst time.Duration
		for k := 1; k < len(times); k++ {
			if times[k].Before(killed.Add(-time.Second)) || times[k-1].After(loadEnd) {
				continue
			}
			worst = max(worst, times[k].Sub(times[k-1]))
			if times[k].After(killed) && (firstAfter.IsZero() || times[k].Before(firstAfter)) {
				firstAfter = times[k]
			}
		}
		silences = append(silences, worst)
	}
	slices.Sort(silences)
	pct := func(p float64) time.Duration {
		return silences[int(p*float64(len(silences)-1))].Round(10 * time.Millisecond)
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	t.Logf("%d updates in %s (%.0f/s) over %d chats; kill -9 at %s, restart begun %s later (same host: %v)",
		total, loadEnd.Sub(start).Round(time.Millisecond), float64(total)/loadEnd.Sub(start).Seconds(), chats,
		killed.Sub(start).Round(time.Millisecond), restarted.Sub(killed).Round(time.Millisecond), sameHost)
	long := 0
	for _, s := range silences {
		if s > 2*time.Second {
			long++
		}
	}
	t.Logf("first reply after the kill: %s; per-chat silence around the kill (a chat writes every %s): p50 %s, p90 %s, p99 %s, max %s; %d chats silent over 2s",
		firstAfter.Sub(killed).Round(10*time.Millisecond), time.Duration(chats)*time.Second/rate,
		pct(0.5), pct(0.9), pct(0.99), pct(1), long)
	c.stop()
}
