package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

func TestSendErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code      int
		want      error
		rateLimit bool
	}{
		{6, messenger.ErrTransient, true},
		{9, messenger.ErrTransient, true},
		{29, messenger.ErrTransient, true},
		{10, messenger.ErrTransient, false},
		{900, messenger.ErrBlocked, false},
		{901, messenger.ErrBlocked, false},
		{902, messenger.ErrBlocked, false},
		{18, messenger.ErrBlocked, false},
		{936, messenger.ErrBlocked, false},
		{911, messenger.ErrBadRequest, false},
		{914, messenger.ErrTooLong, false},
		{943, messenger.ErrBadRequest, false},
		{944, messenger.ErrBadRequest, false},
		{100, messenger.ErrBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b, _ := newBot(t, srv, nil)
			tries := 1
			if tt.rateLimit { // paused and retried, then given up
				tries += rateLimitRetries
			}
			for range tries {
				srv.FailNext("messages.send", tt.code)
			}
			_, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: "Привет"})
			if got := srv.Calls("messages.send"); got != tries {
				t.Fatalf("%d calls, want %d", got, tries)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, other := range []error{messenger.ErrTransient, messenger.ErrBlocked, messenger.ErrBadRequest, messenger.ErrTooLong} {
				if other != tt.want && errors.Is(err, other) && !(tt.want == messenger.ErrTooLong && other == messenger.ErrBadRequest) {
					t.Fatalf("err = %v is also %v", err, other)
				}
			}
			var rl *messenger.RateLimitError
			if got := errors.As(err, &rl); got != tt.rateLimit || (got && rl.RetryAfter != time.Second) {
				t.Fatalf("rate limit = %v (%+v), want %v with 1s", got, rl, tt.rateLimit)
			}
			var aerr *api.Error
			if !errors.As(err, &aerr) || int(aerr.Code) != tt.code || ErrorCode(err) != tt.code {
				t.Fatalf("api error lost: %v", err)
			}
			if !strings.Contains(err.Error(), "messages.send to 5") || strings.Contains(err.Error(), srv.Token()) {
				t.Fatalf("err text %q", err)
			}
		})
	}
}

func TestSendUnreachableUser(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	srv.SetUnreachable(8, 901)
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("8"), Text: "x"})
	if !errors.Is(err, messenger.ErrBlocked) {
		t.Fatalf("err = %v", err)
	}
}

func TestSendNetworkErrorIsTransient(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, func(c *Config) { c.APIURL = dead.URL + "/method/" })
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: "x"})
	if !errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("err = %v, want transient", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "x"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestSendRejectsBadRequests(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	for _, msg := range []messenger.OutMessage{
		{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "5"}, Text: "x"},
		{Chat: vkChat("2000000001"), Text: "x"},
		{Chat: vkChat("abc"), Text: "x"},
		{Chat: vkChat("5"), Text: "  "},
	} {
		if _, err := b.Send(context.Background(), msg); !errors.Is(err, messenger.ErrBadRequest) {
			t.Errorf("%+v: err = %v", msg, err)
		}
	}
	if srv.Calls("messages.send") != 0 {
		t.Fatal("bad requests reached VK")
	}
}

// lossyTransport forwards requests but loses the answer of the first
// messages.send: VK delivered, the client saw a network error.
type lossyTransport struct {
	next http.RoundTripper
	lost atomic.Int32
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/messages.send") && l.lost.Add(1) == 1 {
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

func TestSendRetryDeliversOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"idempotency key", messenger.WithIdempotencyKey(context.Background(), "upd-1/0")},
		{"no key (pending nonce)", context.Background()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			lossy := &lossyTransport{next: srv.Client().Transport}
			b, _ := newBot(t, srv, func(c *Config) { c.HTTPClient = &http.Client{Transport: lossy} })
			msg := messenger.OutMessage{Chat: vkChat("5"), Text: "Как вас зовут?"}
			if _, err := b.Send(tt.ctx, msg); !errors.Is(err, messenger.ErrTransient) {
				t.Fatalf("first send: %v, want transient", err)
			}
			sent, err := b.Send(tt.ctx, msg) // the retry
			if err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages(5)
			if len(msgs) != 1 || srv.Calls("messages.send") != 2 || sent.MessageID != fmt.Sprint(msgs[0].ID) {
				t.Fatalf("delivered %d times in %d calls (sent %+v)", len(msgs), srv.Calls("messages.send"), sent)
			}
			// Later replies with the same text are new messages.
			for _, ctx := range []context.Context{messenger.WithIdempotencyKey(context.Background(), "upd-2/0"), context.Background()} {
				if _, err := b.Send(ctx, msg); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(srv.Messages(5)); got != 3 {
				t.Fatalf("%d messages, want 3", got)
			}
		})
	}
}

func TestRandomIDStable(t *testing.T) {
	t.Parallel()
	a := randomID(5, "text", "kb", 0, "key")
	if a != randomID(5, "text", "kb", 0, "key") || a <= 0 {
		t.Fatalf("random id %d not stable/positive", a)
	}
	for _, other := range []int32{
		randomID(6, "text", "kb", 0, "key"), randomID(5, "text2", "kb", 0, "key"),
		randomID(5, "text", "kb2", 0, "key"), randomID(5, "text", "kb", 1, "key"), randomID(5, "text", "kb", 0, "key2"),
	} {
		if other == a {
			t.Fatal("random id ignores a field")
		}
	}
}

func TestSendSplitsLongText(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	line := strings.Repeat("слово ", 99) + "конец\n" // 600 runes
	text := strings.Repeat(line, 9)                  // 5400 runes
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}}}}
	ctx := messenger.WithIdempotencyKey(context.Background(), "u1")
	sent, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: text, Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(5)
	if len(msgs) != 2 || msgs[0].Keyboard != nil || msgs[1].Keyboard == nil || sent.MessageID != fmt.Sprint(msgs[1].ID) {
		t.Fatalf("parts = %d, keyboards %v/%v", len(msgs), msgs[0].Keyboard, msgs[1].Keyboard)
	}
	if !strings.HasSuffix(msgs[0].Text, "конец") || utf8.RuneCountInString(msgs[0].Text) > maxTextRunes {
		t.Fatalf("first part not cut at a line end (%d runes)", utf8.RuneCountInString(msgs[0].Text))
	}
	if msgs[0].Text+"\n"+msgs[1].Text != text {
		t.Fatal("parts do not add up to the text")
	}
	// A retry of the whole split send delivers nothing twice.
	if _, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: text, Keyboard: kb}); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages(5)) != 2 {
		t.Fatal("retried split send delivered again")
	}
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		limit      int
		want       []string
	}{
		{"short", "abc", 5, []string{"abc"}},
		{"exact", "abcde", 5, []string{"abcde"}},
		{"newline first", "ab cd\nef gh", 8, []string{"ab cd", "ef gh"}},
		{"space", "ab cd ef", 6, []string{"ab cd", "ef"}},
		{"hard cut", "абвгдеёжз", 4, []string{"абвг", "деёж", "з"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitText(tt.text, tt.limit)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("split = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSendKeyboards(t *testing.T) {
	t.Parallel()
	btn := func(text, value string) messenger.Button { return messenger.Button{Text: text, Value: value} }
	long := strings.Repeat("д", 50)
	tests := []struct {
		name   string
		msg    messenger.OutMessage
		check  func(t *testing.T, kb *vktest.Keyboard, raw string)
		noKB   bool
		exactR string
	}{
		{
			name: "inline values",
			msg: messenger.OutMessage{Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
				{btn("Да, согласен", "yes"), btn("Нет", "no")}, {{Text: "✓ Фитнес", Value: "fitness", Selected: true}},
			}}},
			check: func(t *testing.T, kb *vktest.Keyboard, _ string) {
				if !kb.Inline || kb.OneTime || len(kb.Buttons) != 2 {
					t.Fatalf("kb = %+v", kb)
				}
				a := kb.Buttons[0][0].Action
				if a.Type != "text" || a.Label != "Да, согласен" || a.Payload != `{"v":"yes"}` {
					t.Fatalf("button = %+v", a)
				}
				if kb.Buttons[1][0].Color != "positive" {
					t.Fatalf("selected button color %q", kb.Buttons[1][0].Color)
				}
			},
		},
		{
			name: "long label and value",
			msg: messenger.OutMessage{Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
				{btn(long, "short"), btn("Длинное значение", strings.Repeat("z", 300))},
			}}},
			check: func(t *testing.T, kb *vktest.Keyboard, _ string) {
				a, b := kb.Buttons[0][0].Action, kb.Buttons[0][1].Action
				if utf8.RuneCountInString(a.Label) != 40 || !strings.HasSuffix(a.Label, "…") || a.Payload != `{"v":"short"}` {
					t.Fatalf("clipped = %+v", a)
				}
				if b.Payload != "" || b.Label != "Длинное значение" {
					t.Fatalf("over-long payload kept: %+v", b)
				}
			},
		},
		{
			name: "url and row of six",
			msg: messenger.OutMessage{Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
				{btn("1", "1"), btn("2", "2"), btn("3", "3"), btn("4", "4"), btn("5", "5"), btn("6", "6")},
				{{Text: "Сайт", URL: "https://example.com"}},
			}}},
			check: func(t *testing.T, kb *vktest.Keyboard, _ string) {
				if !kb.Inline || len(kb.Buttons) != 3 || len(kb.Buttons[0]) != 5 || len(kb.Buttons[1]) != 1 {
					t.Fatalf("rows = %+v", kb.Buttons)
				}
				if a := kb.Buttons[2][0].Action; a.Type != "open_link" || a.Link != "https://example.com" || a.Label != "Сайт" {
					t.Fatalf("link = %+v", a)
				}
			},
		},
		{
			name: "too many for inline",
			msg: messenger.OutMessage{Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
				{btn("0", "0"), btn("1", "1"), btn("2", "2"), btn("3", "3"), btn("4", "4"), btn("5", "5")},
				{btn("6", "6"), btn("7", "7"), btn("8", "8"), btn("9", "9"), btn("10", "10")},
			}}},
			check: func(t *testing.T, kb *vktest.Keyboard, _ string) {
				if kb.Inline || !kb.OneTime || len(kb.Labels()) != 11 {
					t.Fatalf("kb = %+v", kb)
				}
			},
		},
		{
			name: "reply with contact",
			msg: messenger.OutMessage{Keyboard: &messenger.Keyboard{Kind: messenger.Reply, Rows: [][]messenger.Button{
				{{Text: "Поделиться номером", RequestContact: true}}, {{Text: "Пропустить"}},
			}}},
			check: func(t *testing.T, kb *vktest.Keyboard, _ string) {
				if kb.Inline || !kb.OneTime || fmt.Sprint(kb.Labels()) != "[Пропустить]" || kb.Buttons[0][0].Action.Payload != "" {
					t.Fatalf("kb = %+v", kb)
				}
			},
		},
		{
			name:   "remove",
			msg:    messenger.OutMessage{RemoveKeyboard: true},
			exactR: `{"one_time":true,"buttons":[]}`,
		},
		{name: "none", msg: messenger.OutMessage{}, noKB: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b, _ := newBot(t, srv, nil)
			tt.msg.Chat, tt.msg.Text = vkChat("5"), "Вопрос"
			if _, err := b.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			m := srv.Messages(5)[0]
			switch {
			case tt.noKB:
				if m.RawKeyboard != "" {
					t.Fatalf("keyboard %s sent", m.RawKeyboard)
				}
			case tt.exactR != "":
				assertJSONEqual(t, m.RawKeyboard, tt.exactR)
			default:
				tt.check(t, m.Keyboard, m.RawKeyboard)
			}
			for _, l := range m.Keyboard.Labels() {
				if utf8.RuneCountInString(l) > 40 {
					t.Fatalf("label %q too long", l)
				}
			}
		})
	}
}

func assertJSONEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad JSON %s: %v", got, err)
	}
	_ = json.Unmarshal([]byte(want), &w)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("JSON = %s, want %s", got, want)
	}
}

func TestSendEdit(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Фитнес", Value: "fitness"}}}}
	ctx := context.Background()
	sent, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "Что интересно?", Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	kb.Rows[0][0] = messenger.Button{Text: "✓ Фитнес", Value: "fitness", Selected: true}
	edited, err := b.Send(ctx, messenger.OutMessage{
		Chat: vkChat("5"), Text: "Выбрано: Фитнес", Keyboard: kb, EditMessageID: sent.MessageID,
	})
	if err != nil || edited.MessageID != sent.MessageID {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	msgs := srv.Messages(5)
	if len(msgs) != 1 || msgs[0].Text != "Выбрано: Фитнес" || msgs[0].Edits != 1 || msgs[0].Keyboard.Labels()[0] != "✓ Фитнес" {
		t.Fatalf("messages = %+v", msgs)
	}
	// An edit VK refuses falls back to a new message.
	fallback, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "Снова", EditMessageID: "999999"})
	if err != nil || fallback.MessageID == sent.MessageID || len(srv.Messages(5)) != 2 || srv.Calls("messages.edit") != 2 {
		t.Fatalf("fallback = %+v, %v; %d messages", fallback, err, len(srv.Messages(5)))
	}
	// A rate limit on the edit is returned (after the retries), not doubled
	// by a new message.
	for range 1 + rateLimitRetries {
		srv.FailNext("messages.edit", 6)
	}
	_, err = b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "x", EditMessageID: sent.MessageID})
	if !errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("rate-limited edit: %v", err)
	}
}

func TestEditNeedsInlineKeyboard(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	ctx := context.Background()
	sent, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var row []messenger.Button
	for i := range 11 { // too many for an inline keyboard: it becomes a one-time one
		row = append(row, messenger.Button{Text: fmt.Sprint(i), Value: fmt.Sprint(i)})
	}
	for _, msg := range []messenger.OutMessage{
		{Text: "b", RemoveKeyboard: true},
		{Text: "c", Keyboard: &messenger.Keyboard{Kind: messenger.Reply, Rows: [][]messenger.Button{{{Text: "Пропустить"}}}}},
		{Text: "d", Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{row}}},
	} {
		msg.Chat, msg.EditMessageID = vkChat("5"), sent.MessageID
		if _, err := b.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Calls("messages.edit") != 0 || len(srv.Messages(5)) != 4 {
		t.Fatalf("%d edits, %d messages", srv.Calls("messages.edit"), len(srv.Messages(5)))
	}
}

// countingLimiter counts waits and pauses and refuses once refuse is set.
type countingLimiter struct {
	waits  atomic.Int32
	pauses atomic.Int32
	refuse atomic.Bool
}

func (l *countingLimiter) Wait(ctx context.Context, n int) error {
	l.waits.Add(int32(n))
	if l.refuse.Load() {
		return errors.New("budget exhausted")
	}
	return ctx.Err()
}

func (l *countingLimiter) Pause(context.Context, time.Duration) error {
	l.pauses.Add(1)
	return nil
}

func TestLimiterPacesEveryAPICall(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	lim := &countingLimiter{}
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = lim })
	ctx := context.Background()
	if _, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "a"}); err != nil {
		t.Fatal(err)
	}
	b.translate(ctx, toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 5, Text: "x"})}))
	if lim.waits.Load() != 2 {
		t.Fatalf("%d waits for 2 calls", lim.waits.Load())
	}
	lim.refuse.Store(true)
	_, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("5"), Text: "b"})
	if !errors.Is(err, messenger.ErrTransient) || srv.Calls("messages.send") != 1 {
		t.Fatalf("refused wait: err %v, %d sends", err, srv.Calls("messages.send"))
	}
}
