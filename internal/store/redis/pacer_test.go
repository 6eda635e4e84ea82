package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
)

func TestChatPacer(t *testing.T) {
	t.Parallel()
	cases := []suiteCase{
		{"OneMessagePerIntervalAcrossProcesses", testPacerSpacing},
		{"ChatsAndPacersAreIndependent", testPacerIndependence},
	}
	runSuite(t, limiterBackends, cases)
}

// twoPacers returns the pacer name in two processes on one prefix.
func twoPacers(t *testing.T, c goredis.UniversalClient, name string, interval time.Duration) (*ChatPacer, *ChatPacer) {
	t.Helper()
	prefix := newTestStore(t, c, Config{}).Config().Prefix
	var out [2]*ChatPacer
	for i := range out {
		p, err := process(t, c, prefix).ChatPacer(name, interval)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = p
	}
	return out[0], out[1]
}

func testPacerSpacing(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	const interval = 300 * time.Millisecond
	a, b := twoPacers(t, c, "telegram:1", interval)
	chat := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	start := time.Now()
	if ok, _, err := a.AllowChat(ctx, chat); err != nil || !ok {
		t.Fatalf("first message to the chat refused: %v, %v", ok, err)
	}
	ok, retry, err := b.AllowChat(ctx, chat)
	if err != nil || ok || retry <= 0 || retry > interval {
		t.Fatalf("second message from another process at once = %v, retry %s, %v; want refused for ≤ %s", ok, retry, err, interval)
	}
	time.Sleep(retry + 150*time.Millisecond) // the embedded server's clock ticks coarsely
	if ok, _, err := b.AllowChat(ctx, chat); err != nil || !ok {
		t.Fatalf("message %s after the first refused: %v, %v", time.Since(start), ok, err)
	}
	if ok, _, _ := a.AllowChat(ctx, chat); ok {
		t.Fatal("the slot taken by the other process was granted again")
	}
}

func testPacerIndependence(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, _ := twoPacers(t, c, "telegram:1", time.Minute)
	chat := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	other := messenger.ChatKey{Platform: messenger.Telegram, ID: "43"}
	vkChat := messenger.ChatKey{Platform: messenger.VK, ID: "42"}
	for _, k := range []messenger.ChatKey{chat, other, vkChat} {
		if ok, _, err := a.AllowChat(ctx, k); err != nil || !ok {
			t.Fatalf("first message to %s refused: %v, %v", k, ok, err)
		}
	}
	second, err := New(c, Config{Prefix: a.keys.prefix})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := second.ChatPacer("telegram:2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := p2.AllowChat(ctx, chat); err != nil || !ok {
		t.Fatalf("another bot's pacer refused the chat: %v, %v", ok, err)
	}
	if _, _, err := a.AllowChat(ctx, messenger.ChatKey{Platform: messenger.Telegram}); err == nil {
		t.Fatal("a chat without an id was accepted")
	}
}

func TestChatPacerConfig(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, embeddedRedis(t), Config{})
	tests := []struct {
		name     string
		bucket   string
		interval time.Duration
	}{
		{"empty name", "", time.Second},
		{"braces", "tele{gram}", time.Second},
		{"no interval", "telegram:1", 0},
		{"sub-millisecond", "telegram:1", time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.ChatPacer(tt.bucket, tt.interval); err == nil {
				t.Fatalf("ChatPacer(%q, %s) accepted", tt.bucket, tt.interval)
			}
		})
	}
}
