package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// sideCall is a lean side call and the library request it replaces.
type sideCall struct {
	name    string
	method  string
	lean    func(context.Context, *Bot) error
	library tgbotapi.Chattable
}

func leanCalls(chat int64, msg int, queryID string) []sideCall {
	markup := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("✓ Да, согласен", "yes"), tgbotapi.NewInlineKeyboardButtonData("Нет", "no")),
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonURL("Сайт & <условия>", "https://example.com/?a=1&b=2")),
	)
	const text = "Выбрано: Фитнес & <Дети>, 100% «да»"
	edit := tgbotapi.NewEditMessageText(chat, msg, text)
	edit.ReplyMarkup = &markup
	return []sideCall{
		{"edit text", "editMessageText",
			func(ctx context.Context, b *Bot) error { return b.editMessageText(ctx, chat, msg, text, &markup) },
			edit},
		{"edit text without a keyboard", "editMessageText",
			func(ctx context.Context, b *Bot) error { return b.editMessageText(ctx, chat, msg, text, nil) },
			tgbotapi.NewEditMessageText(chat, msg, text)},
		{"answer", "answerCallbackQuery",
			func(ctx context.Context, b *Bot) error { return b.answerCallback(ctx, queryID) },
			tgbotapi.NewCallback(queryID, "")},
		{"mark", "editMessageReplyMarkup",
			func(ctx context.Context, b *Bot) error { return b.editReplyMarkup(ctx, chat, msg, &markup) },
			tgbotapi.NewEditMessageReplyMarkup(chat, msg, markup)},
		{"queued mark", "editMessageReplyMarkup",
			func(ctx context.Context, b *Bot) error {
				// The mark as a press carries it through the relay's queue.
				kb, err := json.Marshal(markup)
				if err != nil {
					return err
				}
				data, err := json.Marshal(&messenger.Update{Kind: messenger.KindButton, PressMark: kb})
				if err != nil {
					return err
				}
				var u messenger.Update
				if err := json.Unmarshal(data, &u); err != nil {
					return err
				}
				return b.editReplyMarkupJSON(ctx, chat, msg, u.PressMark)
			},
			tgbotapi.NewEditMessageReplyMarkup(chat, msg, markup)},
	}
}

// TestSideCallsWireFormat: the lean answerCallbackQuery,
// editMessageReplyMarkup and editMessageText post the very request the library posts (path,
// content type, body byte for byte) and succeed on the same answer.
func TestSideCallsWireFormat(t *testing.T) {
	t.Parallel()
	type request struct {
		path, contentType, body string
	}
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.URL.Path, r.Header.Get("Content-Type"), string(body)})
		mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"result":{"message_id":5,"date":1,"chat":{"id":-100,"type":"private"},"text":"q"}}`)
	}))
	t.Cleanup(srv.Close)
	b, err := New(Config{Token: "123:secret", APIURL: srv.URL + "/bot%s/%s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []struct {
		chat    int64
		msg     int
		queryID string
	}{{42, 7, "4242abc"}, {-1001234567890, 123456, "id with spaces&=+/ü"}, {0, 0, ""}} {
		for _, c := range leanCalls(target.chat, target.msg, target.queryID) {
			t.Run(fmt.Sprintf("%s %d/%d", c.name, target.chat, target.msg), func(t *testing.T) {
				mu.Lock()
				got = nil
				mu.Unlock()
				if err := c.lean(context.Background(), b); err != nil {
					t.Fatalf("lean: %v", err)
				}
				if err := b.call(context.Background(), c.method, c.library, nil); err != nil {
					t.Fatalf("library: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 2 {
					t.Fatalf("%d requests, want 2", len(got))
				}
				if got[0] != got[1] {
					t.Errorf("lean request\n%+v\nlibrary request\n%+v", got[0], got[1])
				}
				if want := "/bot123:secret/" + c.method; got[0].path != want {
					t.Errorf("path %q, want %q", got[0].path, want)
				}
			})
		}
	}
}

// TestSideCallsErrorMapping: a failed lean side call returns the error the
// library call gets mapped to, for every kind of failure.
func TestSideCallsErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       int // injected failure; -1: none (the fake's own answer)
		retryAfter int
		want       error
	}{
		{"400 bad request", 400, 0, messenger.ErrBadRequest},
		{"403 blocked", 403, 0, messenger.ErrBlocked},
		{"429 with retry_after", 429, 7, &messenger.RateLimitError{}},
		{"429 without retry_after", 429, 0, messenger.ErrTransient},
		{"500 json", 500, 0, messenger.ErrTransient},
		{"502 html page", 502, 0, messenger.ErrTransient},
		{"connection dropped", 0, 0, messenger.ErrTransient},
		{"409 conflict", 409, 0, ErrConflict},
		{"401 token refused", 401, 0, ErrUnauthorized},
		{"refused by the fake (unknown query, message not found)", -1, 0, messenger.ErrBadRequest},
	}
	classes := []error{messenger.ErrBadRequest, messenger.ErrBlocked, messenger.ErrTransient, messenger.ErrTooLong, ErrConflict, ErrUnauthorized}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(1)
			for _, c := range leanCalls(1, 99, "no-such-query") {
				var errs [2]error
				for i, run := range []func() error{
					func() error { return c.lean(context.Background(), b) },
					func() error { return b.call(context.Background(), c.method, c.library, nil) },
				} {
					if tt.code >= 0 {
						s.FailNext(c.method, tt.code, tt.retryAfter)
					}
					errs[i] = run()
					noToken(t, s, errs[i])
				}
				lean, lib := errs[0], errs[1]
				if lean == nil || lib == nil {
					t.Fatalf("%s: lean err %v, library err %v; want both to fail", c.method, lean, lib)
				}
				if lean.Error() != lib.Error() {
					t.Errorf("%s: lean err %q, library err %q", c.method, lean, lib)
				}
				var le, be *APIError
				if !errors.As(lean, &le) || !errors.As(lib, &be) || !reflect.DeepEqual(*le, *be) {
					t.Errorf("%s: lean APIError %+v, library %+v", c.method, le, be)
				}
				for _, class := range classes {
					if errors.Is(lean, class) != errors.Is(lib, class) {
						t.Errorf("%s: errors.Is(%v): lean %v, library %v", c.method, class, errors.Is(lean, class), errors.Is(lib, class))
					}
				}
				if rl := (&messenger.RateLimitError{}); errors.As(tt.want, &rl) {
					if !errors.As(lean, &rl) || rl.RetryAfter != time.Duration(tt.retryAfter)*time.Second {
						t.Errorf("%s: err %v, want a rate limit of %ds", c.method, lean, tt.retryAfter)
					}
				} else if !errors.Is(lean, tt.want) {
					t.Errorf("%s: err %v, want %v", c.method, lean, tt.want)
				}
			}
		})
	}
}

// TestEditReplyMarkupNotModified: the fake's (Telegram's) refusal of a
// mark that changes nothing is recognised on the lean path too.
func TestEditReplyMarkupNotModified(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(1)
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "A", Value: "a"}}}}
	sent, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("1"), Text: "q", Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	markup, _ := inlineMarkup(kb)
	var id int
	fmt.Sscan(sent.MessageID, &id)
	err = b.editReplyMarkup(context.Background(), 1, id, markup)
	if !notModified(err) {
		t.Fatalf("err = %v, want not modified", err)
	}
	if got := s.Calls("editMessageReplyMarkup"); got != 1 {
		t.Fatalf("%d calls", got)
	}
}

// TestSideCallsGoOutTogether: with a round trip of 100 ms on every side
// call, a batch of 20 button presses is answered and marked in a few round
// trips, not in 40 one after the other (4 s, which held polling to a few
// presses a second), through a plain Sink (the relay's queue) and a
// Submitter (pipelined polling) alike, the marks sent where the presses
// are handled; one chat's two presses of one message are marked in order,
// so the keyboard shows the last.
func TestSideCallsGoOutTogether(t *testing.T) {
	t.Parallel()
	const (
		users = 20
		delay = 100 * time.Millisecond
	)
	for _, tt := range []struct {
		name string
		sink func(t *testing.T, b *Bot) messenger.Sink
	}{
		{"sink", func(_ *testing.T, b *Bot) messenger.Sink { return markingSink(b) }},
		{"pipelined", func(t *testing.T, b *Bot) messenger.Sink {
			return dispatcherSink(t, marking(b, func(context.Context, *messenger.Update) error { return nil }))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			ids := sendChoices(t, b, s, users)
			var presses []int
			for u := int64(1); u <= users; u++ {
				presses = append(presses, s.PressButton(u, ids[u], "a"))
			}
			presses = append(presses, s.PressButton(1, ids[1], "b")) // user 1 changes their mind
			s.DelayMethod("answerCallbackQuery", delay)
			s.DelayMethod("editMessageReplyMarkup", delay)
			start := time.Now()
			runBot(t, b, tt.sink(t, b))
			marked := func(u int64) string {
				m := s.Messages(u)[0]
				return fmt.Sprint(m.ReplyMarkup.Captions())
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				// Answers and marks go out from separate slot pools, so
				// either may finish last: wait for both.
				done := marked(1) == "[A ✓ B]"
				for u := int64(2); u <= users; u++ {
					done = done && marked(u) == "[✓ A B]"
				}
				for _, id := range presses {
					ok, _ := s.CallbackAnswered(id)
					done = done && ok
				}
				if done {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("presses not all answered and marked after 10 s: user 1 %s, user 2 %s", marked(1), marked(2))
				}
			}
			if took := time.Since(start); took > 10*delay {
				t.Errorf("%d presses answered and marked in %s, want them together (a round trip is %s)", len(presses), took.Round(time.Millisecond), delay)
			}
			var user1 []string
			for _, r := range s.Requests("editMessageReplyMarkup") {
				if r.Params["chat_id"] == "1" {
					user1 = append(user1, r.Params["reply_markup"])
				}
			}
			// User 1's presses are marked one after the other, in order
			// (a mark still waiting when the next press is handled is
			// replaced by it): the last one sent shows the last press.
			if n := len(user1); n == 0 || n > 2 || !strings.Contains(user1[n-1], "✓ B") || strings.Contains(user1[n-1], "✓ A") {
				t.Errorf("user 1's marks = %q, want at most two, the last ✓ B alone", user1)
			}
		})
	}
}

// BenchmarkSideCalls compares a lean side call with the library request it
// replaced, against a local server giving Telegram's answers: true for
// answerCallbackQuery, the edited message with its keyboard for
// editMessageReplyMarkup and editMessageText. The difference is the encoding and decoding; the
// HTTP round trip is the same in both.
func BenchmarkSideCalls(b *testing.B) {
	edited := `{"ok":true,"result":{"message_id":10,"from":{"id":7000000001,"is_bot":true,"first_name":"Chathub","username":"chathub_bot"},` +
		`"chat":{"id":100001,"first_name":"User","username":"user100001","type":"private"},"date":1765100000,"edit_date":1765100001,` +
		`"text":"Что вам интересно? Отметьте всё подходящее и нажмите «Готово».","reply_markup":{"inline_keyboard":[` +
		`[{"text":"✓ Фитнес","callback_data":"fitness"},{"text":"Путешествия","callback_data":"travel"},{"text":"Образование","callback_data":"education"}],` +
		`[{"text":"Красота","callback_data":"beauty"},{"text":"Дети","callback_data":"kids"}],[{"text":"Готово","callback_data":"__done"}],` +
		`[{"text":"Пропустить","callback_data":"__skip"}]]}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/bot123:secret/answerCallbackQuery" {
			fmt.Fprint(w, `{"ok":true,"result":true}`)
			return
		}
		fmt.Fprint(w, edited)
	}))
	b.Cleanup(srv.Close)
	bot, err := New(Config{Token: "123:secret", APIURL: srv.URL + "/bot%s/%s"})
	if err != nil {
		b.Fatal(err)
	}
	var answer tgbotapi.APIResponse
	if err := json.Unmarshal([]byte(edited), &answer); err != nil {
		b.Fatal(err)
	}
	var msg tgbotapi.Message
	if err := json.Unmarshal(answer.Result, &msg); err != nil {
		b.Fatal(err)
	}
	for _, c := range leanCalls(100001, 10, "1000017a3f5c9e2b") {
		switch c.name {
		case "queued mark", "edit text without a keyboard":
			continue // the same calls as "mark" and "edit text"
		case "edit text":
			text := "Выбрано: Фитнес"
			edit := tgbotapi.NewEditMessageText(100001, 10, text)
			edit.ReplyMarkup = msg.ReplyMarkup
			c.library = edit
			c.lean = func(ctx context.Context, b *Bot) error {
				return b.editMessageText(ctx, 100001, 10, text, msg.ReplyMarkup)
			}
		}
		if c.method == "editMessageReplyMarkup" {
			c.library = tgbotapi.NewEditMessageReplyMarkup(100001, 10, *msg.ReplyMarkup)
			c.lean = func(ctx context.Context, b *Bot) error { return b.editReplyMarkup(ctx, 100001, 10, msg.ReplyMarkup) }
		}
		b.Run(c.method+"/lean", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.lean(context.Background(), bot); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.method+"/library", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bot.call(context.Background(), c.method, c.library, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSucceeded: an answer is taken as a success without decoding only
// when it starts as Telegram's successful answers do.
func TestSucceeded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		answer string
		want   bool
	}{
		{`{"ok":true,"result":true}`, true},
		{`{"ok":true,"result":{"message_id":5}}`, true},
		{`{"ok":true}`, true},
		{`{"ok":trueish}`, false},
		{`{"ok":true`, false},
		{`{"ok": true,"result":true}`, false}, // decoded instead
		{`{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}`, false},
		{`<html><body>502 Bad Gateway</body></html>`, false},
		{``, false},
	} {
		if got := succeeded([]byte(tt.answer)); got != tt.want {
			t.Errorf("succeeded(%s) = %v, want %v", tt.answer, got, tt.want)
		}
	}
}

// TestSlowMarksDoNotHoldAnswers: while every mark slot is taken by marks
// that Telegram answers slowly, the presses of the next batch are still
// answered at once (the answers have slots of their own), in pipelined
// polling where batches overlap.
func TestSlowMarksDoNotHoldAnswers(t *testing.T) {
	t.Parallel()
	const slowEdit = 1500 * time.Millisecond
	b, s, _ := newTestBot(t, nil)
	users := int64(maxSideCalls + 5)
	ids := sendChoices(t, b, s, users)
	for u := int64(1); u <= maxSideCalls; u++ {
		s.PressButton(u, ids[u], "a")
	}
	s.DelayMethod("editMessageReplyMarkup", slowEdit)
	runBot(t, b, pipelineSink(t, marking(b, func(context.Context, *messenger.Update) error { return nil })))
	for deadline := time.Now().Add(5 * time.Second); s.Calls("editMessageReplyMarkup") < maxSideCalls; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d marks started", s.Calls("editMessageReplyMarkup"), maxSideCalls)
		}
	}
	start := time.Now()
	var late []int
	for u := int64(maxSideCalls + 1); u <= users; u++ {
		late = append(late, s.PressButton(u, ids[u], "b"))
	}
	for _, id := range late {
		for {
			if ok, _ := s.CallbackAnswered(id); ok {
				break
			}
			if time.Since(start) > slowEdit/2 {
				t.Fatalf("the press of update %d not answered within %s while every mark slot was taken", id, slowEdit/2)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// sendChoices adds users 1 to users to s and sends each a message with the
// inline choices A (a) and B (b); it returns each user's message id.
func sendChoices(t *testing.T, b *Bot, s *telegramtest.Server, users int64) map[int64]int {
	t.Helper()
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "A", Value: "a"}, {Text: "B", Value: "b"}}}}
	ids := map[int64]int{}
	for u := int64(1); u <= users; u++ {
		s.AddUser(u)
		sent, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat(fmt.Sprint(u)), Text: "q", Keyboard: kb})
		if err != nil {
			t.Fatal(err)
		}
		var id int
		fmt.Sscan(sent.MessageID, &id)
		ids[u] = id
	}
	return ids
}
