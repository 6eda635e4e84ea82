package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

const testPhoto = "https://img.example.com/sale.jpg"

func TestPhotoParts(t *testing.T) {
	t.Parallel()
	emoji := strings.Repeat("😀", 512) // 1024 UTF-16 units, 512 runes
	tests := []struct {
		name string
		o    outgoing
		want []part
	}{
		{"no photo: text chunks", outgoing{text: "привет"}, []part{{text: "привет"}}},
		{"short text: the caption", outgoing{text: "привет", photo: testPhoto}, []part{{photo: testPhoto, text: "привет"}}},
		{"1024 units: still the caption", outgoing{text: emoji, photo: testPhoto}, []part{{photo: testPhoto, text: emoji}}},
		{"1025 units: photo, then the text", outgoing{text: emoji + "a", photo: testPhoto},
			[]part{{photo: testPhoto}, {text: emoji + "a"}}},
		{"no text: the photo alone", outgoing{text: " ", photo: testPhoto}, []part{{photo: testPhoto}}},
		{"over one message: photo and two chunks", outgoing{text: strings.Repeat("слово ", 1000), photo: testPhoto},
			[]part{{photo: testPhoto}, {text: strings.TrimSpace(strings.Repeat("слово ", 682))}, {text: strings.Repeat("слово ", 318)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.o.parts()
			if len(got) != len(tt.want) {
				t.Fatalf("%d parts, want %d: %.80q", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i].photo != tt.want[i].photo || got[i].text != tt.want[i].text {
					t.Errorf("part %d = {%q, %.40q (%d units)}, want {%q, %.40q (%d units)}", i, got[i].photo, got[i].text,
						textLen(got[i].text), tt.want[i].photo, tt.want[i].text, textLen(tt.want[i].text))
				}
			}
		})
	}
}

func TestSendPhoto(t *testing.T) {
	t.Parallel()
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Отписаться", Value: "unsub"}}}}
	long := strings.Repeat("новости ", 200) // 1,600 units: over a caption
	tests := []struct {
		name   string
		msg    messenger.OutMessage
		paid   bool
		prep   func(s *telegramtest.Server)
		photos int    // sendPhoto calls
		texts  int    // sendMessage calls
		cap    string // the photo's caption
		err    error
	}{
		{"caption and keyboard on the photo", messenger.OutMessage{Text: "Скидка 10%", ImageURL: testPhoto, Keyboard: kb},
			false, nil, 1, 0, "Скидка 10%", nil},
		{"paid broadcast", messenger.OutMessage{Text: "Скидка 10%", ImageURL: testPhoto, Keyboard: kb},
			true, nil, 1, 0, "Скидка 10%", nil},
		{"long text after the photo, keyboard on the text", messenger.OutMessage{Text: long, ImageURL: testPhoto, Keyboard: kb},
			false, nil, 1, 1, "", nil},
		{"paid long text", messenger.OutMessage{Text: long, ImageURL: testPhoto, Keyboard: kb},
			true, nil, 1, 1, "", nil},
		{"a picture Telegram cannot fetch", messenger.OutMessage{Text: "x", ImageURL: testPhoto, Keyboard: kb},
			false, func(s *telegramtest.Server) { s.RejectPhoto(testPhoto) }, 1, 0, "", messenger.ErrBadRequest},
		{"not a URL", messenger.OutMessage{Text: "x", ImageURL: "ftp://nope", Keyboard: kb},
			false, nil, 1, 0, "", messenger.ErrBadRequest},
		{"blocked", messenger.OutMessage{Text: "x", ImageURL: testPhoto},
			false, func(s *telegramtest.Server) { s.SetBlocked(42) }, 1, 0, "", messenger.ErrBlocked},
		{"rate limited", messenger.OutMessage{Text: "x", ImageURL: testPhoto},
			false, func(s *telegramtest.Server) { s.FailNext("sendPhoto", 429, 3) }, 1, 0, "", &messenger.RateLimitError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(42)
			if tt.prep != nil {
				tt.prep(s)
			}
			var sender messenger.Sender = b
			if tt.paid {
				sender = b.PaidBroadcaster()
			}
			msg := tt.msg
			msg.Chat = chat("42")
			sent, err := sender.Send(context.Background(), msg)
			noToken(t, s, err)
			if s.Calls("sendPhoto") != tt.photos || s.Calls("sendMessage") != tt.texts {
				t.Fatalf("sendPhoto %d, sendMessage %d calls; want %d, %d", s.Calls("sendPhoto"), s.Calls("sendMessage"), tt.photos, tt.texts)
			}
			for _, r := range append(s.Requests("sendPhoto"), s.Requests("sendMessage")...) {
				if (r.Params["allow_paid_broadcast"] == "true") != tt.paid || r.Params["parse_mode"] != "" {
					t.Errorf("%s params %v", r.Method, r.Params)
				}
			}
			if tt.err != nil {
				var rl *messenger.RateLimitError
				if errors.As(tt.err, &rl) {
					if !errors.As(err, &rl) {
						t.Fatalf("err = %v, want a rate limit", err)
					}
				} else if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if n := len(s.Messages(42)); n != 0 {
					t.Fatalf("%d messages delivered after an error", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.Messages(42)
			if len(msgs) != tt.photos+tt.texts {
				t.Fatalf("%d messages, want %d", len(msgs), tt.photos+tt.texts)
			}
			if msgs[0].Photo != testPhoto || msgs[0].Caption != tt.cap || msgs[0].Text != "" {
				t.Fatalf("first message %+v", msgs[0])
			}
			last := msgs[len(msgs)-1]
			if !last.ReplyMarkup.IsInline() || last.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "unsub" {
				t.Fatalf("the keyboard is not on the last message: %+v", last.ReplyMarkup)
			}
			if len(msgs) > 1 {
				if msgs[0].ReplyMarkup != nil {
					t.Fatalf("the photo without caption carries markup %+v", msgs[0].ReplyMarkup)
				}
				if strings.ReplaceAll(msgs[1].Text, " ", "") != strings.ReplaceAll(tt.msg.Text, " ", "") {
					t.Fatalf("text after the photo %.60q", msgs[1].Text)
				}
			}
			if sent.MessageID == "" || sent.MessageID != strconv.Itoa(last.MessageID) {
				t.Fatalf("sent %+v, last message %d", sent, last.MessageID)
			}
		})
	}
}

// TestSendPhotoRetryResumes: a retried Send with the same idempotency key
// goes on after the parts already delivered: the photo is not sent twice.
func TestSendPhotoRetryResumes(t *testing.T) {
	t.Parallel()
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}}}}
	long := strings.Repeat("абв ", 1500) // 6,000 units: photo + 2 chunks
	tests := []struct {
		name       string
		text       string
		fail       func(s *telegramtest.Server)
		retryCalls map[string]int
		messages   int
	}{
		{"the text after the photo fails: the retry sends the text only", long,
			func(s *telegramtest.Server) { s.FailNext("sendMessage", 500, 0) }, map[string]int{"sendPhoto": 0, "sendMessage": 2}, 3},
		{"the second chunk fails: the retry sends it alone", long,
			func(s *telegramtest.Server) { s.FailAfter("sendMessage", 1, 0, 0) }, map[string]int{"sendPhoto": 0, "sendMessage": 1}, 3},
		{"the photo fails: the retry sends everything", long,
			func(s *telegramtest.Server) { s.FailNext("sendPhoto", 502, 0) }, map[string]int{"sendPhoto": 1, "sendMessage": 2}, 3},
		{"a captioned photo fails: the retry sends it", "коротко",
			func(s *telegramtest.Server) { s.FailNext("sendPhoto", 429, 1) }, map[string]int{"sendPhoto": 1, "sendMessage": 0}, 1},
		{"already sent: the retry sends nothing", long, nil, map[string]int{"sendPhoto": 0, "sendMessage": 0}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(42)
			if tt.fail != nil {
				tt.fail(s)
			}
			ctx := messenger.WithIdempotencyKey(context.Background(), "campaign:7")
			msg := messenger.OutMessage{Chat: chat("42"), Text: tt.text, ImageURL: testPhoto, Keyboard: kb}
			first, err1 := b.Send(ctx, msg)
			if (err1 == nil) != (tt.fail == nil) {
				t.Fatalf("first attempt err = %v", err1)
			}
			before := map[string]int{"sendPhoto": s.Calls("sendPhoto"), "sendMessage": s.Calls("sendMessage")}
			sent, err := b.Send(ctx, msg)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			for m, want := range tt.retryCalls {
				if got := s.Calls(m) - before[m]; got != want {
					t.Errorf("the retry made %d %s calls, want %d", got, m, want)
				}
			}
			msgs := s.Messages(42)
			if len(msgs) != tt.messages || msgs[0].Photo != testPhoto {
				t.Fatalf("%d messages (%+v), want %d starting with the photo", len(msgs), msgs, tt.messages)
			}
			last := msgs[len(msgs)-1]
			if !last.ReplyMarkup.IsInline() || sent.MessageID != strconv.Itoa(last.MessageID) {
				t.Fatalf("sent %+v, last %+v", sent, last)
			}
			if tt.fail == nil && first != sent {
				t.Fatalf("retry of a done send answered %+v, first %+v", sent, first)
			}
		})
	}
}

// TestSendPhotoRemovesReplyKeyboard: a removal with an inline keyboard on a
// captioned photo goes on the photo and the keyboard is attached after.
func TestSendPhotoRemovesReplyKeyboard(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(42)
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}}}}
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("42"), Text: "подпись", ImageURL: testPhoto,
		Keyboard: kb, RemoveKeyboard: true})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(42)
	if len(msgs) != 1 || msgs[0].Photo != testPhoto || !msgs[0].ReplyMarkup.IsInline() || s.Calls("editMessageReplyMarkup") != 1 {
		t.Fatalf("messages %+v, %d edits", msgs, s.Calls("editMessageReplyMarkup"))
	}
}
