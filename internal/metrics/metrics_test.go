package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

func TestSendResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{fmt.Errorf("send: %w", messenger.ErrBlocked), "blocked"},
		{fmt.Errorf("send: %w", &messenger.RateLimitError{RetryAfter: 3}), "rate_limited"},
		{fmt.Errorf("send: %w", messenger.ErrBadRequest), "bad_request"},
		{fmt.Errorf("send: %w", messenger.ErrTransient), "transient"},
		{errors.New("other"), "error"},
	}
	for _, tt := range tests {
		if got := SendResult(tt.err); got != tt.want {
			t.Errorf("SendResult(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

type errSender struct{ err error }

func (s errSender) Send(context.Context, messenger.OutMessage) (messenger.Sent, error) {
	return messenger.Sent{}, s.err
}

func TestCollectors(t *testing.T) {
	t.Parallel()
	m := New()
	h := m.Middleware()(dispatch.HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		switch u.Text {
		case "fail":
			return errors.New("db down")
		case "rejected":
			return fmt.Errorf("%w: integer out of range", messenger.ErrPermanent)
		case "panic":
			panic("bad")
		}
		return nil
	}))
	tg := messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}
	for _, text := range []string{"ok", "ok", "fail", "rejected"} {
		_ = h.Handle(context.Background(), &messenger.Update{Chat: tg, Text: text})
	}
	func() {
		defer func() { _ = recover() }()
		_ = h.Handle(context.Background(), &messenger.Update{Chat: tg, Text: "panic"})
	}()
	_, _ = m.Sender(messenger.VK, errSender{messenger.ErrBlocked}).Send(context.Background(), messenger.OutMessage{})
	d, _ := dispatch.New(dispatch.Config{Handler: h})
	m.WatchDispatcher(d.Stats())
	want := `
# HELP chathub_updates_total Inbound updates by platform and result (ok, error, rejected, panic).
# TYPE chathub_updates_total counter
chathub_updates_total{platform="telegram",result="error"} 1
chathub_updates_total{platform="telegram",result="ok"} 2
chathub_updates_total{platform="telegram",result="panic"} 1
chathub_updates_total{platform="telegram",result="rejected"} 1
# HELP chathub_sends_total Outbound messages by platform and result (ok, blocked, rate_limited, bad_request, transient, error).
# TYPE chathub_sends_total counter
chathub_sends_total{platform="vk",result="blocked"} 1
# HELP chathub_dispatch_queue_depth Updates waiting in the dispatcher's worker queues.
# TYPE chathub_dispatch_queue_depth gauge
chathub_dispatch_queue_depth 0
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
		"chathub_updates_total", "chathub_sends_total", "chathub_dispatch_queue_depth"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.latency); n != 1 {
		t.Fatalf("latency series = %d", n)
	}
}
