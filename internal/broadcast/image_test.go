package broadcast_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestTelegramImageBroadcast: every recipient gets the campaign's picture
// as a photo with the text as caption and the keyboard; a picture Telegram
// cannot fetch fails the rows as bad requests.
func TestTelegramImageBroadcast(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 30
	e.telegramUsers(fake, n)
	const pic = "https://img.example.com/sale.jpg"
	c := e.started(broadcast.Campaign{ImageURL: pic, Buttons: []broadcast.Button{{Text: "Сайт", URL: "https://example.ru"}}})
	ch := telegramChannel(t, fake)
	ch.Limiter = e.limiter("telegram:image", 200)
	e.workers(nil, ch)
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	for i := 1; i <= n; i++ {
		msgs := fake.Messages(int64(i))
		if len(msgs) != 1 {
			t.Fatalf("user %d got %d messages, want 1", i, len(msgs))
		}
		m := msgs[0]
		if m.Photo != pic || m.Caption != "Имя"+strconv.Itoa(i)+", у нас новости" || m.Text != "" {
			t.Fatalf("user %d got %+v, want the photo with the text as caption", i, m)
		}
		if caps := m.ReplyMarkup.Captions(); len(caps) != 2 || caps[1] != broadcast.UnsubscribeCaption {
			t.Fatalf("user %d keyboard %+v", i, m.ReplyMarkup)
		}
	}
	if st, _ := e.svc.Stats(context.Background(), c.ID); st.Sent != n {
		t.Fatalf("stats %+v", st)
	}

	const bad = "https://img.example.com/gone.jpg"
	fake.RejectPhoto(bad)
	c2 := e.started(broadcast.Campaign{ImageURL: bad, IgnoreFrequencyCap: true})
	e.waitState(c2.ID, broadcast.Done, 20*time.Second)
	if st, _ := e.svc.Stats(context.Background(), c2.ID); st.Failed != n || st.FailedByReason[broadcast.ReasonBadRequest] != n {
		t.Fatalf("a picture Telegram cannot fetch: stats %+v", st)
	}
	if fake.Calls("sendPhoto") != 2*n {
		t.Fatalf("%d sendPhoto calls, want %d (a bad request is not retried)", fake.Calls("sendPhoto"), 2*n)
	}
}

// TestVKImageBroadcast: the picture is uploaded once for the whole
// campaign and attached to every peer_ids batch; a picture that cannot be
// downloaded fails the rows as bad requests after one download.
func TestVKImageBroadcast(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := vktest.New(t)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	var downloads, misses atomic.Int32
	imgs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sale.png" {
			misses.Add(1)
			http.NotFound(w, r)
			return
		}
		downloads.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
	}))
	t.Cleanup(imgs.Close)
	const n = 250
	e.seed(messenger.VK, 0, n)
	c := e.started(broadcast.Campaign{Text: "Новости недели", ImageURL: imgs.URL + "/sale.png"})
	e.workers(nil, vkChannel(t, e, fake, 50))
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	photos := fake.Photos()
	if len(photos) != 1 || fake.Uploads() != 1 || downloads.Load() != 1 {
		t.Fatalf("%d photos, %d uploads, %d downloads for one campaign, want 1 each", len(photos), fake.Uploads(), downloads.Load())
	}
	att := photos[0].Attachment()
	for i := 1; i <= n; i++ {
		msgs := fake.Messages(i)
		if len(msgs) != 1 || msgs[0].Text != "Новости недели" || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0] != att {
			t.Fatalf("user %d got %+v, want one message with %s", i, msgs, att)
		}
		if msgs[0].Keyboard == nil {
			t.Fatalf("user %d: no keyboard", i)
		}
	}
	if st, _ := e.svc.Stats(context.Background(), c.ID); st.Sent != n {
		t.Fatalf("stats %+v", st)
	}

	c2 := e.started(broadcast.Campaign{Text: "ещё", ImageURL: imgs.URL + "/gone.png", IgnoreFrequencyCap: true})
	e.waitState(c2.ID, broadcast.Done, 30*time.Second)
	if st, _ := e.svc.Stats(context.Background(), c2.ID); st.Failed != n || st.FailedByReason[broadcast.ReasonBadRequest] != n {
		t.Fatalf("a picture that cannot be downloaded: stats %+v", st)
	}
	if misses.Load() != 1 || fake.Uploads() != 1 {
		t.Fatalf("%d downloads of the missing picture, %d uploads; want 1, 1", misses.Load(), fake.Uploads())
	}
}
