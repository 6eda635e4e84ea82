package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

const testSecret = "s3cr-et_XYZ"

func webhookBot(t *testing.T) (*Bot, *telegramtest.Server, *syncBuffer) {
	t.Helper()
	return newTestBot(t, func(c *Config) {
		c.WebhookURL, c.WebhookSecret, c.MaxBodyBytes = "https://bot.example/hooks/tg", testSecret, 4096
	})
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	big := `{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"` +
		strings.Repeat("x", 5000) + `"}}`
	tests := []struct {
		name      string
		method    string
		secret    string
		body      func(s *telegramtest.Server) string
		sinkErr   error
		want      int
		delivered int
	}{
		{"good update", http.MethodPost, testSecret, func(s *telegramtest.Server) string { return string(s.Update(s.SendText(1, "hi"))) },
			nil, http.StatusOK, 1},
		{"wrong secret", http.MethodPost, "nope", func(s *telegramtest.Server) string { return string(s.Update(s.SendText(1, "hi"))) },
			nil, http.StatusUnauthorized, 0},
		{"missing secret", http.MethodPost, "", func(s *telegramtest.Server) string { return string(s.Update(s.SendText(1, "hi"))) },
			nil, http.StatusUnauthorized, 0},
		{"GET", http.MethodGet, testSecret, func(*telegramtest.Server) string { return "" }, nil, http.StatusMethodNotAllowed, 0},
		{"oversize body", http.MethodPost, testSecret, func(*telegramtest.Server) string { return big }, nil, http.StatusRequestEntityTooLarge, 0},
		{"malformed JSON", http.MethodPost, testSecret, func(*telegramtest.Server) string { return `{"update_id":` }, nil, http.StatusBadRequest, 0},
		{"two values", http.MethodPost, testSecret, func(*telegramtest.Server) string { return `{"update_id":1} {}` }, nil, http.StatusBadRequest, 0},
		{"deliver fails", http.MethodPost, testSecret, func(s *telegramtest.Server) string { return string(s.Update(s.SendText(1, "hi"))) },
			errors.New("redis down"), http.StatusInternalServerError, 0},
		{"ignored update", http.MethodPost, testSecret, func(s *telegramtest.Server) string {
			return string(s.Update(s.Inject(map[string]any{"channel_post": map[string]any{
				"message_id": 1, "date": 1, "text": "news", "chat": map[string]any{"id": -5, "type": "channel"}}})))
		}, nil, http.StatusOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := webhookBot(t)
			sink := newSink()
			sink.fail = func(context.Context, int, []*messenger.Update) error { return tt.sinkErr }
			srv := httptest.NewServer(b.WebhookHandler(sink))
			defer srv.Close()
			var status int
			var err error
			if tt.method == http.MethodPost {
				status, err = telegramtest.PostWebhook(srv.URL, tt.secret, tt.body(s))
			} else {
				status, err = get(srv.URL)
			}
			if err != nil || status != tt.want {
				t.Fatalf("status = %d, %v; want %d", status, err, tt.want)
			}
			if got := len(sink.updates()); got != tt.delivered {
				t.Fatalf("delivered %d updates, want %d", got, tt.delivered)
			}
		})
	}
}

func get(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// spyBody records whether the handler read the request body.
type spyBody struct {
	io.Reader
	read bool
}

func (s *spyBody) Read(p []byte) (int, error) {
	s.read = true
	return s.Reader.Read(p)
}

func (s *spyBody) Close() error { return nil }

func TestWebhookWrongSecretDoesNotReadTheBody(t *testing.T) {
	t.Parallel()
	b, _, _ := webhookBot(t)
	body := &spyBody{Reader: strings.NewReader(`{"update_id":1}`)}
	req := httptest.NewRequest(http.MethodPost, "/hooks/tg", body)
	req.Header.Set(SecretHeader, testSecret+"x")
	rec := httptest.NewRecorder()
	b.WebhookHandler(newSink()).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || body.read {
		t.Fatalf("status %d, body read %v", rec.Code, body.read)
	}
}

func TestWebhookWithoutSecretRejectsEverything(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil) // polling bot: no secret configured
	srv := httptest.NewServer(b.WebhookHandler(newSink()))
	defer srv.Close()
	if status, err := telegramtest.PostWebhook(srv.URL, "", s.Update(s.SendText(1, "hi"))); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("status = %d, %v", status, err)
	}
}

func TestWebhookButtonPressAnsweredAndMarked(t *testing.T) {
	t.Parallel()
	b, s, _ := webhookBot(t)
	s.AddUser(3)
	kb := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "A", Value: "a"}}}}
	if _, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("3"), Text: "q", Keyboard: kb}); err != nil {
		t.Fatal(err)
	}
	id := s.PressButton(3, 1, "a")
	sink := markingSink(b)
	srv := httptest.NewServer(b.WebhookHandler(sink))
	defer srv.Close()
	if status, err := telegramtest.PostWebhook(srv.URL, testSecret, s.Update(id)); err != nil || status != http.StatusOK {
		t.Fatalf("status = %d, %v", status, err)
	}
	if ok, _ := s.CallbackAnswered(id); !ok {
		t.Fatal("callback query not answered")
	}
	// The mark goes out on the side once the press is handled.
	s.WaitCalls("editMessageReplyMarkup", 1, 5*time.Second)
	if caps := s.Messages(3)[0].ReplyMarkup.Captions(); len(caps) != 1 || caps[0] != "✓ A" {
		t.Fatalf("captions = %v", caps)
	}
}

func TestSetAndDeleteWebhook(t *testing.T) {
	t.Parallel()
	b, s, _ := webhookBot(t)
	ctx := context.Background()
	if err := b.SetWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	if h := s.Webhook(); h.URL != "https://bot.example/hooks/tg" || h.Secret != testSecret {
		t.Fatalf("webhook = %+v", h)
	}
	if p := s.Requests("setWebhook")[0].Params; p["allowed_updates"] != `["message","callback_query","my_chat_member"]` {
		t.Fatalf("setWebhook params = %v", p)
	}
	if err := b.DeleteWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	if h := s.Webhook(); h.URL != "" {
		t.Fatalf("webhook still set: %+v", h)
	}
	if b.WebhookPath() != "/hooks/tg" {
		t.Fatalf("WebhookPath = %q", b.WebhookPath())
	}
	s.FailNext("setWebhook", 400, 0)
	if err := b.SetWebhook(ctx); !errors.Is(err, messenger.ErrBadRequest) {
		t.Fatalf("SetWebhook = %v", err)
	}
	polling, _, _ := newTestBot(t, nil)
	if err := polling.SetWebhook(ctx); err == nil || polling.WebhookPath() != "" {
		t.Fatalf("polling bot SetWebhook = %v", err)
	}
}
