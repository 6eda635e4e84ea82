package telegramfake_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestSendPhoto: the library's PhotoConfig (by URL: form parameters; an
// uploaded file: multipart) reaches the fake, which checks the photo and
// the caption as Telegram does.
func TestSendPhoto(t *testing.T) {
	t.Parallel()
	const pic = "https://img.example.com/a.jpg"
	tests := []struct {
		name    string
		file    tgbotapi.RequestFileData
		caption string
		prep    func(s *telegramtest.Server)
		err     string
		photo   string
	}{
		{"by URL", tgbotapi.FileURL(pic), "подпись", nil, "", pic},
		{"uploaded", tgbotapi.FileReader{Name: "a.png", Reader: bytes.NewReader([]byte("\x89PNG"))}, "", nil, "", "upload:a.png"},
		{"caption of 1024 units", tgbotapi.FileURL(pic), strings.Repeat("😀", 512), nil, "", pic},
		{"caption too long", tgbotapi.FileURL(pic), strings.Repeat("я", telegramtest.MaxCaptionLen+1), nil,
			"Bad Request: message caption is too long", ""},
		{"not a URL", tgbotapi.FileURL("ftp://x/a.jpg"), "", nil, "Bad Request: wrong file identifier/HTTP URL specified", ""},
		{"unreachable picture", tgbotapi.FileURL(pic), "", func(s *telegramtest.Server) { s.RejectPhoto(pic) },
			"Bad Request: failed to get HTTP URL content", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := telegramtest.New(t)
			s.AddUser(3)
			if tt.prep != nil {
				tt.prep(s)
			}
			cfg := tgbotapi.NewPhoto(3, tt.file)
			cfg.Caption = tt.caption
			m, err := newAPI(t, s).Send(cfg)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || len(s.Messages(3)) != 0 {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			got := s.Messages(3)
			if err != nil || len(got) != 1 || got[0].Photo != tt.photo || got[0].Caption != tt.caption || got[0].Text != "" {
				t.Fatalf("send = %v; messages %+v", err, got)
			}
			if len(m.Photo) == 0 || m.Caption != tt.caption || m.MessageID != got[0].MessageID {
				t.Fatalf("answer %+v", m)
			}
		})
	}
}

// TestSendPhotoRateLimited: photos count against the flood limits like
// text messages.
func TestSendPhotoRateLimited(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	s.AddUser(3)
	s.SetRateLimit(1, 0, 2)
	api := newAPI(t, s)
	if _, err := api.Send(tgbotapi.NewPhoto(3, tgbotapi.FileURL("https://img.example.com/a.jpg"))); err != nil {
		t.Fatal(err)
	}
	_, err := api.Send(tgbotapi.NewMessage(3, "текст"))
	var tgErr *tgbotapi.Error
	if !errors.As(err, &tgErr) || tgErr.Code != 429 || tgErr.RetryAfter != 2 || s.TooManyRequests() != 1 {
		t.Fatalf("err = %v, %d refused", err, s.TooManyRequests())
	}
}
