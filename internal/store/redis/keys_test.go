package redis

import (
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	k := keys{prefix: "chathub"}
	tests := []struct {
		name, got, want string
	}{
		{"telegram state", k.state(messenger.ChatKey{Platform: messenger.Telegram, ID: "123"}), "chathub:{telegram:123}:state"},
		{"telegram lock", k.lock(messenger.ChatKey{Platform: messenger.Telegram, ID: "123"}), "chathub:{telegram:123}:lock"},
		{"vk state", k.state(messenger.ChatKey{Platform: messenger.VK, ID: "-42"}), "chathub:{vk:-42}:state"},
		{"terminal state", k.state(messenger.ChatKey{Platform: messenger.Terminal, ID: "local"}), "chathub:{terminal:local}:state"},
		{"telegram update", k.update(messenger.ChatKey{Platform: messenger.Telegram, ID: "123"}, "987654"), "chathub:{telegram:123}:upd:987654"},
		{"vk update", k.update(messenger.ChatKey{Platform: messenger.VK, ID: "-42"}, "ev_1a2b"), "chathub:{vk:-42}:upd:ev_1a2b"},
		{"named bot state", k.state(messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "123"}), "chathub:{telegram@shop:123}:state"},
		{"named bot lock", k.lock(messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "123"}), "chathub:{telegram@shop:123}:lock"},
		{"named bot update", k.update(messenger.ChatKey{Platform: messenger.VK, Bot: "club", ID: "7"}, "e1"), "chathub:{vk@club:7}:upd:e1"},
		{"named bot pace", k.chatPace(messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "1"}, "p"), "chathub:{telegram@shop:1}:pace:p"},
		{"custom prefix", keys{prefix: "t_ab:x"}.state(messenger.ChatKey{Platform: messenger.VK, ID: "1"}), "t_ab:x:{vk:1}:state"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: key = %q; want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestKeysShareSlotPerChat(t *testing.T) {
	t.Parallel()
	chats := []messenger.ChatKey{
		{Platform: messenger.Telegram, ID: "123"},
		{Platform: messenger.Telegram, ID: "5000000001"},
		{Platform: messenger.VK, ID: "77"},
		{Platform: messenger.Telegram, Bot: "shop", ID: "123"},
		{Platform: messenger.Terminal, ID: "odd}id{"}, // braces in an id still keep one slot per chat
	}
	for _, prefix := range []string{"chathub", "t_0123", "prod:eu"} {
		k := keys{prefix: prefix}
		for _, c := range chats {
			state, lock, upd := k.state(c), k.lock(c), k.update(c, "999999")
			if clusterSlot(state) != clusterSlot(lock) || clusterSlot(state) != clusterSlot(upd) {
				t.Errorf("%s, %s and %s are in slots %d, %d and %d; want one slot", state, lock, upd,
					clusterSlot(state), clusterSlot(lock), clusterSlot(upd))
			}
			// The slot depends on the chat only, not on the deployment prefix.
			if got, want := clusterSlot(state), clusterSlot(keys{prefix: "other"}.state(c)); got != want {
				t.Errorf("%s: slot %d differs from other prefix's %d", state, got, want)
			}
		}
	}
	// Different chats spread over slots (they are not all pinned to one).
	k := keys{prefix: "chathub"}
	if clusterSlot(k.state(chats[0])) == clusterSlot(k.state(chats[1])) &&
		clusterSlot(k.state(chats[1])) == clusterSlot(k.state(chats[2])) {
		t.Error("different chats all map to one slot: the hash tag is not per chat")
	}
}

func TestClusterSlot(t *testing.T) {
	t.Parallel()
	// Reference values from the Redis Cluster specification and CLUSTER KEYSLOT docs.
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x; want 0x31c3", got)
	}
	tests := []struct {
		key  string
		want int
	}{
		{"somekey", 11058},
		{"foo{hash_tag}", 2515},
		{"bar{hash_tag}", 2515},
		{"foo", 12182},
		{"{}foo", clusterSlotNoTag("{}foo")}, // empty tag: whole key is hashed
		{"foo{}{bar}", clusterSlotNoTag("foo{}{bar}")},
		{"foo{{bar}}zap", int(crc16("{bar") % 16384)},
		{"foo{bar}{zap}", int(crc16("bar") % 16384)},
	}
	for _, tc := range tests {
		if got := clusterSlot(tc.key); got != tc.want {
			t.Errorf("clusterSlot(%q) = %d; want %d", tc.key, got, tc.want)
		}
	}
}

// clusterSlotNoTag hashes the whole key.
func clusterSlotNoTag(key string) int { return int(crc16(key) % 16384) }

func TestKeysSeparateBots(t *testing.T) {
	t.Parallel()
	k := keys{prefix: "chathub"}
	// One user id on one platform, three bots: every per-chat key differs.
	chats := []messenger.ChatKey{
		{Platform: messenger.Telegram, ID: "123"},
		{Platform: messenger.Telegram, Bot: "shop", ID: "123"},
		{Platform: messenger.Telegram, Bot: "club", ID: "123"},
	}
	seen := map[string]messenger.ChatKey{}
	for _, c := range chats {
		for _, key := range []string{k.state(c), k.lock(c), k.update(c, "1"), k.chatPace(c, "p")} {
			if other, dup := seen[key]; dup {
				t.Errorf("%s and %s share key %s", c, other, key)
			}
			seen[key] = c
		}
	}
}

func TestCheckChatRejectsAmbiguousBot(t *testing.T) {
	t.Parallel()
	for _, bot := range []string{"a:b", "a{b", "a}b", "a@b", "a/b"} {
		if err := checkChat(messenger.ChatKey{Platform: messenger.Telegram, Bot: bot, ID: "1"}); err == nil {
			t.Errorf("checkChat(bot %q) = nil; want an error", bot)
		}
	}
	if err := checkChat(messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop_2-x", ID: "1"}); err != nil {
		t.Errorf("checkChat(bot shop_2-x) = %v; want nil", err)
	}
}
