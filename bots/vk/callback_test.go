package vk

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

const (
	testSecret  = "s3cr3t-callback"
	testConfirm = "a1b2c3d4"
)

func TestCallback(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	msg := srv.MessageEvent(vktest.InMessage{FromID: 81, Text: "Начать", Payload: `{"command":"start"}`, Ref: "promo"})
	other := msg
	other.GroupID = srv.GroupID() + 1
	tests := []struct {
		name      string
		method    string
		body      string
		failSink  bool
		status    int
		answer    string // exact answer, or "" to skip
		delivered int
		log       string
	}{
		{name: "get", method: http.MethodGet, status: http.StatusMethodNotAllowed},
		{name: "oversize", body: `{"type":"message_new","pad":"` + strings.Repeat("x", 3000) + `"}`,
			status: http.StatusRequestEntityTooLarge, log: "too large"},
		{name: "malformed", body: `{"type":`, status: http.StatusBadRequest},
		{name: "no type", body: `{"group_id":777}`, status: http.StatusBadRequest},
		{name: "other group", body: string(other.Body(testSecret)), status: http.StatusBadRequest, log: "another community"},
		{name: "confirmation", body: string(srv.ConfirmationEvent().Body("")), status: http.StatusOK, answer: testConfirm},
		{name: "wrong secret", body: string(msg.Body("guess")), status: http.StatusUnauthorized, log: "wrong secret"},
		{name: "no secret", body: string(msg.Body("")), status: http.StatusUnauthorized},
		{name: "deliver fails", body: string(msg.Body(testSecret)), failSink: true, status: http.StatusInternalServerError},
		{name: "ok", body: string(msg.Body(testSecret)), status: http.StatusOK, answer: "ok", delivered: 1},
		{name: "ignored type", body: string(srv.NewEvent("group_join", map[string]any{"user_id": 81}).Body(testSecret)),
			status: http.StatusOK, answer: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBot(t, srv, func(c *Config) {
				c.CallbackPath, c.CallbackSecret, c.ConfirmationCode, c.MaxBodyBytes = "/vk", testSecret, testConfirm, 2048
			})
			sink := newSink()
			if tt.failSink {
				sink.fail = func(int, []*messenger.Update) error { return errors.New("store down") }
			}
			hs := httptest.NewServer(b.CallbackHandler(sink))
			t.Cleanup(hs.Close)
			status, answer := call(t, srv, hs.URL+"/vk", tt.method, tt.body)
			if status != tt.status || (tt.answer != "" && answer != tt.answer) {
				t.Fatalf("answer %d %q, want %d %q", status, answer, tt.status, tt.answer)
			}
			if got := len(sink.updates()); got != tt.delivered {
				t.Fatalf("%d updates delivered, want %d", got, tt.delivered)
			}
			if tt.delivered > 0 {
				u := sink.updates()[0]
				if u.ID != msg.EventID || u.Text != "/start promo" || u.Source != "promo" || u.Profile == nil {
					t.Fatalf("update %+v", u)
				}
			}
			if out := logs.String(); !strings.Contains(out, tt.log) || strings.Contains(out, testSecret) {
				t.Fatalf("logs want %q, no secret:\n%s", tt.log, out)
			}
		})
	}
}

func call(t *testing.T, srv *vktest.Server, url, method, body string) (int, string) {
	t.Helper()
	if method == "" {
		return srv.PostCallback(url, []byte(body))
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, ""
}

func TestCallbackRefusedInLongPollMode(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	hs := httptest.NewServer(b.CallbackHandler(newSink()))
	t.Cleanup(hs.Close)
	ev := srv.MessageEvent(vktest.InMessage{FromID: 1, Text: "x"})
	if status, _ := srv.PostCallback(hs.URL, ev.Body("")); status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", status)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"minimal long poll", Config{Token: "t"}, ""},
		{"no token", Config{}, "token is required"},
		{"bad wait", Config{Token: "t", Wait: 91}, "wait"},
		{"bad url", Config{Token: "t", APIURL: "api.vk.com"}, "api url"},
		{"negative body", Config{Token: "t", MaxBodyBytes: -1}, "max body"},
		{"callback without secrets", Config{Token: "t", CallbackPath: "/vk"}, "callback secret"},
		{"callback without group", Config{Token: "t", CallbackPath: "/vk", CallbackSecret: "s", ConfirmationCode: "c"}, "group id"},
		{"callback path", Config{Token: "t", GroupID: 1, CallbackPath: "vk", CallbackSecret: "s", ConfirmationCode: "c"},
			"start with /"},
		{"callback ok", Config{Token: "t", GroupID: 1, CallbackPath: "/vk", CallbackSecret: "s", ConfirmationCode: "c"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				c := b.cfg
				if c.APIURL != DefaultAPIURL || c.Wait != DefaultWait || c.MaxBodyBytes != DefaultMaxBodyBytes ||
					c.HTTPClient == nil || c.Logger == nil || b.vk.Limit != 0 || b.vk.MethodURL != DefaultAPIURL {
					t.Fatalf("defaults not applied: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
