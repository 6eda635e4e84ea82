package telegram

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestSendRetryResumesSplitMessage: a Send that fails part-way through a
// split message, retried with the same idempotency key, sends only what did
// not go out; the client sees every chunk once, in order, with the keyboard
// on the last.
func TestSendRetryResumesSplitMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("абв ", 3000) // 12,000 units: three chunks
	chunks := splitText(long, MaxTextLen)
	if len(chunks) != 3 {
		t.Fatalf("test text splits into %d chunks, want 3", len(chunks))
	}
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}}}}
	longMsg := messenger.OutMessage{Text: long, Keyboard: kb}
	const other = "Другой текст"
	tests := []struct {
		name string
		msg  messenger.OutMessage
		// fail injects the failure of the first attempt (nil: it succeeds).
		fail     func(s *telegramtest.Server)
		firstErr error // what the first Send's error is (errors.Is)
		// key is the idempotency key of both attempts ("" for none).
		key string
		// retry changes the second attempt's message or chat.
		retryText string
		retryChat string
		// want is every text the first chat shows afterwards, in order.
		want []string
		// retryCalls are the API calls the second attempt makes.
		retryCalls map[string]int
	}{
		{"chunk 2 fails: the retry sends chunks 2 and 3", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 500, 0) }, messenger.ErrTransient,
			"501/0", "", "", chunks, map[string]int{"sendMessage": 2}},
		{"chunk 3 rate limited: the retry sends chunk 3", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 2, 429, 3) }, &messenger.RateLimitError{},
			"502/0", "", "", chunks, map[string]int{"sendMessage": 1}},
		{"connection dropped on chunk 2", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 0, 0) }, messenger.ErrTransient,
			"503/1", "", "", chunks, map[string]int{"sendMessage": 2}},
		{"chunk 1 fails: the retry sends everything", longMsg,
			func(s *telegramtest.Server) { s.FailNext("sendMessage", 502, 0) }, messenger.ErrTransient,
			"504/0", "", "", chunks, map[string]int{"sendMessage": 3}},
		{"already sent: the retry sends nothing", longMsg, nil, nil,
			"505/0", "", "", chunks, map[string]int{"sendMessage": 0}},
		{"without a key the retry repeats chunk 1", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 500, 0) }, messenger.ErrTransient,
			"", "", "", append([]string{chunks[0]}, chunks...), map[string]int{"sendMessage": 3}},
		{"same key, other text: a new message", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 500, 0) }, messenger.ErrTransient,
			"506/0", other, "", []string{chunks[0], other}, map[string]int{"sendMessage": 1}},
		{"same key, other chat: a new message", longMsg,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 500, 0) }, messenger.ErrTransient,
			"507/0", "", "21", chunks[:1], map[string]int{"sendMessage": 3}},
		{"keyboard attach fails: the retry only attaches it",
			messenger.OutMessage{Text: "Вопрос?", Keyboard: kb, RemoveKeyboard: true},
			func(s *telegramtest.Server) { s.FailNext("editMessageReplyMarkup", 500, 0) }, messenger.ErrTransient,
			"508/0", "", "", []string{"Вопрос?"}, map[string]int{"sendMessage": 0, "editMessageReplyMarkup": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(20)
			s.AddUser(21)
			ctx := context.Background()
			if tt.key != "" {
				ctx = messenger.WithIdempotencyKey(ctx, tt.key)
			}
			if tt.fail != nil {
				tt.fail(s)
			}
			msg := tt.msg
			msg.Chat = chat("20")
			_, err := b.Send(ctx, msg)
			switch want := tt.firstErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("first Send: %v", err)
				}
			case *messenger.RateLimitError:
				if !errors.As(err, &want) || want.RetryAfter != 3*time.Second {
					t.Fatalf("first Send: %v, want a rate limit of 3s", err)
				}
			default:
				if !errors.Is(err, tt.firstErr) {
					t.Fatalf("first Send: %v, want %v", err, tt.firstErr)
				}
			}
			before := callCounts(s, tt.retryCalls)
			if tt.retryText != "" {
				msg.Text = tt.retryText
			}
			if tt.retryChat != "" {
				msg.Chat = chat(tt.retryChat)
			}
			got, err := b.Send(ctx, msg)
			if err != nil {
				t.Fatalf("retried Send: %v", err)
			}
			for m, n := range tt.retryCalls {
				if d := s.Calls(m) - before[m]; d != n {
					t.Errorf("the retry called %s %d times, want %d", m, d, n)
				}
			}
			msgs := s.Messages(20)
			texts := make([]string, len(msgs))
			for i, m := range msgs {
				texts[i] = m.Text
			}
			if !reflect.DeepEqual(texts, tt.want) {
				t.Fatalf("chat shows %d messages %v, want %d", len(texts), lens(texts), len(tt.want))
			}
			target := s.Messages(20)
			if tt.retryChat != "" {
				target = s.Messages(21)
			}
			lastMsg := target[len(target)-1]
			if got.MessageID != strconv.Itoa(lastMsg.MessageID) {
				t.Errorf("Sent.MessageID = %s, want the last message's %d", got.MessageID, lastMsg.MessageID)
			}
			if !lastMsg.ReplyMarkup.IsInline() {
				t.Errorf("last message has no inline keyboard: %+v", lastMsg.ReplyMarkup)
			}
			for _, m := range target[:len(target)-1] {
				if m.ReplyMarkup.IsInline() {
					t.Errorf("message %d before the last has the inline keyboard", m.MessageID)
				}
			}
		})
	}
}

func callCounts(s *telegramtest.Server, methods map[string]int) map[string]int {
	out := map[string]int{}
	for m := range methods {
		out[m] = s.Calls(m)
	}
	return out
}

func lens(texts []string) []int {
	out := make([]int, len(texts))
	for i, s := range texts {
		out[i] = textLen(s)
	}
	return out
}

// TestSendPartialFailureNamesTheChunk: the error of a split message says
// which chunk failed and keeps its class.
func TestSendPartialFailureNamesTheChunk(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(22)
	s.FailAfter("sendMessage", 1, 403, 0)
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("22"), Text: strings.Repeat("слово ", 1000)})
	var apiErr *APIError
	if !errors.Is(err, messenger.ErrBlocked) || !errors.As(err, &apiErr) || apiErr.Code != 403 ||
		!strings.Contains(err.Error(), "chunk 2 of 2 (1 delivered)") {
		t.Fatalf("err = %v", err)
	}
	noToken(t, s, err)
}

// TestSendRetryAfterTheRecordExpired: an hour later the same key is a new
// message (the record is bounded in time).
func TestSendRetryAfterTheRecordExpired(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	b.clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.AddUser(23)
	ctx := messenger.WithIdempotencyKey(context.Background(), "900/0")
	msg := messenger.OutMessage{Chat: chat("23"), Text: "Спасибо!"}
	for i, step := range []time.Duration{0, chunkLogTTL - time.Second, chunkLogTTL} {
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
		if _, err := b.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		want := []int{1, 1, 2}[i]
		if n := len(s.Messages(23)); n != want {
			t.Fatalf("after send %d the chat has %d messages, want %d", i+1, n, want)
		}
	}
}

func TestChunkLog(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sum := func(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }
	at := func(d time.Duration, s string, delivered int) progress {
		return progress{sum: sum(s), delivered: delivered, at: t0.Add(d)}
	}
	tests := []struct {
		name string
		puts map[string]progress // in key order a, b, c
		get  string
		sum  string
		now  time.Duration
		want int // delivered; -1 for a miss
		left int // entries afterwards
	}{
		{"hit", map[string]progress{"a": at(0, "x", 2)}, "a", "x", time.Minute, 2, 1},
		{"other content misses and keeps the entry", map[string]progress{"a": at(0, "x", 2)}, "a", "y", 0, -1, 1},
		{"expired misses and is dropped", map[string]progress{"a": at(0, "x", 2)}, "a", "x", time.Hour, -1, 0},
		{"the oldest write is evicted beyond the size",
			map[string]progress{"a": at(0, "x", 1), "b": at(time.Second, "x", 2), "c": at(2*time.Second, "x", 3)}, "a", "x", 0, -1, 2},
		{"the newest survive eviction",
			map[string]progress{"a": at(0, "x", 1), "b": at(time.Second, "x", 2), "c": at(2*time.Second, "x", 3)}, "c", "x", 0, 3, 2},
		{"a write drops expired entries",
			map[string]progress{"a": at(0, "x", 1), "b": at(time.Hour, "x", 2)}, "b", "x", time.Hour, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newChunkLog(2, time.Hour)
			for _, k := range []string{"a", "b", "c"} {
				if p, ok := tt.puts[k]; ok {
					l.put(k, p)
				}
			}
			p, ok := l.get(tt.get, sum(tt.sum), t0.Add(tt.now))
			got := -1
			if ok {
				got = p.delivered
			}
			if got != tt.want || l.len() != tt.left {
				t.Fatalf("get = %d, entries %d; want %d, %d", got, l.len(), tt.want, tt.left)
			}
		})
	}
}
