package vk

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	att := func(types ...string) []map[string]any {
		var out []map[string]any
		for _, typ := range types {
			out = append(out, vktest.Attachment(typ, 11))
		}
		return out
	}
	unsupported := func(media string) *messenger.Update {
		return &messenger.Update{Kind: messenger.KindUnsupported, Media: media}
	}
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
		{"sticker", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("sticker")}), unsupported(messenger.MediaSticker)},
		{"photo", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("photo")}), unsupported(messenger.MediaPhoto)},
		{"voice message", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("audio_message")}), unsupported(messenger.MediaVoice)},
		{"video", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("video")}), unsupported(messenger.MediaVideo)},
		{"audio", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("audio")}), unsupported(messenger.MediaAudio)},
		{"document", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("doc")}), unsupported(messenger.MediaDocument)},
		{"wall post", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("wall")}), unsupported(messenger.MediaOther)},
		{"gift", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("gift")}), unsupported(messenger.MediaOther)},
		{"geo", srv.MessageEvent(vktest.InMessage{FromID: 11, Geo: vktest.Geo()}), unsupported(messenger.MediaLocation)},
		{"first attachment decides", srv.MessageEvent(vktest.InMessage{FromID: 11, Attachments: att("doc", "photo")}),
			unsupported(messenger.MediaDocument)},
		{"forwarded messages only", srv.MessageEvent(vktest.InMessage{FromID: 11}), unsupported(messenger.MediaOther)},
		{"unreadable attachments", srv.NewEvent("message_new", map[string]any{"message": map[string]any{"id": 77,
			"from_id": 11, "peer_id": 11, "text": "", "attachments": map[string]any{"odd": true}}}),
			unsupported(messenger.MediaOther)},
		{"link preview is no media", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "https://example.com", Attachments: att("link")}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "https://example.com"}},
		{"photo with caption stays text", srv.MessageEvent(vktest.InMessage{FromID: 11, Text: "смотри", Attachments: att("photo")}),
			&messenger.Update{Kind: messenger.KindMessage, Text: "смотри", Media: messenger.MediaPhoto}},
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
				got.Source != tt.want.Source || got.Media != tt.want.Media || got.MessageID != "" {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if want := sentMessageID(t, tt.ev); got.PlatformMsgID != want {
				t.Fatalf("platform message id %q, want %q", got.PlatformMsgID, want)
			}
		})
	}
}

// sentMessageID is the id of the message an event carries as VK numbers
// it ("" for an event without a message).
func sentMessageID(t *testing.T, ev vktest.Event) string {
	t.Helper()
	var obj struct {
		Message *struct {
			ID int `json:"id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(ev.Object, &obj); err != nil || obj.Message == nil || obj.Message.ID == 0 {
		return ""
	}
	return strconv.Itoa(obj.Message.ID)
}

// TestTranslateConversationMessageID: a message VK gives no id (0) is
// recorded by its conversation_message_id, marked so the numberings never
// mix; one with neither has no id.
func TestTranslateConversationMessageID(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	for _, tc := range []struct {
		id, conv int
		want     string
	}{{0, 5, "c5"}, {31, 5, "31"}, {0, 0, ""}} {
		ev := srv.NewEvent("message_new", map[string]any{"message": map[string]any{"id": tc.id,
			"conversation_message_id": tc.conv, "from_id": 12, "peer_id": 12, "text": "привет"}})
		if got := b.translateEvent(groupEvent(t, ev)); got == nil || got.PlatformMsgID != tc.want {
			t.Fatalf("id %d, conversation id %d: got %+v, want platform message id %q", tc.id, tc.conv, got, tc.want)
		}
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
