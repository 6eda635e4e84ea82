package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramfake"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// ids lists the update ids of a batch.
func ids(ups []*messenger.Update) []string {
	out := make([]string, len(ups))
	for i, u := range ups {
		out[i] = u.ID
	}
	return out
}

func itoas(ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// waitPending waits until the fake server holds exactly want unconfirmed updates.
func waitPending(t *testing.T, s *telegramtest.Server, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Pending()) != want {
		if time.Now().After(deadline) {
			t.Fatalf("pending updates = %v, want %d", s.Pending(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPollDeliversInOrderAndAdvancesOffset(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.SetUser(telegramtest.User{ID: 1, FirstName: "Анна", Username: "anna", LanguageCode: "ru"})
	a, c, d := s.SendText(1, "/start promo"), s.SendText(2, "b"), s.SendText(1, "c")
	sink := newSink()
	runBot(t, b, sink)
	got := sink.waitUpdates(t, 3)
	if !slices.Equal(ids(got), itoas(a, c, d)) {
		t.Fatalf("delivered %v", ids(got))
	}
	if got[0].Text != "/start promo" || got[0].Kind != messenger.KindMessage || got[0].Chat != chat("1") ||
		got[0].Profile.FirstName != "Анна" || got[0].Profile.Username != "anna" {
		t.Fatalf("first update = %+v", got[0])
	}
	waitPending(t, s, 0)
	reqs := s.Requests("getUpdates")
	first, second := reqs[0].Params, reqs[1].Params
	if first["offset"] != "" || first["limit"] != "100" || first["timeout"] != "1" ||
		first["allowed_updates"] != `["message","callback_query","my_chat_member"]` {
		t.Fatalf("first getUpdates = %v", first)
	}
	if second["offset"] != strconv.Itoa(d+1) {
		t.Fatalf("second getUpdates offset = %q, want %d", second["offset"], d+1)
	}
}

func TestPollRedeliversTheBatchAfterAnError(t *testing.T) {
	t.Parallel()
	b, s, logs := newTestBot(t, nil)
	a, c := s.SendText(1, "a"), s.SendText(1, "b")
	var mu sync.Mutex
	var seen [][]string
	sink := newSink()
	sink.fail = func(_ context.Context, n int, batch []*messenger.Update) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ids(batch))
		if n <= 2 {
			if s.Calls("getUpdates") != 1 {
				t.Errorf("getUpdates called again before the batch was handled")
			}
			return errors.New("store down")
		}
		return nil
	}
	runBot(t, b, sink)
	sink.waitUpdates(t, 2)
	waitPending(t, s, 0)
	mu.Lock()
	defer mu.Unlock()
	want := itoas(a, c)
	if len(seen) != 3 || !slices.Equal(seen[0], want) || !slices.Equal(seen[1], want) || !slices.Equal(seen[2], want) {
		t.Fatalf("deliveries = %v", seen)
	}
	if !strings.Contains(logs.String(), "store down") {
		t.Fatalf("delivery failure not logged:\n%s", logs.String())
	}
}

func TestPollCancelMidBatchLeavesItUnconfirmed(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	a, c := s.SendText(1, "a"), s.SendText(2, "b")
	started := make(chan struct{})
	sink := newSink()
	sink.fail = func(ctx context.Context, _ int, _ []*messenger.Update) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	stop := runBot(t, b, sink)
	<-started
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := s.Pending(); !slices.Equal(itoas(got...), itoas(a, c)) {
		t.Fatalf("pending after cancel = %v", got)
	}
	// A new process resumes with the same updates.
	b2, _ := botOn(t, s, nil)
	sink2 := newSink()
	runBot(t, b2, sink2)
	if got := sink2.waitUpdates(t, 2); !slices.Equal(ids(got), itoas(a, c)) {
		t.Fatalf("redelivered %v", ids(got))
	}
}

func TestPollConfirmsTheHandledBatchOnStop(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.SendText(1, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := messenger.SinkFunc(func(context.Context, []*messenger.Update) error {
		cancel() // the process is stopping, but this batch was handled
		return nil
	})
	if err := b.Run(ctx, sink); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := s.Pending(); len(got) != 0 {
		t.Fatalf("handled updates left unconfirmed: %v", got)
	}
}

func TestPollHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b, s, logs := newTestBot(t, nil)
	s.FailNext("getUpdates", 429, 1)
	s.SendText(1, "a")
	sink := newSink()
	runBot(t, b, sink)
	sink.waitUpdates(t, 1)
	reqs := s.Requests("getUpdates")
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 950*time.Millisecond {
		t.Fatalf("retried after %s, want ≥ 1s", gap)
	}
	if !strings.Contains(logs.String(), "retry_after=1s") {
		t.Fatalf("rate limit not logged:\n%s", logs.String())
	}
}

func TestPollRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	b, s, logs := newTestBot(t, nil)
	s.FailNext("getUpdates", 500, 0)
	s.FailNext("getUpdates", 0, 0)
	s.FailNext("getUpdates", 502, 0)
	s.SendText(1, "a")
	sink := newSink()
	runBot(t, b, sink)
	sink.waitUpdates(t, 1)
	if n := s.Calls("getUpdates"); n < 4 {
		t.Fatalf("getUpdates calls = %d", n)
	}
	if !strings.Contains(logs.String(), "/bot"+redactedToken+"/getUpdates") {
		t.Fatalf("network failure not logged with a redacted URL:\n%s", logs.String())
	}
}

func TestPollStopsOnConflictAndUnauthorized(t *testing.T) {
	t.Parallel()
	t.Run("webhook set", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, nil)
		hook, _ := botOn(t, s, func(c *Config) { c.WebhookURL, c.WebhookSecret = "https://bot.example/tg", "s3cret" })
		if err := hook.SetWebhook(context.Background()); err != nil {
			t.Fatal(err)
		}
		err := b.Run(context.Background(), newSink())
		noToken(t, s, err)
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "delete the webhook") {
			t.Fatalf("Run = %v", err)
		}
		if b.State() != messenger.BotConflict || hook.State() != messenger.BotOK {
			t.Fatalf("states: poller %s, webhook bot %s", b.State(), hook.State())
		}
	})
	t.Run("token refused", func(t *testing.T) {
		t.Parallel()
		s := telegramtest.New(t)
		b, _ := botOn(t, s, func(c *Config) { c.Token = "1:not-the-token" })
		if err := b.Run(context.Background(), newSink()); !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "not-the-token") {
			t.Fatalf("Run = %v", err)
		}
		// Found by getMe before the first long poll.
		if b.State() != messenger.BotUnauthorized || s.Calls("getUpdates") != 0 {
			t.Fatalf("state %s after %d getUpdates calls", b.State(), s.Calls("getUpdates"))
		}
	})
	t.Run("token revoked while polling", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, nil)
		s.FailNext("getUpdates", 401, 0)
		if err := b.Run(context.Background(), newSink()); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("Run = %v", err)
		}
		if b.State() != messenger.BotUnauthorized {
			t.Fatalf("state %s", b.State())
		}
	})
	t.Run("webhook mode", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, func(c *Config) { c.WebhookURL, c.WebhookSecret = "https://bot.example/tg", "s3cret" })
		if err := b.Run(context.Background(), newSink()); err == nil || s.Calls("getUpdates") != 0 {
			t.Fatalf("Run = %v", err)
		}
	})
}

func TestPollTranslatesOverTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(s *telegramtest.Server) int
		check  func(u *messenger.Update) bool // nil: ignored
	}{
		{"own contact", func(s *telegramtest.Server) int { return s.ShareContact(5, "+79123456789", 5) },
			func(u *messenger.Update) bool {
				return u.Kind == messenger.KindContact && u.Contact.Phone == "+79123456789" && u.Contact.UserID == "5"
			}},
		{"foreign contact", func(s *telegramtest.Server) int { return s.ShareContact(5, "+7900", 0) },
			func(u *messenger.Update) bool { return u.Kind == messenger.KindContact && u.Contact.UserID == "" }},
		{"sticker", func(s *telegramtest.Server) int { return s.SendSticker(5) },
			func(u *messenger.Update) bool { return u.Kind == messenger.KindUnsupported }},
		{"block", func(s *telegramtest.Server) int { return s.Block(5) },
			func(u *messenger.Update) bool { return u.Kind == messenger.KindBlocked && u.Chat == chat("5") }},
		{"unblock", func(s *telegramtest.Server) int { return s.Unblock(5) },
			func(u *messenger.Update) bool {
				return u.Kind == messenger.KindUnblocked && u.Profile.Username == "user5"
			}},
		{"group message", func(s *telegramtest.Server) int {
			return s.Inject(map[string]any{"message": map[string]any{
				"message_id": 1, "date": 1, "text": "hi", "from": map[string]any{"id": 5, "first_name": "U"},
				"chat": map[string]any{"id": -100, "type": "group", "title": "G"},
			}})
		}, nil},
		{"malformed message", func(s *telegramtest.Server) int {
			return s.Inject(map[string]any{"message": "not an object"})
		}, nil},
		{"edited message", func(s *telegramtest.Server) int {
			return s.Inject(map[string]any{"edited_message": map[string]any{
				"message_id": 1, "date": 1, "edit_date": 2, "text": "hi", "from": map[string]any{"id": 5, "first_name": "U"},
				"chat": map[string]any{"id": 5, "type": "private"},
			}})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, logs := newTestBot(t, nil)
			id := tt.inject(s)
			sink := newSink()
			runBot(t, b, sink)
			waitPending(t, s, 0)
			got := sink.updates()
			if tt.check == nil {
				if len(got) != 0 || sink.deliverCalls() != 0 || !strings.Contains(logs.String(), "update ignored") {
					t.Fatalf("ignored update delivered: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != strconv.Itoa(id) || !tt.check(got[0]) {
				t.Fatalf("delivered %+v", got)
			}
		})
	}
}

// TestMediaTranslatedOverTheWire: each medium a client can send, as the
// Bot API sends it, reaches the sink as KindUnsupported with its media
// kind, its caption where it takes one and the message's id.
func TestMediaTranslatedOverTheWire(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"photo": messenger.MediaPhoto, "video": messenger.MediaVideo, "video_note": messenger.MediaVideo,
		"animation": messenger.MediaVideo, "voice": messenger.MediaVoice, "audio": messenger.MediaAudio,
		"document": messenger.MediaDocument, "sticker": messenger.MediaSticker, "location": messenger.MediaLocation,
		"venue": messenger.MediaLocation, "poll": messenger.MediaOther, "dice": messenger.MediaOther,
	}
	captioned := map[string]bool{"photo": true, "video": true, "animation": true, "voice": true, "audio": true, "document": true}
	b, s, _ := newTestBot(t, nil)
	fields := telegramfake.MediaFields()
	sent := make([]int, len(fields))
	for i, f := range fields {
		sent[i] = s.SendMedia(5, f, "подпись "+f)
	}
	sink := newSink()
	runBot(t, b, sink)
	waitPending(t, s, 0)
	got := sink.updates()
	if len(got) != len(fields) {
		t.Fatalf("delivered %d updates, want %d", len(got), len(fields))
	}
	for i, f := range fields {
		var raw struct {
			Message struct {
				MessageID int `json:"message_id"`
			} `json:"message"`
		}
		if err := json.Unmarshal(s.Update(sent[i]), &raw); err != nil {
			t.Fatal(err)
		}
		u, caption := got[i], ""
		if captioned[f] {
			caption = "подпись " + f
		}
		if u.ID != strconv.Itoa(sent[i]) || u.Kind != messenger.KindUnsupported || u.Media != want[f] || u.Text != caption ||
			u.PlatformMsgID != strconv.Itoa(raw.Message.MessageID) || u.MessageID != "" {
			t.Errorf("%s: delivered %+v, want media %q, caption %q, platform message id %d", f, u, want[f], caption,
				raw.Message.MessageID)
		}
	}
}

func TestButtonPressAnsweredAndMarked(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(7)
	kb := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}, {Text: "Нет", Value: "no"}}}}
	sent, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("7"), Text: "Согласны?", Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	id := s.PressButton(7, 1, "yes")
	sink := markingSink(b)
	runBot(t, b, sink)
	u := sink.waitUpdates(t, 1)[0]
	if u.Kind != messenger.KindButton || u.Value != "yes" || u.Text != "Да" || u.MessageID != sent.MessageID {
		t.Fatalf("update = %+v", u)
	}
	// The answer goes out while the press is handled.
	eventually(t, "callback query answered", func() bool { ok, _ := s.CallbackAnswered(id); return ok })
	s.WaitCalls("editMessageReplyMarkup", 1, 5*time.Second)
	caps := s.Messages(7)[0].ReplyMarkup.Captions()
	if !slices.Equal(caps, []string{"✓ Да", "Нет"}) {
		t.Fatalf("captions after the press = %v", caps)
	}
}

func TestButtonPressEditedByTheEngineIsNotMarked(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(8)
	kb := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "Фитнес", Value: "fit"}, {Text: "Готово", Value: "done"}}}}
	if _, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("8"), Text: "Что интересно?", Keyboard: kb}); err != nil {
		t.Fatal(err)
	}
	s.PressButton(8, 1, "fit")
	sink := markingSink(b)
	sink.fail = func(ctx context.Context, _ int, batch []*messenger.Update) error {
		u := batch[0]
		toggled := &messenger.Keyboard{Rows: [][]messenger.Button{{
			{Text: "✓ Фитнес", Value: "fit", Selected: true}, {Text: "Готово", Value: "done"}}}}
		_, err := b.Send(ctx, messenger.OutMessage{Chat: u.Chat, Text: "Выбрано: Фитнес", Keyboard: toggled, EditMessageID: u.MessageID})
		return err
	}
	runBot(t, b, sink)
	sink.waitUpdates(t, 1)
	waitPending(t, s, 0) // the next poll comes after marking would have happened
	m := s.Messages(8)[0]
	if m.Text != "Выбрано: Фитнес" || !slices.Equal(m.ReplyMarkup.Captions(), []string{"✓ Фитнес", "Готово"}) {
		t.Fatalf("message = %+v", m)
	}
	if n := s.Calls("editMessageReplyMarkup"); n != 0 {
		t.Fatalf("marked although the engine edited: %d calls", n)
	}
}

func TestReadUpdateID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{`{"update_id":42,"message":{}}`, 42, true},
		{`{"update_id":7}`, 7, true},
		{`{"message":{"text":"{\"update_id\":1}"},"update_id":9}`, 9, true}, // not first: decoded
		{` {"update_id": 12 }`, 12, true},
		{`{"update_id":123456789012,"message":{}}`, 123456789012, true},
		{`{"update_id":"x"}`, 0, false},
		{`{"message":{}}`, 0, false},
		{`[1]`, 0, false},
		{`{"update_id":`, 0, false},
	} {
		got, err := readUpdateID([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("readUpdateID(%s) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestDecodeUpdatesIgnoresMalformed(t *testing.T) {
	t.Parallel()
	b, _, logs := newTestBot(t, nil)
	got := b.decodeUpdates([]rawUpdate{
		{id: 1, data: json.RawMessage(`{"update_id":1,"message":{"message_id":5,"date":1,"text":"hi","chat":{"id":3,"type":"private"}}}`)},
		{id: 2, data: json.RawMessage(`{"update_id":2,"message":"not an object"}`)},
	})
	if len(got) != 2 || got[0].UpdateID != 1 || got[0].Message == nil || got[0].Message.Text != "hi" {
		t.Fatalf("decoded %+v", got)
	}
	if got[1].UpdateID != 2 || got[1].Message != nil {
		t.Fatalf("malformed update decoded as %+v, want only its id", got[1])
	}
	if !strings.Contains(logs.String(), "malformed update ignored") {
		t.Errorf("no log line for the malformed update: %s", logs.String())
	}
}
