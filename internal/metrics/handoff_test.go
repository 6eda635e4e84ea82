package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chathub/chathub/internal/handoff"
)

// fakeHandoffStats returns stats or err and records its calls.
type fakeHandoffStats struct {
	mu    sync.Mutex
	stats handoff.Stats
	err   error
	calls int
	since time.Time
}

func (f *fakeHandoffStats) Stats(_ context.Context, since time.Time) (handoff.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.since = since
	return f.stats, f.err
}

func TestHandoffCollector(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	src := &fakeHandoffStats{stats: handoff.Stats{
		Open: 5, Waiting: 2, OverSLA: 1,
		Overall: handoff.Quantiles{Count: 4, P50: 90 * time.Second, P90: 10 * time.Minute},
		PerManager: []handoff.ManagerQuantiles{
			{Manager: "anna", Quantiles: handoff.Quantiles{Count: 3, P50: time.Minute, P90: 2 * time.Minute}},
			{Manager: "oleg", Quantiles: handoff.Quantiles{Count: 1, P50: 10 * time.Minute, P90: 10 * time.Minute}},
		},
	}}
	clock := now
	c := newHandoffCollector(src, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return clock })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want := `
# HELP chathub_handoff_first_replies Hand-off requests answered by a manager over the last 24h0m0s.
# TYPE chathub_handoff_first_replies gauge
chathub_handoff_first_replies 4
# HELP chathub_handoff_first_reply_seconds Time from a hand-off request to a manager's first reply, by quantile, over the last 24h0m0s.
# TYPE chathub_handoff_first_reply_seconds gauge
chathub_handoff_first_reply_seconds{quantile="0.5"} 90
chathub_handoff_first_reply_seconds{quantile="0.9"} 600
# HELP chathub_handoff_manager_first_replies Hand-off requests answered, by the manager who answered first, over the last 24h0m0s.
# TYPE chathub_handoff_manager_first_replies gauge
chathub_handoff_manager_first_replies{manager="anna"} 3
chathub_handoff_manager_first_replies{manager="oleg"} 1
# HELP chathub_handoff_manager_first_reply_seconds Time from a hand-off request to its manager's first reply, by manager and quantile, over the last 24h0m0s.
# TYPE chathub_handoff_manager_first_reply_seconds gauge
chathub_handoff_manager_first_reply_seconds{manager="anna",quantile="0.5"} 60
chathub_handoff_manager_first_reply_seconds{manager="anna",quantile="0.9"} 120
chathub_handoff_manager_first_reply_seconds{manager="oleg",quantile="0.5"} 600
chathub_handoff_manager_first_reply_seconds{manager="oleg",quantile="0.9"} 600
# HELP chathub_handoff_open Live hand-off requests (waiting for a manager or taken).
# TYPE chathub_handoff_open gauge
chathub_handoff_open 5
# HELP chathub_handoff_over_sla Live hand-off requests whose client has waited for an answer longer than HANDOFF_SLA.
# TYPE chathub_handoff_over_sla gauge
chathub_handoff_over_sla 1
# HELP chathub_handoff_stats_up 1 when the hand-off numbers were read from the database at this scrape, 0 when the reading failed.
# TYPE chathub_handoff_stats_up gauge
chathub_handoff_stats_up 1
# HELP chathub_handoff_waiting Live hand-off requests no manager took yet.
# TYPE chathub_handoff_waiting gauge
chathub_handoff_waiting 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if !src.since.Equal(now.Add(-HandoffReplyWindow)) {
		t.Fatalf("read since %v, want %v", src.since, now.Add(-HandoffReplyWindow))
	}

	// A scrape within the cache reuses the reading; a later one reads again.
	clock = now.Add(5 * time.Second)
	if _, err := reg.Gather(); err != nil || src.calls != 1 {
		t.Fatalf("second scrape within the cache: %d readings (err %v), want 1", src.calls, err)
	}
	src.mu.Lock()
	src.err = errors.New("db down")
	src.mu.Unlock()
	clock = now.Add(time.Minute)
	down := `
# HELP chathub_handoff_stats_up 1 when the hand-off numbers were read from the database at this scrape, 0 when the reading failed.
# TYPE chathub_handoff_stats_up gauge
chathub_handoff_stats_up 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(down)); err != nil {
		t.Fatal(err)
	}
	if src.calls != 2 {
		t.Fatalf("%d readings, want 2", src.calls)
	}
}

func TestHandoffCollectorNoReplies(t *testing.T) {
	t.Parallel()
	m := New()
	m.WatchHandoffs(&fakeHandoffStats{stats: handoff.Stats{Open: 1, Waiting: 1}}, nil)
	if n := testutil.CollectAndCount(m.Registry, "chathub_handoff_first_reply_seconds"); n != 0 {
		t.Fatalf("%d quantile series without replies, want none", n)
	}
	if n := testutil.CollectAndCount(m.Registry, "chathub_handoff_open", "chathub_handoff_first_replies"); n != 2 {
		t.Fatalf("%d series, want open and first_replies", n)
	}
}
