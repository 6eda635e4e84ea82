package redis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
)

// keys is the one place Redis key names are built. Every key starts with the
// configured prefix and carries a Redis Cluster hash tag ("{...}") so that the
// keys that are used together land in one slot:
//
//	<prefix>:{telegram:123}:state          conversation state of one chat
//	<prefix>:{telegram:123}:lock           per-chat lock
//	<prefix>:{telegram:123}:upd:<update>   handled-update marker (dedupe)
//	<prefix>:{telegram:123}:pace:<pacer>   a broadcast went to the chat lately
//	<prefix>:{telegram:123}:parked         updates parked behind the chat's turn
//	<prefix>:parked                        the chats with parked updates
//	<prefix>:live:<instance>               a process's liveness (owner.go)
//	<prefix>:{remind}:due                  pending reminders by due time (reminders.go)
//	<prefix>:{remind}:item                 each pending reminder, by chat
//	<prefix>:{remind}:lease                reminders a process is sending, by lease end
//	<prefix>:{telegram@shop:123}:state     the same for a named bot (ChatKey.Bot)
//	rate:<prefix>:{rl:<bucket>}:budget     a shared rate limit's GCRA state (ratelimit.go)
//	<prefix>:{rl:<bucket>}:pause           the end of that limit's pause
//	<prefix>:{poll:telegram}:lease         the bot's poller lease (intake.go)
//	<prefix>:{poll:telegram}:part:<n>      lease of the bot's queue partition n
//	<prefix>:{poll:telegram}:q:<n>         queue partition n: a stream of updates
//	<prefix>:{poll:telegram}:members       the processes sharing the bot's queue
//	<prefix>:{poll:telegram}:last          the id last appended to each partition
//	<prefix>:{poll:vk@shop}:lease          the same for a named bot
//	<prefix>:{vkts:<group>}                a VK community's Bots Long Poll position
//
// Every script and multi-key command touches the keys of one hash tag only:
// a chat's (turn, state, markers, parked list), the reminder queue's, one
// rate limit's or one bot's shared intake (leases, members, queue streams:
// one bot's queue is one slot, so it lives on one master); slots_test.go
// and intake_test.go check each against the CRC16 slots and the store's
// suites run on a three-master Redis Cluster. The reminder queue is
// one slot, so it lives on one master: it holds one small entry per chat
// with a pending reminder and is touched once per reminder, not per update.
//
// A named bot's keys carry the bot inside the hash tag ("platform@bot"), so
// one user talking to two bots has two states, locks and sets of handled
// marks, each pair in its own slot; the keys of the bot configured by
// environment variables (empty Bot) are unchanged.
//
// Keys hold platform names and ids only, never personal data. The prefix
// itself must not contain braces (Config.validate rejects them), otherwise it
// would become the hash tag and pin every key to one slot.
type keys struct {
	prefix string
}

// state is the hash {rev, data} with the chat's encoded conversation state.
func (k keys) state(chat messenger.ChatKey) string {
	return k.chat(chat) + ":state"
}

// lock is the per-chat lock key (same slot as the chat's state).
func (k keys) lock(chat messenger.ChatKey) string {
	return k.chat(chat) + ":lock"
}

// update is the handled marker of one inbound update of a chat; it shares
// the chat's slot, so the pipeline's gate scripts touch the lock, the state
// and the marker in one call.
func (k keys) update(chat messenger.ChatKey, updateID string) string {
	return k.chat(chat) + ":upd:" + updateID
}

// parked is the list of a chat's parked updates, oldest first (park.go).
func (k keys) parked(chat messenger.ChatKey) string {
	return k.chat(chat) + ":parked"
}

// parkedIndex is the set of chats with parked updates (its own slot; only
// single-key commands touch it).
func (k keys) parkedIndex() string {
	return k.prefix + ":parked"
}

// reminderDue, reminderItem and reminderLease are the reminder queue
// (reminders.go): one hash tag, so its scripts touch the three keys in one
// slot. Their members are chats (reminderMember).
func (k keys) reminderDue() string   { return k.prefix + ":{remind}:due" }
func (k keys) reminderItem() string  { return k.prefix + ":{remind}:item" }
func (k keys) reminderLease() string { return k.prefix + ":{remind}:lease" }

// reminderMember names a chat in the reminder queue: "platform:id", or
// "platform@bot:id" for a named bot (the chat's hash tag without braces).
func reminderMember(chat messenger.ChatKey) string {
	if chat.Bot == "" {
		return string(chat.Platform) + ":" + chat.ID
	}
	return string(chat.Platform) + "@" + chat.Bot + ":" + chat.ID
}

// chat is the common part of all per-chat keys: "<prefix>:{platform:id}",
// or "<prefix>:{platform@bot:id}" for a named bot.
func (k keys) chat(chat messenger.ChatKey) string {
	if chat.Bot == "" {
		return k.prefix + ":{" + string(chat.Platform) + ":" + chat.ID + "}"
	}
	return k.prefix + ":{" + string(chat.Platform) + "@" + chat.Bot + ":" + chat.ID + "}"
}

// intake is the common part of one bot's shared-intake keys (intake.go):
// "<prefix>:{poll:platform}", or "<prefix>:{poll:platform@bot}" for a named
// bot. One hash tag per bot: the poller lease, the partition leases, the
// partition streams and the member set share one slot, so XREAD over many
// partitions and every script stay within one Cluster slot.
func (k keys) intake(platform messenger.Platform, bot string) string {
	if bot == "" {
		return k.prefix + ":{poll:" + string(platform) + "}"
	}
	return k.prefix + ":{poll:" + string(platform) + "@" + bot + "}"
}

// intakeLease is a named lease of a bot's intake: "lease" (the poller) or
// "part:<n>" (a queue partition).
func (k keys) intakeLease(base, name string) string { return base + ":" + name }

// intakeStream is partition n of a bot's queue.
func (k keys) intakeStream(base string, n int) string { return base + ":q:" + strconv.Itoa(n) }

// intakeLast is the hash of the ids last appended to a bot's queue
// partitions (field: the partition's stream key).
func (k keys) intakeLast(base string) string { return base + ":last" }

// intakeMembers is the sorted set of the processes sharing a bot's queue,
// scored by when their membership ends (Redis time, ms).
func (k keys) intakeMembers(base string) string { return base + ":members" }

// vkTS is a VK community's Bots Long Poll position (its own slot).
func (k keys) vkTS(groupID int) string { return k.prefix + ":{vkts:" + strconv.Itoa(groupID) + "}" }

// checkChat rejects chat keys that would produce ambiguous key names.
func checkChat(chat messenger.ChatKey) error {
	if chat.Platform == "" || chat.ID == "" {
		return fmt.Errorf("invalid chat key %q: platform and id are required", chat.String())
	}
	if strings.ContainsAny(string(chat.Platform), "{}:@") {
		return fmt.Errorf("invalid chat key %q: platform must not contain '{', '}', ':' or '@'", chat.String())
	}
	if strings.ContainsAny(chat.Bot, "{}:@/") {
		return fmt.Errorf("invalid chat key %q: bot must not contain '{', '}', ':', '@' or '/'", chat.String())
	}
	return nil
}

// checkUpdate rejects an invalid chat key or an empty update id.
func checkUpdate(chat messenger.ChatKey, updateID string) error {
	if err := checkChat(chat); err != nil {
		return err
	}
	if updateID == "" {
		return fmt.Errorf("invalid update of %s: the update id is required", chat.String())
	}
	return nil
}

// clusterSlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of
// the hash tag (the part between the first '{' and the next '}', when that is
// non-empty) or of the whole key, modulo 16384. It mirrors the server's
// algorithm and is used by tests to prove co-location.
func clusterSlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// rateBudget is the GCRA state of a shared rate-limit bucket, as given to
// go-redis/redis_rate, which prepends "rate:": the stored key is
// "rate:<prefix>:{rl:<bucket>}:budget", the one key that does not start with
// the prefix. It expires by itself once the budget is full again.
func (k keys) rateBudget(bucket string) string {
	return k.prefix + ":{rl:" + bucket + "}:budget"
}

// chatPace marks that a message of pacer went to the chat within the
// pacer's spacing; it expires when the chat's next slot opens.
func (k keys) chatPace(chat messenger.ChatKey, pacer string) string {
	return k.chat(chat) + ":pace:" + pacer
}

// ratePause holds the end of a bucket's pause (same slot as its budget).
func (k keys) ratePause(bucket string) string {
	return k.prefix + ":{rl:" + bucket + "}:pause"
}

// checkBucket rejects bucket names that would make ambiguous keys or move
// the hash tag.
func checkBucket(bucket string) error {
	if bucket == "" {
		return fmt.Errorf("invalid bucket name: empty")
	}
	for _, r := range bucket {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("_-.:", r)
		if !ok {
			return fmt.Errorf("invalid bucket name %q: only letters, digits and _-.: are allowed", bucket)
		}
	}
	return nil
}
