package telegramfake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/platformtest/telegramfake"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func newAPI(t *testing.T, s *telegramtest.Server) *tgbotapi.BotAPI {
	t.Helper()
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.URL())
	if err != nil {
		t.Fatalf("NewBotAPIWithAPIEndpoint: %v", err)
	}
	return api
}

func TestGetMeAndToken(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	if api.Self.UserName != telegramtest.BotUsername || api.Self.ID != telegramtest.BotID {
		t.Fatalf("self = %+v", api.Self)
	}
	if _, err := tgbotapi.NewBotAPIWithAPIEndpoint("1:wrong", s.URL()); err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("wrong token: err = %v", err)
	}
}

func TestGetUpdatesOffsetAndLongPoll(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	a := s.SendText(1, "/start promo")
	b := s.SendSticker(1)
	ups, err := api.GetUpdates(tgbotapi.UpdateConfig{Limit: 1})
	if err != nil || len(ups) != 1 || ups[0].UpdateID != a || ups[0].Message.Text != "/start promo" || !ups[0].Message.IsCommand() {
		t.Fatalf("first poll = %+v, %v", ups, err)
	}
	// Without a higher offset nothing is confirmed.
	if ups, _ := api.GetUpdates(tgbotapi.UpdateConfig{}); len(ups) != 2 {
		t.Fatalf("unconfirmed poll returned %d updates", len(ups))
	}
	ups, err = api.GetUpdates(tgbotapi.UpdateConfig{Offset: a + 1})
	if err != nil || len(ups) != 1 || ups[0].UpdateID != b || ups[0].Message.Sticker == nil {
		t.Fatalf("offset poll = %+v, %v", ups, err)
	}
	if got := s.Pending(); len(got) != 1 || got[0] != b {
		t.Fatalf("pending = %v", got)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.SendText(2, "late")
	}()
	start := time.Now()
	ups, err = api.GetUpdates(tgbotapi.UpdateConfig{Offset: b + 1, Timeout: 5})
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "late" || time.Since(start) > 3*time.Second {
		t.Fatalf("long poll = %+v, %v after %s", ups, err, time.Since(start))
	}
}

func TestSendMessageAndKeyboards(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(5)
	msg := tgbotapi.NewMessage(5, "pick")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Yes", "yes"), tgbotapi.NewInlineKeyboardButtonURL("Site", "https://example.com")))
	m, err := api.Send(msg)
	if err != nil || m.MessageID == 0 || m.ReplyMarkup == nil {
		t.Fatalf("send = %+v, %v", m, err)
	}
	reply := tgbotapi.NewMessage(5, "phone?")
	reply.ReplyMarkup = tgbotapi.NewOneTimeReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact("Share")))
	if _, err := api.Send(reply); err != nil {
		t.Fatal(err)
	}
	if k := s.ReplyKeyboard(5); k == nil || !k.Keyboard[0][0].RequestContact || !k.OneTimeKeyboard {
		t.Fatalf("reply keyboard = %+v", k)
	}
	remove := tgbotapi.NewMessage(5, "thanks")
	remove.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
	if _, err := api.Send(remove); err != nil {
		t.Fatal(err)
	}
	if k := s.ReplyKeyboard(5); k != nil {
		t.Fatalf("keyboard not removed: %+v", k)
	}
	got := s.WaitMessages(5, 3, time.Second)
	if got[0].ReplyMarkup.InlineKeyboard[0][0].CallbackData != "yes" || got[0].ReplyMarkup.InlineKeyboard[0][1].URL != "https://example.com" {
		t.Fatalf("inline keyboard = %+v", got[0].ReplyMarkup)
	}
	if caps := got[0].ReplyMarkup.Captions(); strings.Join(caps, ",") != "Yes,Site" {
		t.Fatalf("captions = %v", caps)
	}
}

func TestSendMessageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(s *telegramtest.Server)
		chat   int64
		text   string
		markup any
		code   int
		desc   string
	}{
		{"unknown chat", nil, 9, "hi", nil, 400, "chat not found"},
		{"too long", nil, 1, strings.Repeat("я", telegramtest.MaxTextLen+1), nil, 400, "message is too long"},
		{"empty", nil, 1, " ", nil, 400, "message text is empty"},
		{"blocked", func(s *telegramtest.Server) { s.SetBlocked(1) }, 1, "hi", nil, 403, "bot was blocked by the user"},
		{"long callback data", nil, 1, "hi", tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData("x", strings.Repeat("d", 65)))), 400, "BUTTON_DATA_INVALID"},
		{"injected 429", func(s *telegramtest.Server) { s.FailNext("sendMessage", 429, 3) }, 1, "hi", nil, 429, "retry after 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := telegramtest.New(t)
			api := newAPI(t, s)
			s.AddUser(1)
			if tt.setup != nil {
				tt.setup(s)
			}
			msg := tgbotapi.NewMessage(tt.chat, tt.text)
			msg.ReplyMarkup = tt.markup
			_, err := api.Send(msg)
			var apiErr *tgbotapi.Error
			if !errors.As(err, &apiErr) || apiErr.Code != tt.code || !strings.Contains(apiErr.Message, tt.desc) {
				t.Fatalf("err = %#v, want %d %q", err, tt.code, tt.desc)
			}
			if tt.code == 429 && apiErr.RetryAfter != 3 {
				t.Fatalf("retry_after = %d", apiErr.RetryAfter)
			}
		})
	}
}

func TestEditsAndCallbacks(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(3)
	msg := tgbotapi.NewMessage(3, "q")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("A", "a")))
	m, _ := api.Send(msg)
	id := s.PressButton(3, m.MessageID, "a")
	ups, _ := api.GetUpdates(tgbotapi.UpdateConfig{})
	cq := ups[0].CallbackQuery
	if ups[0].UpdateID != id || cq.Data != "a" || cq.Message.MessageID != m.MessageID || cq.Message.ReplyMarkup == nil {
		t.Fatalf("callback update = %+v", ups[0])
	}
	if _, err := api.Request(tgbotapi.NewCallback(cq.ID, "ok")); err != nil {
		t.Fatal(err)
	}
	if ok, text := s.CallbackAnswered(id); !ok || text != "ok" {
		t.Fatalf("answered = %v %q", ok, text)
	}
	if _, err := api.Request(tgbotapi.NewCallback(cq.ID, "")); err == nil {
		t.Fatal("second answer accepted")
	}
	edit := tgbotapi.NewEditMessageText(3, m.MessageID, "q2")
	if _, err := api.Send(edit); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Send(edit); err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("same edit: err = %v", err)
	}
	got := s.Messages(3)[0]
	if got.Text != "q2" || got.ReplyMarkup != nil || got.Edits != 1 || len(s.Events(3)) != 2 {
		t.Fatalf("edited = %+v", got)
	}
	if _, err := api.Send(tgbotapi.NewEditMessageText(3, 99, "x")); err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("missing edit: err = %v", err)
	}
}

func TestWebhookConflictAndPost(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	if _, err := api.MakeRequest("setWebhook", tgbotapi.Params{"url": "http://insecure"}); err == nil {
		t.Fatal("http webhook accepted")
	}
	if _, err := api.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://x.example/tg", "secret_token": "bad secret"}); err == nil {
		t.Fatal("bad secret accepted")
	}
	if _, err := api.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://x.example/tg", "secret_token": "s3cr-et_"}); err != nil {
		t.Fatal(err)
	}
	if h := s.Webhook(); h.URL != "https://x.example/tg" || h.Secret != "s3cr-et_" {
		t.Fatalf("webhook = %+v", h)
	}
	_, err := api.GetUpdates(tgbotapi.UpdateConfig{})
	var apiErr *tgbotapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != 409 {
		t.Fatalf("getUpdates with webhook: %v", err)
	}
	var gotSecret string
	var gotBody map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotSecret = r.Header.Get(telegramtest.SecretHeader)
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &gotBody)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	id := s.SendText(8, "hi")
	status, err := telegramtest.PostWebhook(hook.URL, "s3cr-et_", s.Update(id))
	if err != nil || status != http.StatusAccepted || gotSecret != "s3cr-et_" || gotBody["update_id"] != float64(id) {
		t.Fatalf("post = %d, %v, secret %q, body %v", status, err, gotSecret, gotBody)
	}
}

func TestFailNextVariants(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	s.FailNext("getMe", 502, 0)
	s.FailNext("getMe", 0, 0)
	post := func() (*http.Response, error) {
		return http.PostForm(strings.Replace(strings.Replace(s.URL(), "%s", s.Token(), 1), "%s", "getMe", 1), url.Values{})
	}
	resp, err := post()
	if err != nil || resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("502: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := post(); err == nil {
		t.Fatal("hang-up answered")
	}
	resp, err = post()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after failures: %v %v", resp, err)
	}
	resp.Body.Close()
	if s.Calls("getMe") != 3 {
		t.Fatalf("calls = %d", s.Calls("getMe"))
	}
}

func TestFailAfter(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	s.FailAfter("getMe", 2, 500, 0)
	s.FailNext("getMe", 429, 7) // queued behind: fails the call right after
	post := func() int {
		t.Helper()
		resp, err := http.PostForm(strings.Replace(strings.Replace(s.URL(), "%s", s.Token(), 1), "%s", "getMe", 1), url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var got []int
	for range 5 {
		got = append(got, post())
	}
	want := []int{200, 200, 500, 429, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
}

func TestDiscardMessages(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(7)
	var seen []int
	s.SetOnSend(func(user int64, m telegramtest.Sent) {
		if user == 7 {
			seen = append(seen, m.MessageID)
		}
	})
	if _, err := api.Send(tgbotapi.NewMessage(7, "kept")); err != nil {
		t.Fatal(err)
	}
	s.DiscardMessages()
	for _, text := range []string{"one", "two"} {
		if m, err := api.Send(tgbotapi.NewMessage(7, text)); err != nil || m.MessageID == 0 {
			t.Fatalf("send %q = %+v, %v", text, m, err)
		}
	}
	if got := s.Messages(7); len(got) != 1 || got[0].Text != "kept" {
		t.Errorf("messages = %+v, want only the one sent before DiscardMessages", got)
	}
	if n := len(s.Requests("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage requests recorded, want the one before DiscardMessages", n)
	}
	if n := s.Calls("sendMessage"); n != 3 {
		t.Errorf("Calls = %d, want 3", n)
	}
	if id := s.SendText(7, "later"); s.Update(id) != nil {
		t.Errorf("update %d recorded after DiscardMessages", id)
	}
	if len(seen) != 3 || seen[0] >= seen[1] || seen[1] >= seen[2] {
		t.Errorf("OnSend saw message ids %v, want 3 rising ids", seen)
	}
}

// TestUpdatesStartWithTheirID: like Telegram's, the fake's updates start
// with update_id (the adapter reads it without decoding the update), and
// getUpdates returns them whole.
func TestUpdatesStartWithTheirID(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(8)
	id := s.SendText(8, "привет")
	want := fmt.Sprintf(`{"update_id":%d,`, id)
	if raw := string(s.Update(id)); !strings.HasPrefix(raw, want) {
		t.Fatalf("update JSON %s does not start with %s", raw, want)
	}
	ups, err := api.GetUpdates(tgbotapi.UpdateConfig{Offset: 0, Limit: 10})
	if err != nil || len(ups) != 1 || ups[0].UpdateID != id || ups[0].Message == nil || ups[0].Message.Text != "привет" {
		t.Fatalf("getUpdates = %+v, %v", ups, err)
	}
}

// TestDeliverTo: updates are pushed to the webhook with the secret, at most
// maxConns at a time, and posted again until the webhook answers 200.
func TestDeliverTo(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	var mu sync.Mutex
	var inFlight, most, posts int
	got := map[int]int{} // update id → times posted
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u struct {
			UpdateID int `json:"update_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || r.Header.Get(telegramtest.SecretHeader) != "s3cret" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		inFlight++
		posts++
		most = max(most, inFlight)
		got[u.UpdateID]++
		first := got[u.UpdateID] == 1
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		if first && u.UpdateID%2 == 0 {
			w.WriteHeader(http.StatusInternalServerError) // refused once: posted again
			return
		}
	}))
	defer hook.Close()
	stop := s.DeliverTo(hook.URL, "s3cret", 2)
	ids := make([]int, 6)
	for i := range ids {
		ids[i] = s.SendText(int64(10+i), "привет")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := posts >= 9 // 6 updates, 3 of them (the even ids) twice
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if want := 1 + (1 - id%2); got[id] != want {
			t.Errorf("update %d posted %d times, want %d", id, got[id], want)
		}
	}
	if most > 2 {
		t.Errorf("%d posts at once, want at most 2", most)
	}
	if p := s.Pending(); len(p) != 0 {
		t.Errorf("delivered updates also wait for getUpdates: %v", p)
	}
}

// TestStartOutsideATest: a server of Start serves the Bot API like New's
// and Close stops it.
func TestStartOutsideATest(t *testing.T) {
	s := telegramfake.Start()
	s.AddUser(42)
	resp, err := http.Get(fmt.Sprintf(s.URL(), s.Token(), "getMe"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("getMe: %d", resp.StatusCode)
	}
	s.Close()
	if _, err := http.Get(fmt.Sprintf(s.URL(), s.Token(), "getMe")); err == nil {
		t.Error("the server answers after Close")
	}
}

// TestDiscardKeepsTheNewestMessages: under DiscardMessages a press of a
// recent message's button carries its keyboard, the bot can edit it
// (SetOnEdit sees the edit) and answer the query once; the oldest messages
// are forgotten.
func TestDiscardKeepsTheNewestMessages(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(5)
	type edit struct {
		user   int64
		method string
		text   string
	}
	var edits []edit
	s.SetOnEdit(func(user int64, method string, m telegramtest.Sent) {
		edits = append(edits, edit{user, method, m.Text})
	})
	s.DiscardMessages()
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("A", "a")))
	var ids []int
	for i := range 6 {
		msg := tgbotapi.NewMessage(5, fmt.Sprintf("q%d", i))
		msg.ReplyMarkup = kb
		m, err := api.Send(msg)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.MessageID)
	}
	newest := ids[len(ids)-1]
	s.PressButton(5, newest, "a")
	ups, err := api.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("updates = %+v, %v", ups, err)
	}
	cq := ups[0].CallbackQuery
	if cq.Message == nil || cq.Message.ReplyMarkup == nil || cq.Message.Text != "q5" {
		t.Fatalf("pressed message = %+v, want q5 with its keyboard", cq.Message)
	}
	if _, err := api.Request(tgbotapi.NewCallback(cq.ID, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Request(tgbotapi.NewCallback(cq.ID, "")); err == nil {
		t.Fatal("second answer accepted")
	}
	marked := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("✓ A", "a")))
	if _, err := api.Request(tgbotapi.NewEditMessageReplyMarkup(5, newest, marked)); err != nil {
		t.Fatalf("edit the newest message: %v", err)
	}
	if _, err := api.Send(tgbotapi.NewEditMessageText(5, ids[len(ids)-2], "edited")); err != nil {
		t.Fatalf("edit a recent message: %v", err)
	}
	if _, err := api.Send(tgbotapi.NewEditMessageText(5, ids[0], "x")); err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("edit of the oldest message: err = %v, want it forgotten", err)
	}
	want := []edit{{5, "editMessageReplyMarkup", "q5"}, {5, "editMessageText", "edited"}}
	if fmt.Sprint(edits) != fmt.Sprint(want) {
		t.Errorf("OnEdit saw %v, want %v", edits, want)
	}
	if got := s.Messages(5); len(got) != 0 {
		t.Errorf("Messages = %+v, want none recorded", got)
	}
	if got := s.Events(5); len(got) != 0 {
		t.Errorf("Events = %+v, want none recorded", got)
	}
}

// TestDelayCalls: DelayCalls holds every method but getUpdates.
func TestDelayCalls(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	s.AddUser(6)
	const d = 100 * time.Millisecond
	s.DelayCalls(d)
	t0 := time.Now()
	if _, err := api.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took >= d {
		t.Errorf("getUpdates took %s, want no delay", took)
	}
	t0 = time.Now()
	if _, err := api.Send(tgbotapi.NewMessage(6, "hi")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took < d {
		t.Errorf("sendMessage took %s, want at least %s", took, d)
	}
}
