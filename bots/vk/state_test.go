package vk

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestRunStateAndPermanentErrors: State follows what the long-poll intake
// saw: ok once VK accepted the token and community, unauthorized when
// getLongPollServer refused the token (5, 27, 28: Run ends), failed on
// another permanent error (Run ends), unreachable while a transient failure
// is retried.
func TestRunStateAndPermanentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		code    int
		want    messenger.BotState
		stopped bool
	}{
		{"user authorization failed", 5, messenger.BotUnauthorized, true},
		{"group authorization failed", 27, messenger.BotUnauthorized, true},
		{"application authorization failed", 28, messenger.BotUnauthorized, true},
		{"access denied", 15, messenger.BotFailed, true},
		{"internal server error", 10, messenger.BotUnreachable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b, _ := newBot(t, srv, func(c *Config) { c.Wait = 1 })
			if b.State() != messenger.BotStarting {
				t.Fatalf("state before Run = %s", b.State())
			}
			srv.FailNext("groups.getLongPollServer", tt.code)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx, newSink()) }()
			if tt.stopped {
				select {
				case err := <-done:
					if ErrorCode(err) != tt.code {
						t.Fatalf("Run = %v, want code %d", err, tt.code)
					}
				case <-time.After(waitLong):
					t.Fatal("Run did not stop on a permanent error")
				}
				if got := b.State(); got != tt.want {
					t.Fatalf("state = %s, want %s", got, tt.want)
				}
				return
			}
			deadline := time.Now().Add(waitLong)
			for b.State() != tt.want {
				if time.Now().After(deadline) {
					t.Fatalf("state = %s, want %s while retrying", b.State(), tt.want)
				}
				time.Sleep(time.Millisecond)
			}
			// The retry reaches VK: ok.
			for b.State() != messenger.BotOK {
				if time.Now().After(deadline.Add(waitLong)) {
					t.Fatalf("state = %s after the retry, want ok", b.State())
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// TestDeliverRetriedAtRecovery: a batch refused because a backing service
// is down (*messenger.OutageError) is delivered again when the service
// answers, not at the end of the backoff (an hour here), and is not logged
// as a warning.
func TestDeliverRetriedAtRecovery(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, logs := newBot(t, srv, nil)
	b.backoffMin, b.backoffMax = time.Hour, time.Hour
	recovered := make(chan struct{})
	var mu sync.Mutex
	down := true
	sink := newSink()
	sink.fail = func(int, []*messenger.Update) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return &messenger.OutageError{Recovered: recovered, Err: errors.New("Redis is unreachable")}
		}
		return nil
	}
	startPolling(t, srv, b, sink)
	srv.SendText(51, "привет", "")
	deadline := time.Now().Add(waitLong)
	for sink.callCount() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the batch was never delivered")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	close(recovered)
	sink.waitUpdates(t, 1)
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("outage failure logged as a warning:\n%s", logs)
	}
}
