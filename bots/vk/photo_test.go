package vk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// testPNG is a small valid PNG picture.
func testPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageServer serves pictures and broken answers, counting requests per path.
type imageServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newImageServer(t *testing.T) *imageServer {
	t.Helper()
	pic := testPNG(t)
	s := &imageServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/pic.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
		case "/mislabelled":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(pic)
		case "/big.png": // announced too large
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", strconv.Itoa(64<<10))
			_, _ = w.Write(append(pic, make([]byte, 64<<10-len(pic))...))
		case "/big-chunked.png": // too large, no Content-Length
			w.Header().Set("Content-Type", "image/png")
			for range 64 {
				_, _ = w.Write(make([]byte, 1024))
				w.(http.Flusher).Flush()
			}
		case "/page.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write([]byte("<html><body>Not found, sorry</body></html>"))
		case "/slow.png":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *imageServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// photoBot is a Bot on srv whose pictures are at most 16 KiB and whose
// image downloads time out after 500 ms.
func photoBot(t *testing.T, srv *vktest.Server, mod func(*Config)) *Bot {
	t.Helper()
	b, _ := newBot(t, srv, func(c *Config) {
		c.MaxImageBytes = 16 << 10
		c.ImageClient = &http.Client{Timeout: 500 * time.Millisecond}
		if mod != nil {
			mod(c)
		}
	})
	return b
}

func TestSendWithPhoto(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	imgs := newImageServer(t)
	lim := &countingLimiter{}
	b := photoBot(t, srv, func(c *Config) { c.Limiter = lim })
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Отписаться", Value: "unsub"}}}}
	long := strings.Repeat("новости ", 600) // two messages
	tests := []struct {
		name, text string
		parts      int
	}{
		{"one message", "Скидка 10%", 1},
		{"split text: the picture on the first part", long, 2},
		{"no text", "", 1},
	}
	for i, tt := range tests {
		peer := 10 + i
		ctx := messenger.WithIdempotencyKey(context.Background(), "campaign:1")
		sent, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat(strconv.Itoa(peer)), Text: tt.text, ImageURL: imgs.URL + "/pic.png", Keyboard: kb})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		msgs := srv.Messages(peer)
		if len(msgs) != tt.parts {
			t.Fatalf("%s: %d messages, want %d", tt.name, len(msgs), tt.parts)
		}
		photos := srv.Photos()
		if len(photos) != 1 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0] != photos[0].Attachment() {
			t.Fatalf("%s: attachments %v, photos %+v", tt.name, msgs[0].Attachments, photos)
		}
		if photos[0].Type != "image/png" || photos[0].OwnerID != -srv.GroupID() {
			t.Fatalf("photo %+v", photos[0])
		}
		last := msgs[len(msgs)-1]
		if last.Keyboard == nil || sent.MessageID != strconv.Itoa(last.ID) || (len(msgs) > 1 && len(last.Attachments) != 0) {
			t.Fatalf("%s: last message %+v, sent %+v", tt.name, last, sent)
		}
	}
	// One upload for the three sends: two API calls paced by the budget, the
	// upload POST not; then one call per message.
	if srv.Uploads() != 1 || imgs.hitsOf("/pic.png") != 1 || srv.Calls("photos.getMessagesUploadServer") != 1 ||
		srv.Calls("photos.saveMessagesPhoto") != 1 {
		t.Fatalf("%d uploads, %d downloads, %d upload servers, %d saves", srv.Uploads(), imgs.hitsOf("/pic.png"),
			srv.Calls("photos.getMessagesUploadServer"), srv.Calls("photos.saveMessagesPhoto"))
	}
	if got, want := int(lim.waits.Load()), 2+4; got != want {
		t.Fatalf("%d limiter waits, want %d", got, want)
	}
}

// TestPhotoUploadedOncePerCampaign: recipients across peer_ids batches and
// single sends, sent concurrently, share one download and one upload.
func TestPhotoUploadedOncePerCampaign(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	srv.SetRateLimit(0)
	imgs := newImageServer(t)
	b := photoBot(t, srv, nil)
	msg := messenger.OutMessage{Text: "Распродажа", ImageURL: imgs.URL + "/pic.png"}
	ctx := messenger.WithIdempotencyKey(context.Background(), "campaign:9")
	const batches, single = 3, 10
	var wg sync.WaitGroup
	var failed atomic.Int32
	for bi := range batches {
		wg.Go(func() {
			chats := make([]messenger.ChatKey, MaxPeers)
			for i := range chats {
				chats[i] = vkChat(strconv.Itoa(1000 + bi*MaxPeers + i))
			}
			_, errs, err := b.SendMany(ctx, msg, chats)
			if err != nil || errors.Join(errs...) != nil {
				t.Errorf("batch %d: %v %v", bi, err, errors.Join(errs...))
				failed.Add(1)
			}
		})
	}
	for i := range single {
		wg.Go(func() {
			m := msg
			m.Chat = vkChat(strconv.Itoa(5000 + i))
			if _, err := b.Send(ctx, m); err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if srv.Uploads() != 1 || imgs.hitsOf("/pic.png") != 1 || srv.Calls("photos.saveMessagesPhoto") != 1 {
		t.Fatalf("%d uploads, %d downloads, %d saves for one picture", srv.Uploads(), imgs.hitsOf("/pic.png"), srv.Calls("photos.saveMessagesPhoto"))
	}
	att := srv.Photos()[0].Attachment()
	peers := 0
	for p := 1000; p < 1000+batches*MaxPeers; p++ {
		peers += checkPhotoMessage(t, srv, p, att, msg.Text)
	}
	for p := 5000; p < 5000+single; p++ {
		peers += checkPhotoMessage(t, srv, p, att, msg.Text)
	}
	if peers != batches*MaxPeers+single {
		t.Fatalf("%d recipients got the photo", peers)
	}
}

func checkPhotoMessage(t *testing.T, srv *vktest.Server, peer int, att, text string) int {
	t.Helper()
	msgs := srv.Messages(peer)
	if len(msgs) != 1 || msgs[0].Text != text || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0] != att {
		t.Fatalf("peer %d got %+v, want one message %q with %s", peer, msgs, text, att)
	}
	return 1
}

// TestPhotoSendsRideInOneExecute: the upload's two API calls wait for the
// budget like any call, and sends pending with the picture coalesce into
// execute with their attachment.
func TestPhotoSendsRideInOneExecute(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	imgs := newImageServer(t)
	gate := newGate()
	b := photoBot(t, srv, func(c *Config) { c.Limiter = gate })
	var msgs []messenger.OutMessage
	for i := range 30 {
		msgs = append(msgs, messenger.OutMessage{Chat: vkChat(strconv.Itoa(100 + i)), Text: fmt.Sprintf("%d: %s", i, trickyTexts[i%len(trickyTexts)]),
			ImageURL: imgs.URL + "/pic.png"})
	}
	wait := sendAll(b, msgs)
	waitPending(t, b, 1) // photos.getMessagesUploadServer; the sends wait for the upload
	gate.grant(1)
	if !srv.WaitCalls("photos.getMessagesUploadServer", 1, waitLong) {
		t.Fatal("no upload server asked for")
	}
	waitPending(t, b, 1) // photos.saveMessagesPhoto
	gate.grant(1)
	waitPending(t, b, 30)
	gate.grant(1) // 25 ride in one execute
	waitPending(t, b, 5)
	gate.grant(1)
	results := wait()
	if srv.Calls("execute") != 2 || srv.Calls("messages.send") != 30 || srv.Uploads() != 1 || gate.waits.Load() != 4 {
		t.Fatalf("%d executes, %d sends, %d uploads, %d waits; want 2, 30, 1, 4", srv.Calls("execute"),
			srv.Calls("messages.send"), srv.Uploads(), gate.waits.Load())
	}
	att := srv.Photos()[0].Attachment()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("send %d: %v", i, r.err)
		}
		checkPhotoMessage(t, srv, 100+i, att, msgs[i].Text)
	}
}

func TestPhotoDownloadErrors(t *testing.T) {
	t.Parallel()
	imgs := newImageServer(t)
	tests := []struct {
		name, path string
		want       string // in the error
	}{
		{"404", "/missing.png", "HTTP 404"},
		{"too large by Content-Length", "/big.png", "65536 bytes, at most 16384"},
		{"too large without Content-Length", "/big-chunked.png", "over 16384 bytes"},
		{"an HTML page labelled image/jpeg", "/page.jpg", `not a JPEG, PNG, GIF or WebP picture (Content-Type "image/jpeg", content "text/html; charset=utf-8")`},
		{"timeout", "/slow.png", "download:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b := photoBot(t, srv, nil)
			url := imgs.URL + tt.path + "?sig=secret-signature"
			for range 2 { // the second send fails from the cache, without a download
				_, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: "x", ImageURL: url})
				if !errors.Is(err, messenger.ErrBadRequest) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want ErrBadRequest with %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "secret-signature") {
					t.Fatalf("the URL's query leaked into the error: %v", err)
				}
			}
			if imgs.hitsOf(tt.path) != 1 || srv.Calls("messages.send") != 0 || srv.Uploads() != 0 {
				t.Fatalf("%d downloads, %d sends, %d uploads", imgs.hitsOf(tt.path), srv.Calls("messages.send"), srv.Uploads())
			}
		})
	}
	t.Run("not an http URL", func(t *testing.T) {
		t.Parallel()
		srv := vktest.New(t)
		_, _, err := photoBot(t, srv, nil).SendMany(messenger.WithIdempotencyKey(context.Background(), "c:1"),
			messenger.OutMessage{Text: "x", ImageURL: "file:///etc/passwd"}, []messenger.ChatKey{vkChat("5")})
		if !errors.Is(err, messenger.ErrBadRequest) || srv.Calls("messages.send") != 0 {
			t.Fatalf("err = %v, %d sends", err, srv.Calls("messages.send"))
		}
	})
	t.Run("a mislabelled picture goes", func(t *testing.T) {
		t.Parallel()
		srv := vktest.New(t)
		if _, err := photoBot(t, srv, nil).Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: "x",
			ImageURL: imgs.URL + "/mislabelled"}); err != nil || len(srv.Photos()) != 1 {
			t.Fatalf("err = %v, %d photos", err, len(srv.Photos()))
		}
	})
}

func TestPhotoUploadErrors(t *testing.T) {
	t.Parallel()
	imgs := newImageServer(t)
	tests := []struct {
		name   string
		fail   func(s *vktest.Server)
		want   error
		cached bool // a second send fails without a new upload
	}{
		{"upload server refused (access denied)", func(s *vktest.Server) { s.FailNext("photos.getMessagesUploadServer", 15) },
			messenger.ErrBadRequest, true},
		{"upload server: VK internal error", func(s *vktest.Server) { s.FailNext("photos.getMessagesUploadServer", 10) },
			messenger.ErrTransient, false},
		{"upload POST: HTTP 502", func(s *vktest.Server) { s.FailNextUpload(502) }, messenger.ErrTransient, false},
		{"upload POST: not an image", func(s *vktest.Server) { s.FailNextUpload(0) }, messenger.ErrBadRequest, true},
		{"save: invalid hash", func(s *vktest.Server) { s.FailNext("photos.saveMessagesPhoto", 121) }, messenger.ErrBadRequest, true},
		{"save: VK internal error", func(s *vktest.Server) { s.FailNext("photos.saveMessagesPhoto", 10) }, messenger.ErrTransient, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t)
			b := photoBot(t, srv, nil)
			tt.fail(srv)
			msg := messenger.OutMessage{Chat: vkChat("5"), Text: "x", ImageURL: imgs.URL + "/pic.png"}
			_, err := b.Send(context.Background(), msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s := err.Error(); strings.Contains(s, srv.Token()) || strings.Contains(s, "hash=") || strings.Contains(s, "/upload?") {
				t.Fatalf("a secret leaked into the error: %v", err)
			}
			if srv.Calls("messages.send") != 0 {
				t.Fatal("sent without the picture")
			}
			calls := srv.Calls("photos.getMessagesUploadServer")
			_, err = b.Send(context.Background(), msg)
			switch {
			case tt.cached && (!errors.Is(err, tt.want) || srv.Calls("photos.getMessagesUploadServer") != calls):
				t.Fatalf("second send: %v, %d upload servers (was %d); want the remembered failure", err,
					srv.Calls("photos.getMessagesUploadServer"), calls)
			case !tt.cached && (err != nil || len(srv.Messages(5)) != 1):
				t.Fatalf("second send after a transient failure: %v, %d messages", err, len(srv.Messages(5)))
			}
		})
	}
}

// TestPhotoCacheBounded: the cache keeps at most its size, and a failure is
// tried again once its TTL passed.
func TestPhotoCacheBounded(t *testing.T) {
	t.Parallel()
	var uploads atomic.Int32
	fail := atomic.Bool{}
	c := newPhotoCache(2, func(_ context.Context, url string) (string, error) {
		uploads.Add(1)
		if fail.Load() {
			return "", fmt.Errorf("gone: %w", messenger.ErrBadRequest)
		}
		return "photo-1_" + url, nil
	})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for _, u := range []string{"a", "b", "a", "c", "a", "b"} {
		if att, err := c.attachment(ctx, u); err != nil || att != "photo-1_"+u {
			t.Fatalf("%s: %q %v", u, att, err)
		}
	}
	// a, b, (a cached), c evicts b, (a cached), b again: 4 uploads.
	if uploads.Load() != 4 || c.results.Len() != 2 {
		t.Fatalf("%d uploads, %d cached", uploads.Load(), c.results.Len())
	}
	fail.Store(true)
	for range 2 {
		if _, err := c.attachment(ctx, "d"); !errors.Is(err, messenger.ErrBadRequest) {
			t.Fatal(err)
		}
	}
	now = now.Add(photoFailureTTL)
	fail.Store(false)
	if att, err := c.attachment(ctx, "d"); err != nil || att != "photo-1_d" || uploads.Load() != 6 {
		t.Fatalf("after the TTL: %q %v, %d uploads", att, err, uploads.Load())
	}
}

// TestPhotoWaiterGivesUp: a caller whose context ends stops waiting; the
// upload goes on for the others.
func TestPhotoWaiterGivesUp(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := newPhotoCache(4, func(ctx context.Context, _ string) (string, error) {
		<-release
		return "photo-1_2", ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.attachment(ctx, "u"); errc <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(release)
	if att, err := c.attachment(context.Background(), "u"); err != nil || att != "photo-1_2" {
		t.Fatalf("%q %v", att, err)
	}
}
