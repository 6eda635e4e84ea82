package vk

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	sticker := []map[string]any{{"type": "sticker", "sticker": map[string]any{"sticker_id": 9}}}
	photo := []map[string]any{{"type": "photo", "photo": map[string]any{"id": 1}}}
	tests := []struct {
		name string
		ev   vktest.Event
		want *messenger.Update // nil: ignored
	}{
		{"text", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Марина"}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Марина"}},
		{"start", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Начать", Payload: `{"command":"start"}`}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "/start"}},
		{"start with ref", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Начать", Payload: `{"command":"start"}`, Ref: "b2b_ads"}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "/start b2b_ads", Source: "b2b_ads"}},
		{"text with ref", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Привет", Ref: "promo"}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Привет", Source: "promo"}},
		{"our button", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Да, согласен", Payload: `{"v":"yes"}`}),
			&messenger.Update{Kind: messenger.KindButton, Text: "Да, согласен", Value: "yes"}},
		{"empty value button", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Пусто", Payload: `{"v":""}`}),
			&messenger.Update{Kind: messenger.KindButton, Text: "Пусто"}},
		{"foreign payload", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Меню", Payload: `{"button":"1"}`}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Меню"}},
		{"broken payload", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "Меню", Payload: `{oops`}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Меню"}},
		{"sticker", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: sticker}),
			&messenger.Update{Kind: messenger.KindUnsupported}},
		{"photo with caption", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "смотри", Attachments: photo}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "смотри"}},
		{"allow", srv.NewEvent("message_allow", map[string]any{"user_id": 11, "key": "ads"}),
			&messenger.Update{Kind: messenger.KindUnblocked, Source: "ads"}},
		{"deny", srv.NewEvent("message_deny", map[string]any{"user_id": 11}),
			&messenger.Update{Kind: messenger.KindBlocked}},
		{"chat message", srv.MessageEvent(vktest.InMessage{PeerID: vktest.ChatPeerBase + 1, FromID: 11, Text: "всем"}), nil},
		{"community message", srv.MessageEvent(vktest.InMessage{FromID: -5, Text: "hi"}), nil},
		{"reply", srv.NewEvent("message_reply", map[string]any{"peer_id": 11, "text": "bot"}), nil},
		{"typing", srv.NewEvent("message_typing_state", map[string]any{"from_id": 11, "state": "typing"}), nil},
		{"group join", srv.NewEvent("group_join", map[string]any{"user_id": 11}), nil},
		{"malformed message", srv.NewEvent("message_new", []int{1}), nil},
		{"deny without user", srv.NewEvent("message_deny", map[string]any{}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newBot(t, srv, nil)
			got := b.translateEvent(groupEvent(t, tt.ev))
			if tt.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want ignored", got)
				}
				return
			}
			if got == nil {
				t.Fatal("ignored")
			}
			if got.ID != tt.ev.EventID || got.Chat != vkChat("11") || got.Time.IsZero() {
				t.Fatalf("id/chat/time = %q %v %v", got.ID, got.Chat, got.Time)
			}
			if got.Kind != tt.want.Kind || got.Text != tt.want.Text || got.Value != tt.want.Value ||
				got.Source != tt.want.Source || got.MessageID != "" {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTranslateOldAPIAndMissingEventID(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	ev := srv.NewEvent("message_new", map[string]any{"id": 1, "from_id": 12, "peer_id": 12, "text": "old"})
	ev.EventID = ""
	got := b.translateEvent(groupEvent(t, ev))
	if got == nil || got.Text != "old" || got.Chat != vkChat("12") || !strings.HasPrefix(got.ID, "h") {
		t.Fatalf("got %+v", got)
	}
	if again := b.translateEvent(groupEvent(t, ev)); again.ID != got.ID {
		t.Fatal("fallback id is not stable")
	}
}

func TestProfilesMappedAndCached(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	srv.SetUser(21, 1, "3.7.1990", "Самара")
	srv.SetName(21, "Анна", "Иванова")
	srv.SetUser(22, 2, "14.2", "")
	b, logs := newBot(t, srv, nil)
	ctx := context.Background()
	batch := []vktest.Event{
		srv.MessageEvent(vktest.InMessage{FromID: 21, Text: "a"}),
		srv.MessageEvent(vktest.InMessage{FromID: 22, Text: "b"}),
		srv.MessageEvent(vktest.InMessage{FromID: 21, Text: "c"}),
		srv.NewEvent("message_deny", map[string]any{"user_id": 23}),
	}
	ups := b.translate(ctx, toGroupEvents(t, batch))
	if len(ups) != 4 || srv.Calls("users.get") != 1 {
		t.Fatalf("%d updates, %d users.get calls", len(ups), srv.Calls("users.get"))
	}
	want := messenger.Profile{FirstName: "Анна", LastName: "Иванова", Gender: "female", BirthDate: "3.7.1990", City: "Самара"}
	if ups[0].Profile == nil || *ups[0].Profile != want || *ups[2].Profile != want {
		t.Fatalf("profile = %+v", ups[0].Profile)
	}
	if p := ups[1].Profile; p == nil || p.Gender != "male" || p.BirthDate != "14.2" || p.City != "" {
		t.Fatalf("second profile = %+v", p)
	}
	if ups[3].Profile != nil {
		t.Fatal("a blocked update got a profile")
	}
	// Seen users come from the cache.
	b.translate(ctx, toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 21, Text: "d"})}))
	if srv.Calls("users.get") != 1 {
		t.Fatalf("users.get called again (%d)", srv.Calls("users.get"))
	}
	// A failing users.get lets the update through without a profile.
	srv.FailNext("users.get", 10)
	ups = b.translate(ctx, toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 24, Text: "e"})}))
	if len(ups) != 1 || ups[0].Profile != nil || !strings.Contains(logs.String(), "users.get failed") {
		t.Fatalf("failed fetch: %+v", ups)
	}
	ups = b.translate(ctx, toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 24, Text: "f"})}))
	if ups[0].Profile == nil || ups[0].Profile.FirstName != "User" {
		t.Fatalf("profile not fetched after a failure: %+v", ups[0].Profile)
	}
}

func TestLRUBounded(t *testing.T) {
	t.Parallel()
	c := newLRU[int, string](2)
	c.Put(1, "a")
	c.Put(2, "b")
	c.Get(1)
	c.Put(3, "c")
	if _, ok := c.Get(2); ok || c.Len() != 2 {
		t.Fatal("least recently used entry not evicted")
	}
	if v, _ := c.Get(1); v != "a" {
		t.Fatal("recently used entry evicted")
	}
}

func toGroupEvents(t *testing.T, evs []vktest.Event) []events.GroupEvent {
	t.Helper()
	out := make([]events.GroupEvent, len(evs))
	for i, ev := range evs {
		out[i] = groupEvent(t, ev)
	}
	return out
}

// ensure the fake's event JSON is what vksdk's envelope reads.
func TestEventEnvelope(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	ev := srv.NewEvent("message_deny", map[string]any{"user_id": 1})
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ev.Body("s"), &raw); err != nil || string(raw["secret"]) != `"s"` {
		t.Fatalf("body = %s", ev.Body("s"))
	}
	if ge := groupEvent(t, ev); ge.GroupID != srv.GroupID() || ge.EventID == "" {
		t.Fatalf("envelope = %+v", ge)
	}
}
