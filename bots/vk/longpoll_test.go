package vk

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// memTS is an in-memory TSStore.
type memTS struct {
	mu sync.Mutex
	ts map[int]string
}

func (m *memTS) LoadTS(_ context.Context, group int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ts[group], nil
}

func (m *memTS) SaveTS(_ context.Context, group int, ts string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ts == nil {
		m.ts = map[int]string{}
	}
	m.ts[group] = ts
	return nil
}

// startPolling runs b and waits until it holds a long-poll key.
func startPolling(t *testing.T, srv *vktest.Server, b *Bot, sink messenger.Sink) func() error {
	t.Helper()
	calls := srv.Calls("groups.getLongPollServer")
	stop := runBot(t, b, sink)
	if !srv.WaitCalls("groups.getLongPollServer", calls+1, waitLong) {
		t.Fatal("Run never asked for a long-poll server")
	}
	return stop
}

func ids(ups []*messenger.Update) string {
	var s []string
	for _, u := range ups {
		s = append(s, u.ID)
	}
	return strings.Join(s, ",")
}

func TestRunDeliversInOrder(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	sink := newSink()
	stop := startPolling(t, srv, b, sink)
	want := []string{
		srv.SendText(31, "первый", ""), srv.SendText(32, "другой", ""), srv.SendText(31, "второй", ""),
	}
	got := sink.waitUpdates(t, 3)
	if ids(got) != strings.Join(want, ",") || got[0].Text != "первый" || got[2].Text != "второй" {
		t.Fatalf("delivered %s, want %v", ids(got), want)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}

func TestRunAdvancesOnlyAfterDeliver(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	sink := newSink()
	sink.fail = func(call int, _ []*messenger.Update) error {
		if call <= 2 {
			return errors.New("store down")
		}
		return nil
	}
	startPolling(t, srv, b, sink)
	a := srv.MessageEvent(vktest.InMessage{FromID: 41, Text: "a"})
	bEv := srv.MessageEvent(vktest.InMessage{FromID: 41, Text: "b"})
	srv.Push(a, bEv) // one batch
	first, second := a.EventID, bEv.EventID
	got := sink.waitUpdates(t, 2)
	if ids(got) != first+","+second || sink.callCount() != 3 {
		t.Fatalf("delivered %s in %d calls", ids(got), sink.callCount())
	}
	if !srv.WaitCalls("a_check", 2, waitLong) {
		t.Fatal("no poll after the batch")
	}
	// Every poll before the accepted delivery asked from ts 0; the next from 2.
	polls := srv.Polls()
	if polls[0].TS != "0" || polls[len(polls)-1].TS != "2" {
		t.Fatalf("polls = %+v", polls)
	}
	for _, p := range polls {
		if p.TS != "0" && p.TS != "2" {
			t.Fatalf("unexpected position in %+v", polls)
		}
	}
}

func TestRunLongPollFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failed     int
		reconnects int    // getLongPollServer calls after the failure
		pending    bool   // an event pushed with the failure is still delivered
		log        string // what the adapter logs
	}{
		{failed: 1, reconnects: 0, log: "history lost"},
		{failed: 2, reconnects: 1, pending: true, log: "key expired"},
		{failed: 3, reconnects: 1, log: "information lost"},
	}
	for _, tt := range tests {
		t.Run(string(rune('0'+tt.failed)), func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b, logs := newBot(t, srv, nil)
			sink := newSink()
			startPolling(t, srv, b, sink)
			want := []string{srv.SendText(51, "before", "")}
			sink.waitUpdates(t, 1)
			waitPoll(t, srv, "1") // the bot now waits in a poll from ts 1
			srv.FailLongPoll(tt.failed)
			if tt.pending {
				want = append(want, srv.SendText(51, "during", ""))
			}
			if !srv.WaitPollAfterFailure(waitLong) {
				t.Fatal("no poll after the failure")
			}
			want = append(want, srv.SendText(51, "after", ""))
			if got := sink.waitUpdates(t, len(want)); ids(got) != strings.Join(want, ",") {
				t.Fatalf("after failed=%d delivered %s, want %v; polls %+v", tt.failed, ids(got), want, srv.Polls())
			}
			if c := srv.Calls("groups.getLongPollServer"); c != 1+tt.reconnects {
				t.Fatalf("%d getLongPollServer calls, want %d", c, 1+tt.reconnects)
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Fatalf("logs lack %q:\n%s", tt.log, logs)
			}
		})
	}
}

// waitPoll waits until the bot polled from position ts.
func waitPoll(t *testing.T, srv *vktest.Server, ts string) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		for _, p := range srv.Polls() {
			if p.TS == ts {
				return
			}
		}
		srv.WaitCalls("a_check", srv.Calls("a_check")+1, 20*time.Millisecond)
	}
	t.Fatalf("no poll from ts %s: %+v", ts, srv.Polls())
}

func TestRunCancelMidBatchResumes(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	store := &memTS{}
	b1, _ := newBot(t, srv, func(c *Config) { c.TSStore = store })
	entered := make(chan struct{}, 10)
	blocking := newSink()
	blocking.fail = func(int, []*messenger.Update) error {
		entered <- struct{}{}
		time.Sleep(20 * time.Millisecond)
		return errors.New("shutting down")
	}
	stop := startPolling(t, srv, b1, blocking)
	first := srv.SendText(61, "one", "")
	second := srv.SendText(62, "two", "")
	select {
	case <-entered:
	case <-time.After(waitLong):
		t.Fatal("no delivery")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ts, _ := store.LoadTS(context.Background(), srv.GroupID()); ts != "0" {
		t.Fatalf("saved ts %q, want 0 (batch not acknowledged)", ts)
	}
	b2, _ := newBot(t, srv, func(c *Config) { c.TSStore = store })
	sink := newSink()
	startPolling(t, srv, b2, sink)
	if got := sink.waitUpdates(t, 2); ids(got) != first+","+second {
		t.Fatalf("resumed with %s", ids(got))
	}
	if !srv.WaitCalls("a_check", len(srv.Polls())+1, waitLong) {
		t.Fatal("no poll after the resumed batch")
	}
	if ts, _ := store.LoadTS(context.Background(), srv.GroupID()); ts != "2" {
		t.Fatalf("saved ts %q, want 2", ts)
	}
}

func TestRunResolvesGroupAndRetriesTransient(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, logs := newBot(t, srv, func(c *Config) { c.GroupID = 0 })
	srv.FailNext("groups.getLongPollServer", 10)
	sink := newSink()
	runBot(t, b, sink)
	if !srv.WaitCalls("groups.getLongPollServer", 2, waitLong) {
		t.Fatal("transient failure not retried")
	}
	srv.SendText(71, "hi", "")
	sink.waitUpdates(t, 1)
	if b.GroupID() != srv.GroupID() || srv.Calls("groups.getById") != 1 {
		t.Fatalf("group %d, %d getById calls", b.GroupID(), srv.Calls("groups.getById"))
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("retry not logged:\n%s", logs)
	}
}

func TestRunPermanentErrorEnds(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	srv.FailNext("groups.getLongPollServer", 5)
	err := b.Run(context.Background(), newSink())
	if ErrorCode(err) != 5 || strings.Contains(err.Error(), srv.Token()) {
		t.Fatalf("Run = %v, want the auth error", err)
	}
	cb, _ := newBot(t, srv, func(c *Config) {
		c.CallbackPath, c.CallbackSecret, c.ConfirmationCode = "/vk", "s", "c"
	})
	if err := cb.Run(context.Background(), newSink()); !errors.Is(err, ErrCallbackMode) {
		t.Fatalf("callback-mode Run = %v", err)
	}
}

// leakyTransport fails every request with an error that quotes the token,
// like a proxy or a misconfigured URL might.
type leakyTransport struct{ token string }

func (l leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: lookup for " + r.URL.Path + "?access_token=" + l.token + "&v=5.131 (bearer " + l.token + ")")
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, logs := newBot(t, srv, func(c *Config) { c.HTTPClient = &http.Client{Transport: leakyTransport{srv.Token()}} })
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: "x"})
	if err == nil || !errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), srv.Token()) || !strings.Contains(err.Error(), "access_token=***") {
		t.Fatalf("token in error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, newSink()) }()
	deadline := time.Now().Add(waitLong)
	for !strings.Contains(logs.String(), "retrying") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	b.translate(context.Background(), toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 5, Text: "x"})}))
	out := logs.String()
	if !strings.Contains(out, "users.get failed") || !strings.Contains(out, "retrying") || strings.Contains(out, srv.Token()) {
		t.Fatalf("logs:\n%s", out)
	}
	if _, err := New(Config{Token: srv.Token(), Wait: 500}); err == nil || strings.Contains(err.Error(), srv.Token()) {
		t.Fatalf("config error %v", err)
	}
}
