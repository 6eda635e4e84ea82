package vk

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

const waitLong = 5 * time.Second

// logBuf collects log output, safe for concurrent writes.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newBot builds a Bot against srv with debug logs captured and short waits.
func newBot(t *testing.T, srv *vktest.Server, mod func(*Config)) (*Bot, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	cfg := Config{
		Token: srv.Token(), GroupID: srv.GroupID(), APIURL: srv.URL(), Wait: 1, HTTPClient: srv.Client(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.backoffMin, b.backoffMax = 10*time.Millisecond, 40*time.Millisecond
	b.ratePause = 10 * time.Millisecond
	t.Cleanup(func() {
		if strings.Contains(logs.String(), srv.Token()) {
			t.Errorf("the token leaked into the logs:\n%s", logs)
		}
	})
	return b, logs
}

// recSink records delivered batches; fail decides the answer to each call.
type recSink struct {
	mu      sync.Mutex
	calls   int
	batches [][]*messenger.Update
	fail    func(call int, batch []*messenger.Update) error
	changed chan struct{}
}

func newSink() *recSink { return &recSink{changed: make(chan struct{}, 1000)} }

func (s *recSink) Deliver(ctx context.Context, batch []*messenger.Update) error {
	s.mu.Lock()
	s.calls++
	call, fail := s.calls, s.fail
	s.mu.Unlock()
	var err error
	if fail != nil {
		err = fail(call, batch)
	}
	s.mu.Lock()
	if err == nil {
		s.batches = append(s.batches, batch)
	}
	s.mu.Unlock()
	s.changed <- struct{}{}
	return err
}

// updates returns every accepted update in order.
func (s *recSink) updates() []*messenger.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*messenger.Update
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func (s *recSink) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// waitUpdates waits until n updates were accepted.
func (s *recSink) waitUpdates(t *testing.T, n int) []*messenger.Update {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		if u := s.updates(); len(u) >= n {
			return u
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("got %d updates (%s), want %d", len(s.updates()), ids(s.updates()), n)
		}
	}
}

// runBot starts b.Run in the background; the returned func stops it and
// returns Run's result.
func runBot(t *testing.T, b *Bot, sink messenger.Sink) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, sink) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitLong):
				t.Error("Run did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// groupEvent converts a fake event into the vksdk envelope the adapter reads.
func groupEvent(t *testing.T, ev vktest.Event) events.GroupEvent {
	t.Helper()
	var ge events.GroupEvent
	if err := json.Unmarshal(ev.Body(""), &ge); err != nil {
		t.Fatal(err)
	}
	return ge
}

func vkChat(id string) messenger.ChatKey { return messenger.ChatKey{Platform: messenger.VK, ID: id} }
