package telegram

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = logtest.Buffer

// newTestBot starts a fake server and a Bot on it (short poll timeout and
// retry delays, debug logs captured). At the end of the test the logs must
// not contain the token.
func newTestBot(t *testing.T, mod func(*Config)) (*Bot, *telegramtest.Server, *syncBuffer) {
	t.Helper()
	s := telegramtest.New(t)
	b, logs := botOn(t, s, mod)
	return b, s, logs
}

// botOn makes a Bot on an existing fake server (see newTestBot).
func botOn(t *testing.T, s *telegramtest.Server, mod func(*Config)) (*Bot, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		Token: s.Token(), APIURL: s.URL(), PollTimeout: time.Second,
		RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), s.Token()) {
			t.Errorf("token leaked into logs:\n%s", logs.String())
		}
	})
	return b, logs
}

// noToken fails the test when err mentions the token.
func noToken(t *testing.T, s *telegramtest.Server, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), s.Token()) {
		t.Fatalf("token leaked into error: %v", err)
	}
}

func chat(id string) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: id}
}

// recordingSink records delivered batches; fail, when set, decides an error
// per Deliver call (n counts calls from 1). With marker set, the batch's
// presses are handed to it around the call as the inbound pipeline does
// (dispatch.MarkPresses).
type recordingSink struct {
	mu      sync.Mutex
	batches [][]*messenger.Update
	calls   int
	fail    func(ctx context.Context, n int, batch []*messenger.Update) error
	marker  messenger.PressMarker
	signal  chan struct{}
}

func newSink() *recordingSink { return &recordingSink{signal: make(chan struct{}, 100)} }

func (r *recordingSink) Deliver(ctx context.Context, batch []*messenger.Update) error {
	r.mu.Lock()
	r.calls++
	n, fail := r.calls, r.fail
	r.mu.Unlock()
	var ends []func(bool)
	if r.marker != nil {
		for _, u := range batch {
			ends = append(ends, r.marker.BeginPress(u)) // a no-op for what it does not mark
		}
	}
	var err error
	if fail != nil {
		err = fail(ctx, n, batch)
	}
	for _, end := range ends {
		end(err == nil)
	}
	if err == nil {
		r.mu.Lock()
		r.batches = append(r.batches, batch)
		r.mu.Unlock()
	}
	select {
	case r.signal <- struct{}{}:
	default:
	}
	return err
}

// updates lists every successfully delivered update in order.
func (r *recordingSink) updates() []*messenger.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*messenger.Update
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func (r *recordingSink) deliverCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// waitUpdates waits until n updates were delivered successfully.
func (r *recordingSink) waitUpdates(t *testing.T, n int) []*messenger.Update {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := r.updates(); len(got) >= n {
			return got
		}
		select {
		case <-r.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %d updates; have %d", n, len(r.updates()))
		}
	}
}

// markingSink is a recordingSink that has b mark the presses it handles.
func markingSink(b *Bot) *recordingSink {
	s := newSink()
	s.marker = b
	return s
}

// marking wraps h in the middleware that has b mark the presses h
// handled (as the runtime's pipeline does).
func marking(b *Bot, h func(context.Context, *messenger.Update) error) func(context.Context, *messenger.Update) error {
	mw := dispatch.MarkPresses(func(messenger.ChatKey) messenger.PressMarker { return b })
	return mw(dispatch.HandlerFunc(h)).Handle
}

// runBot runs b.Run in the background; the returned stop cancels it and
// returns Run's error.
func runBot(t *testing.T, b *Bot, sink messenger.Sink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, sink) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
