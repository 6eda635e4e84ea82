package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

func TestSendErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       int
		retryAfter int
		want       error
		notWant    error
		wantRetry  time.Duration
	}{
		{"400 bad request", 400, 0, messenger.ErrBadRequest, messenger.ErrTransient, 0},
		{"403 blocked", 403, 0, messenger.ErrBlocked, messenger.ErrTransient, 0},
		{"429 with retry_after", 429, 7, messenger.ErrTransient, nil, 7 * time.Second},
		{"429 without retry_after", 429, 0, messenger.ErrTransient, nil, 0},
		{"500 json", 500, 0, messenger.ErrTransient, messenger.ErrBadRequest, 0},
		{"502 html page", 502, 0, messenger.ErrTransient, nil, 0},
		{"connection dropped", 0, 0, messenger.ErrTransient, nil, 0},
		{"409 conflict", 409, 0, ErrConflict, messenger.ErrTransient, 0},
		{"401 token refused", 401, 0, ErrUnauthorized, messenger.ErrTransient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(1)
			s.FailNext("sendMessage", tt.code, tt.retryAfter)
			_, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("1"), Text: "hi"})
			noToken(t, s, err)
			if !errors.Is(err, tt.want) || (tt.notWant != nil && errors.Is(err, tt.notWant)) {
				t.Fatalf("err = %v, want %v and not %v", err, tt.want, tt.notWant)
			}
			var rl *messenger.RateLimitError
			if got := errors.As(err, &rl); got != (tt.wantRetry > 0) || (got && rl.RetryAfter != tt.wantRetry) {
				t.Fatalf("rate limit = %v (%+v), want retry %s", got, rl, tt.wantRetry)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Method != "sendMessage" || (tt.code < 502 && apiErr.Code != tt.code) {
				t.Fatalf("APIError = %+v", apiErr)
			}
			if !strings.HasPrefix(err.Error(), "telegram: sendMessage: ") {
				t.Fatalf("error lacks context: %v", err)
			}
		})
	}
}

// TestWrapErrorTellsTooLong: Telegram words a too long text only in a
// 400's description; the adapter turns it into messenger.ErrTooLong (still
// a bad request) and leaves every other 400 a plain bad request.
func TestWrapErrorTellsTooLong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		code        int
		description string
		tooLong     bool
		want        error
	}{
		{"text too long", 400, "Bad Request: message is too long", true, messenger.ErrBadRequest},
		{"caption too long", 400, "Bad Request: message caption is too long", true, messenger.ErrBadRequest},
		{"edit too long", 400, "Bad Request: MESSAGE_TOO_LONG", true, messenger.ErrBadRequest},
		{"answer text too long", 400, "Bad Request: text is too long", true, messenger.ErrBadRequest},
		{"chat not found", 400, "Bad Request: chat not found", false, messenger.ErrBadRequest},
		{"empty text", 400, "Bad Request: message text is empty", false, messenger.ErrBadRequest},
		{"blocked, whatever the words", 403, "Forbidden: message is too long", false, messenger.ErrBlocked},
		{"server error", 500, "Internal Server Error: message is too long", false, messenger.ErrTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := wrapError(context.Background(), "sendMessage", "1:tok", &tgbotapi.Error{Code: tt.code, Message: tt.description})
			if got := errors.Is(err, messenger.ErrTooLong); got != tt.tooLong {
				t.Fatalf("errors.Is(%v, ErrTooLong) = %v, want %v", err, got, tt.tooLong)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSendPlatformRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(s interface{ SetBlocked(int64) })
		chat  messenger.ChatKey
		want  error
	}{
		{"blocked by the user", func(s interface{ SetBlocked(int64) }) { s.SetBlocked(1) }, chat("1"), messenger.ErrBlocked},
		{"chat not found", nil, chat("2"), messenger.ErrBadRequest},
		{"not an integer id", nil, chat("abc"), messenger.ErrBadRequest},
		{"other platform", nil, messenger.ChatKey{Platform: messenger.VK, ID: "1"}, messenger.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(1)
			if tt.setup != nil {
				tt.setup(s)
			}
			_, err := b.Send(context.Background(), messenger.OutMessage{Chat: tt.chat, Text: "hi"})
			noToken(t, s, err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTimeoutsAreTransient(t *testing.T) {
	t.Parallel()
	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, nil)
		s.AddUser(1)
		s.Delay(2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := b.Send(ctx, messenger.OutMessage{Chat: chat("1"), Text: "hi"})
		noToken(t, s, err)
		if !errors.Is(err, messenger.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("http client timeout", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, func(c *Config) {
			c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
			c.WebhookURL, c.WebhookSecret = "https://bot.example/tg", "s" // a send-only bot
		})
		s.AddUser(1)
		s.Delay(2 * time.Second)
		_, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("1"), Text: "hi"})
		noToken(t, s, err)
		if !errors.Is(err, messenger.ErrTransient) || !strings.Contains(err.Error(), redactedToken) {
			t.Fatalf("err = %v, want a transient error naming the redacted URL", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		t.Parallel()
		b, s, _ := newTestBot(t, nil)
		s.Close()
		_, err := b.Me(context.Background())
		noToken(t, s, err)
		if !errors.Is(err, messenger.ErrTransient) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const token = "123456:AAH-secret_Token"
	tests := []struct {
		name, in, token, want string
	}{
		{"raw in a URL", `Post "https://api.telegram.org/bot123456:AAH-secret_Token/sendMessage": EOF`, token,
			`Post "https://api.telegram.org/bot<redacted>/sendMessage": EOF`},
		{"path escaped", "/bot" + url.PathEscape(token) + "/getMe", token, "/bot<redacted>/getMe"},
		{"query escaped", "token=" + url.QueryEscape(token), token, "token=<redacted>"},
		{"twice", token + " " + token, token, "<redacted> <redacted>"},
		{"absent", "nothing here", token, "nothing here"},
		{"no token configured", "bot/x", "", "bot/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redact(tt.in, tt.token); got != tt.want {
				t.Fatalf("redact = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactingLogger(t *testing.T) {
	t.Parallel()
	const token = "42:SECRET"
	logs := &syncBuffer{}
	l := newRedactingLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), token)
	l = l.With("url", "https://x/bot"+token+"/getMe").WithGroup("g")
	l.Info("calling bot"+token, "err", errors.New("Post bot"+token), slog.Group("req", "path", "/bot"+token),
		"n", 3, "any", struct{ S string }{token})
	out := logs.String()
	if strings.Contains(out, "SECRET") || strings.Count(out, redactedToken) != 5 || !strings.Contains(out, `"n":3`) {
		t.Fatalf("log = %s", out)
	}
}
