package vktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
)

func newVK(s *Server, token string) *api.VK {
	vk := api.NewVK(token)
	vk.Limit = 0
	vk.MethodURL = s.URL()
	vk.Client = s.Client()
	return vk
}

func apiCode(err error) int {
	var aerr *api.Error
	if errors.As(err, &aerr) {
		return int(aerr.Code)
	}
	return 0
}

func TestAuthAndUnknownMethod(t *testing.T) {
	t.Parallel()
	s := New(t)
	if _, err := newVK(s, "wrong").GroupsGetByID(nil); apiCode(err) != 5 {
		t.Fatalf("wrong token: %v, want code 5", err)
	}
	if _, err := newVK(s, s.Token()).Request("nope.nothing", nil); apiCode(err) != 3 {
		t.Fatalf("unknown method: %v, want code 3", err)
	}
	groups, err := newVK(s, s.Token()).GroupsGetByID(nil)
	if err != nil || len(groups) != 1 || groups[0].ID != s.GroupID() {
		t.Fatalf("groups.getById = %+v, %v", groups, err)
	}
}

func TestMessagesSend(t *testing.T) {
	t.Parallel()
	okKB := `{"inline":true,"buttons":[[{"action":{"type":"text","label":"Да","payload":"{\"v\":\"yes\"}"}}]]}`
	tests := []struct {
		name   string
		params api.Params
		code   int
	}{
		{"plain", api.Params{"peer_id": 5, "message": "hi", "random_id": 1}, 0},
		{"keyboard", api.Params{"peer_id": 5, "message": "hi", "keyboard": okKB}, 0},
		{"empty", api.Params{"peer_id": 5, "message": ""}, 100},
		{"no peer", api.Params{"message": "hi"}, 100},
		{"too long", api.Params{"peer_id": 5, "message": strings.Repeat("я", MaxMessageLen+1)}, 914},
		{"long label", api.Params{"peer_id": 5, "message": "hi",
			"keyboard": `{"buttons":[[{"action":{"type":"text","label":"` + strings.Repeat("a", 41) + `"}}]]}`}, 911},
		{"long payload", api.Params{"peer_id": 5, "message": "hi",
			"keyboard": `{"buttons":[[{"action":{"type":"text","label":"a","payload":"{\"v\":\"` +
				strings.Repeat("x", 250) + `\"}"}}]]}`}, 911},
		{"six in a row", api.Params{"peer_id": 5, "message": "hi",
			"keyboard": `{"buttons":[[` + strings.Repeat(`{"action":{"type":"text","label":"a"}},`, 5) +
				`{"action":{"type":"text","label":"a"}}]]}`}, 911},
		{"bad intent", api.Params{"peer_id": 5, "message": "hi", "intent": "spam"}, 943},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t)
			_, err := newVK(s, s.Token()).MessagesSend(tt.params)
			if got := apiCode(err); got != tt.code || (tt.code == 0 && err != nil) {
				t.Fatalf("code %d (%v), want %d", got, err, tt.code)
			}
		})
	}
}

func TestRandomIDDedupe(t *testing.T) {
	t.Parallel()
	s := New(t)
	vk := newVK(s, s.Token())
	first, err := vk.MessagesSend(api.Params{"peer_id": 7, "message": "a", "random_id": 42})
	if err != nil {
		t.Fatal(err)
	}
	again, err := vk.MessagesSend(api.Params{"peer_id": 7, "message": "a", "random_id": 42})
	if err != nil || again != first {
		t.Fatalf("retry = %d, %v; want %d", again, err, first)
	}
	if _, err := vk.MessagesSend(api.Params{"peer_id": 7, "message": "a", "random_id": 43}); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Messages(7)); got != 2 {
		t.Fatalf("%d messages delivered, want 2", got)
	}
}

func TestPeerIDs(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetUnreachable(2, 901)
	// VK answers per-peer errors as {code, description}, which vksdk's
	// MessagesSendUserIDsResponse does not decode: read them by hand.
	var res []struct {
		PeerID    int `json:"peer_id"`
		MessageID int `json:"message_id"`
		Error     *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	err := newVK(s, s.Token()).RequestUnmarshal("messages.send", &res,
		api.Params{"peer_ids": "1,2,3", "message": "news", "random_id": 9})
	if err != nil || len(res) != 3 {
		t.Fatalf("send = %+v, %v", res, err)
	}
	if res[0].MessageID == 0 || res[1].Error == nil || res[1].Error.Code != 901 || res[2].MessageID == 0 {
		t.Fatalf("per-peer answer %+v", res)
	}
	if len(s.Messages(1)) != 1 || len(s.Messages(2)) != 0 {
		t.Fatal("wrong recipients")
	}
}

func TestFailNextAndDelay(t *testing.T) {
	t.Parallel()
	s := New(t)
	vk := newVK(s, s.Token())
	s.FailNext("messages.send", 9)
	s.FailNext("messages.send", 10)
	for _, want := range []int{9, 10, 0} {
		if _, err := vk.MessagesSend(api.Params{"peer_id": 1, "message": "x"}); apiCode(err) != want {
			t.Fatalf("got %v, want code %d", err, want)
		}
	}
	s.Delay(50 * time.Millisecond)
	start := time.Now()
	if _, err := vk.GroupsGetByID(nil); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("delay not applied (%v)", err)
	}
	if s.Calls("messages.send") != 3 {
		t.Fatalf("calls = %d", s.Calls("messages.send"))
	}
}

func TestUsersGet(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetUser(10, 1, "3.7.1990", "Самара")
	s.SetName(10, "Анна", "Иванова")
	users, err := newVK(s, s.Token()).UsersGet(api.Params{"user_ids": "10,11", "fields": "sex,bdate,city"})
	if err != nil || len(users) != 2 {
		t.Fatalf("users.get = %+v, %v", users, err)
	}
	u := users[0]
	if u.FirstName != "Анна" || u.Sex != 1 || u.Bdate != "3.7.1990" || u.City.Title != "Самара" {
		t.Fatalf("user = %+v", u)
	}
	if users[1].Bdate != "" || users[1].City.Title != "" {
		t.Fatalf("default user = %+v", users[1])
	}
}

func TestEditAndButtons(t *testing.T) {
	t.Parallel()
	s := New(t)
	vk := newVK(s, s.Token())
	kb := `{"inline":true,"buttons":[[{"action":{"type":"text","label":"Да","payload":"{\"v\":\"yes\"}"}}]]}`
	id, err := vk.MessagesSend(api.Params{"peer_id": 3, "message": "Согласны?", "keyboard": kb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vk.MessagesEdit(api.Params{"peer_id": 3, "message_id": id, "message": "Да!", "keyboard": kb}); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(3)[0]; m.Text != "Да!" || m.Edits != 1 {
		t.Fatalf("edited = %+v", m)
	}
	if _, err := vk.MessagesEdit(api.Params{"peer_id": 3, "message_id": 999999, "message": "x"}); apiCode(err) != 100 {
		t.Fatalf("edit unknown = %v", err)
	}
	s.PressLabel(3, "Да")
	s.PressButton(3, `{"v":"yes"}`)
	lp, err := vk.GroupsGetLongPollServer(api.Params{"group_id": s.GroupID()})
	if err != nil {
		t.Fatal(err)
	}
	resp := poll(t, s, lp.Server, lp.Key, "0", 0)
	if len(resp.Updates) != 2 {
		t.Fatalf("updates = %+v", resp)
	}
	for _, ev := range resp.Updates {
		var obj struct {
			Message struct{ Text, Payload string } `json:"message"`
		}
		if err := json.Unmarshal(ev.Object, &obj); err != nil || obj.Message.Text != "Да" ||
			obj.Message.Payload != `{"v":"yes"}` {
			t.Fatalf("press = %s (%v)", ev.Object, err)
		}
	}
}

type pollAnswer struct {
	TS      string  `json:"ts"`
	Updates []Event `json:"updates"`
	Failed  int     `json:"failed"`
}

func poll(t *testing.T, s *Server, server, key, ts string, wait int) pollAnswer {
	t.Helper()
	u := server + "?act=a_check&key=" + key + "&ts=" + ts + "&wait=" + string(rune('0'+wait))
	resp, err := s.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a pollAnswer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil {
		t.Fatalf("poll answer status %d", resp.StatusCode)
	}
	return a
}

func TestLongPoll(t *testing.T) {
	t.Parallel()
	s := New(t)
	lp, err := newVK(s, s.Token()).GroupsGetLongPollServer(api.Params{"group_id": s.GroupID()})
	if err != nil || lp.Ts != "0" {
		t.Fatalf("server = %+v, %v", lp, err)
	}
	if a := poll(t, s, lp.Server, lp.Key, "0", 0); len(a.Updates) != 0 || a.TS != "0" {
		t.Fatalf("empty poll = %+v", a)
	}
	s.SendText(1, "привет", "")
	s.Start(2, "promo")
	s.Deny(1)
	a := poll(t, s, lp.Server, lp.Key, "0", 1)
	if len(a.Updates) != 3 || a.TS != "3" || a.Updates[0].Type != "message_new" || a.Updates[2].Type != "message_deny" {
		t.Fatalf("poll = %+v", a)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.Allow(1)
	}()
	if a := poll(t, s, lp.Server, lp.Key, "3", 5); len(a.Updates) != 1 || a.TS != "4" {
		t.Fatalf("blocking poll = %+v", a)
	}
	s.FailLongPoll(1)
	if a := poll(t, s, lp.Server, lp.Key, "0", 0); a.Failed != 1 || a.TS != "4" {
		t.Fatalf("failed 1 = %+v", a)
	}
	s.FailLongPoll(2)
	if a := poll(t, s, lp.Server, lp.Key, "4", 0); a.Failed != 2 {
		t.Fatalf("failed 2 = %+v", a)
	}
	if a := poll(t, s, lp.Server, lp.Key, "4", 0); a.Failed != 2 {
		t.Fatalf("old key = %+v, want failed 2", a)
	}
	if len(s.Polls()) != 6 {
		t.Fatalf("polls = %v", s.Polls())
	}
}
