package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// The reminder queue: the pending reminders of every chat (a step's
// remind:, dialog.Reminder), shared by every process, at most one per chat.
//
//	<prefix>:{remind}:item   hash: chat → the reminder (a small JSON entry)
//	<prefix>:{remind}:due    sorted set: chat → when it is due (ms)
//	<prefix>:{remind}:lease  sorted set: chat → when its claim ends (ms)
//
// A chat is in exactly one of due and lease while its item exists. A claim
// moves due entries (and entries whose lease ended: their process died)
// to lease in one script, so one process gets each; Finish drops an entry
// and Retry puts it back with a new due time, both only while the item is
// still the one claimed (the chat's turn may have scheduled the next
// reminder meanwhile). The times are the caller's clock, so a test can
// move it. The three keys share the hash tag {remind}: the scripts are
// Cluster-safe, and the queue lives in that one slot.

var _ dialog.ReminderQueue = (*Store)(nil)

// reminderEntry is a reminder as the queue keeps it.
type reminderEntry struct {
	Platform string `json:"p"`
	Bot      string `json:"b,omitempty"`
	ID       string `json:"i"`
	Scenario string `json:"s"`
	Version  string `json:"v"`
	Step     string `json:"st"`
	N        int    `json:"n"`
	Due      int64  `json:"d"`
	Attempts int    `json:"a,omitempty"`
}

// encodeReminder is the queue's entry of r: the same r always encodes to
// the same bytes, which the conditional scripts compare.
func encodeReminder(r dialog.Reminder) (string, error) {
	b, err := json.Marshal(reminderEntry{
		Platform: string(r.Chat.Platform), Bot: r.Chat.Bot, ID: r.Chat.ID,
		Scenario: r.Scenario, Version: r.Version, Step: r.Step, N: r.N, Due: r.Due.UnixNano(), Attempts: r.Attempts,
	})
	if err != nil {
		return "", fmt.Errorf("encode reminder of %s: %w", r.Chat, err)
	}
	return string(b), nil
}

func decodeReminder(s string) (dialog.Reminder, error) {
	var e reminderEntry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return dialog.Reminder{}, err
	}
	r := dialog.Reminder{
		Chat:     messenger.ChatKey{Platform: messenger.Platform(e.Platform), Bot: e.Bot, ID: e.ID},
		Scenario: e.Scenario, Version: e.Version, Step: e.Step, N: e.N, Due: time.Unix(0, e.Due), Attempts: e.Attempts,
	}
	if err := checkChat(r.Chat); err != nil {
		return dialog.Reminder{}, err
	}
	return r, nil
}

// scheduleReminderScript sets a chat's reminder.
//
//	KEYS[1] due, KEYS[2] item, KEYS[3] lease
//	ARGV[1] member, ARGV[2] entry, ARGV[3] due (ms)
var scheduleReminderScript = goredis.NewScript(`
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`)

// cancelReminderScript drops a chat's reminder.
//
//	KEYS as above; ARGV[1] member
var cancelReminderScript = goredis.NewScript(`
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`)

// claimRemindersScript claims up to ARGV[3] reminders: those whose lease
// ended (their process died) first, then the due ones, each moved to the
// lease set until ARGV[2]. An entry without its item is dropped.
//
//	KEYS as above; ARGV[1] now (ms), ARGV[2] lease end (ms), ARGV[3] count
//
// It returns the claimed members and entries, in pairs.
var claimRemindersScript = goredis.NewScript(`
local out = {}
local n = tonumber(ARGV[3])
local got = 0
local function take(m)
  local e = redis.call('HGET', KEYS[2], m)
  redis.call('ZREM', KEYS[1], m)
  if not e then
    redis.call('ZREM', KEYS[3], m)
    return
  end
  redis.call('ZADD', KEYS[3], ARGV[2], m)
  out[#out + 1] = m
  out[#out + 1] = e
  got = got + 1
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, n)) do take(m) end
if got < n then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, n - got)) do take(m) end
end
return out`)

// finishReminderScript drops a chat's reminder if it is still ARGV[2].
//
//	KEYS as above; ARGV[1] member, ARGV[2] the claimed entry
var finishReminderScript = goredis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`)

// retryReminderScript puts a chat's claimed reminder back, due at
// ARGV[4] as entry ARGV[3], if it is still ARGV[2].
//
//	KEYS as above; ARGV[1] member, ARGV[2] the claimed entry, ARGV[3] the new entry, ARGV[4] due (ms)
var retryReminderScript = goredis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1`)

// reminderKeys are the queue's keys, in the scripts' order.
func (s *Store) reminderKeys() []string {
	return []string{s.keys.reminderDue(), s.keys.reminderItem(), s.keys.reminderLease()}
}

// ScheduleReminder implements dialog.ReminderQueue: the chat's reminder
// becomes r, due at r.Due, replacing any other (claimed ones too).
func (s *Store) ScheduleReminder(ctx context.Context, r dialog.Reminder) error {
	if err := checkChat(r.Chat); err != nil {
		return fmt.Errorf("redis store: schedule reminder: %w", err)
	}
	entry, err := encodeReminder(r)
	if err != nil {
		return fmt.Errorf("redis store: schedule reminder: %w", err)
	}
	err = s.pipe.script(ctx, scheduleReminderScript, s.reminderKeys(), reminderMember(r.Chat), entry, r.Due.UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("redis store: schedule the reminder of %s: %w", r.Chat, err)
	}
	return nil
}

// CancelReminder implements dialog.ReminderQueue.
func (s *Store) CancelReminder(ctx context.Context, chat messenger.ChatKey) error {
	if err := checkChat(chat); err != nil {
		return fmt.Errorf("redis store: cancel reminder: %w", err)
	}
	if err := s.pipe.script(ctx, cancelReminderScript, s.reminderKeys(), reminderMember(chat)).Err(); err != nil {
		return fmt.Errorf("redis store: cancel the reminder of %s: %w", chat, err)
	}
	return nil
}

// ClaimReminders claims up to n reminders due at now (by the caller's
// clock), and those whose claim ended (the process holding them died),
// for lease: no other claim returns them until then, unless the caller
// finishes or retries them first. An entry that cannot be read is
// dropped.
func (s *Store) ClaimReminders(ctx context.Context, now time.Time, lease time.Duration, n int) ([]dialog.Reminder, error) {
	if n <= 0 {
		return nil, nil
	}
	entries, err := claimRemindersScript.Run(ctx, s.client, s.reminderKeys(),
		now.UnixMilli(), now.Add(lease).UnixMilli(), n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis store: claim reminders: %w", err)
	}
	out := make([]dialog.Reminder, 0, len(entries)/2)
	for i := 0; i+1 < len(entries); i += 2 {
		r, err := decodeReminder(entries[i+1])
		if err != nil {
			// Not ours to read, and it never becomes readable: dropped.
			_ = s.pipe.script(ctx, finishReminderScript, s.reminderKeys(), entries[i], entries[i+1]).Err()
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// FinishReminder drops claimed reminder r from the queue, unless the chat
// has another reminder since (its turn scheduled the next one).
func (s *Store) FinishReminder(ctx context.Context, r dialog.Reminder) error {
	entry, err := encodeReminder(r)
	if err != nil {
		return fmt.Errorf("redis store: finish reminder: %w", err)
	}
	if err := s.pipe.script(ctx, finishReminderScript, s.reminderKeys(), reminderMember(r.Chat), entry).Err(); err != nil {
		return fmt.Errorf("redis store: finish the reminder of %s: %w", r.Chat, err)
	}
	return nil
}

// RetryReminder puts claimed reminder r back in the queue, due at at with
// attempts tries counted, unless the chat has another reminder since.
func (s *Store) RetryReminder(ctx context.Context, r dialog.Reminder, attempts int, at time.Time) error {
	entry, err := encodeReminder(r)
	if err != nil {
		return fmt.Errorf("redis store: retry reminder: %w", err)
	}
	next := r
	next.Attempts = attempts
	nextEntry, err := encodeReminder(next)
	if err != nil {
		return fmt.Errorf("redis store: retry reminder: %w", err)
	}
	err = s.pipe.script(ctx, retryReminderScript, s.reminderKeys(), reminderMember(r.Chat), entry, nextEntry, at.UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("redis store: put back the reminder of %s: %w", r.Chat, err)
	}
	return nil
}

// PendingReminders counts the reminders in the queue: due later, due now,
// or claimed.
func (s *Store) PendingReminders(ctx context.Context) (int64, error) {
	n, err := s.client.HLen(ctx, s.keys.reminderItem()).Result()
	if err != nil {
		return 0, fmt.Errorf("redis store: count reminders: %w", err)
	}
	return n, nil
}

// ReminderOf returns the chat's pending reminder and when it is due (or
// its claim ends, while claimed); false when it has none.
func (s *Store) ReminderOf(ctx context.Context, chat messenger.ChatKey) (dialog.Reminder, time.Time, bool, error) {
	member := reminderMember(chat)
	entry, err := s.client.HGet(ctx, s.keys.reminderItem(), member).Result()
	if errors.Is(err, goredis.Nil) {
		return dialog.Reminder{}, time.Time{}, false, nil
	}
	if err != nil {
		return dialog.Reminder{}, time.Time{}, false, fmt.Errorf("redis store: reminder of %s: %w", chat, err)
	}
	r, err := decodeReminder(entry)
	if err != nil {
		return dialog.Reminder{}, time.Time{}, false, fmt.Errorf("redis store: reminder of %s: %w", chat, err)
	}
	at, err := s.client.ZScore(ctx, s.keys.reminderDue(), member).Result()
	if errors.Is(err, goredis.Nil) {
		at, err = s.client.ZScore(ctx, s.keys.reminderLease(), member).Result()
	}
	if err != nil && !errors.Is(err, goredis.Nil) {
		return dialog.Reminder{}, time.Time{}, false, fmt.Errorf("redis store: reminder of %s: %w", chat, err)
	}
	return r, time.UnixMilli(int64(at)), true, nil
}
