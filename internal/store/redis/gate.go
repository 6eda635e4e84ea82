package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

// DefaultChatLockTTL bounds how long a chat's turn is held when Enter is
// given no TTL; the pipeline passes its own (its handling timeout plus a margin).
const DefaultChatLockTTL = 35 * time.Second

// ErrTurnLost is returned by a Leave whose turn had expired (the handler ran
// longer than its TTL) and may have been taken by another process.
var ErrTurnLost = errors.New("redis store: the chat's turn expired before it was left")

// ErrStateChanged is returned by a Leave whose state write (SaveAtLeave)
// found another revision stored: the chat's state changed during the turn
// (a client erased meanwhile), so the turn's state was not written. The
// update is still marked handled and the turn released; nothing is retried.
var ErrStateChanged = errors.New("redis store: the chat's state changed during the turn; the turn's state was not written")

// enterScript takes a chat's turn for one update in one round trip, and
// reads the chat's state with it, which the handler is about to load.
//
//	KEYS[1] lock key, KEYS[2] handled marker of the update (the lock key when there is no update id), KEYS[3] state key
//	ARGV[1] token, ARGV[2] TTL in ms, ARGV[3] "1" when KEYS[2] is a marker,
//	ARGV[4] the lock value of a holder known to have stopped ("" for none),
//	KEYS[4] the chat's parked updates, ARGV[5] "1" when they go first
//
// It returns {1, rev, data, upd, out} when the turn is taken (the state's
// fields, nil where absent), {0} when the update was already handled
// (nothing is held), {-1, holder's lock value} when another holder has
// the chat and {-2} when updates of the chat are parked (park.go): a new
// update waits behind them. A lock whose value is exactly ARGV[4] is taken over: its holder
// stopped (owner.go), and the compare on the value makes sure no live
// holder took the chat in between.
var enterScript = goredis.NewScript(`
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then return {-2} end
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not ok and ARGV[4] ~= '' and redis.call('GET', KEYS[1]) == ARGV[4] then
  ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if ok then
  local v = redis.call('HMGET', KEYS[3], 'rev', 'data', 'upd', 'out')
  return {1, v[1], v[2], v[3], v[4]}
end
return {-1, redis.call('GET', KEYS[1])}`)

// leaveScript ends a turn in one round trip, writing the chat's state the
// turn handed over (SaveAtLeave) with it.
//
//	KEYS[1] lock key, KEYS[2] handled marker, KEYS[3] state key, KEYS[4] parked updates
//	ARGV[1] token, ARGV[2] "1" when the update was handled, ARGV[3] marker TTL in ms, ARGV[4] update id,
//	ARGV[5] the parked entry of the update ("" for a live one),
//	ARGV[6] state write: "" none, else saveScript's mode ("d", "r" or "s"),
//	ARGV[7] the state's expected revision, ARGV[8] its TTL in ms, ARGV[9] data, ARGV[10] outbox,
//	ARGV[11] the state's update id
//
// A handled update gets its marker. With a state write, the state is
// compare-and-set as saveScript does; the outbox of a handled update is
// confirmed already, so a handled record with no conversation is deleted
// outright (what the confirmation below leaves of it). On a revision
// mismatch nothing of the state is touched.
// Without a state write, when the chat's state recorded the handled
// update's replies, they are confirmed sent (the outbox is dropped; a
// state that is only that record is deleted). A handled parked update
// leaves the parked list. The lock is released if still held by this
// token. It returns 1 when the lock was held, 0 when it had expired, plus
// 2 when the state write found another revision.
var leaveScript = goredis.NewScript(`
local conflict = 0
if ARGV[2] == '1' and ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
end
if ARGV[6] ~= '' then
  local cur = tonumber(redis.call('HGET', KEYS[3], 'rev') or '0') or 0
  local out = ARGV[10]
  if ARGV[2] == '1' then out = '' end
  if cur ~= tonumber(ARGV[7]) then
    conflict = 2
  elseif ARGV[6] == 'd' or (ARGV[6] == 'r' and out == '' and ARGV[2] == '1') then
    redis.call('DEL', KEYS[3])
  else
    local set, del = {'rev', tostring(cur + 1)}, {}
    if ARGV[6] == 's' then table.insert(set, 'data'); table.insert(set, ARGV[9]) else table.insert(del, 'data') end
    if ARGV[11] ~= '' then table.insert(set, 'upd'); table.insert(set, ARGV[11]) else table.insert(del, 'upd') end
    if out ~= '' then table.insert(set, 'out'); table.insert(set, out) else table.insert(del, 'out') end
    redis.call('HSET', KEYS[3], unpack(set))
    if #del > 0 then redis.call('HDEL', KEYS[3], unpack(del)) end
    redis.call('PEXPIRE', KEYS[3], ARGV[8])
  end
elseif ARGV[2] == '1' and ARGV[4] ~= '' and redis.call('HGET', KEYS[3], 'upd') == ARGV[4] then
  redis.call('HDEL', KEYS[3], 'out')
  if redis.call('HEXISTS', KEYS[3], 'data') == 0 then redis.call('DEL', KEYS[3]) end
end
if ARGV[2] == '1' and ARGV[5] ~= '' and redis.call('LINDEX', KEYS[4], 0) == ARGV[5] then
  redis.call('LPOP', KEYS[4])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1 + conflict
end
return conflict`)

// Enter takes the chat's turn for one update, so that across processes one
// chat's updates are handled one at a time, and tells whether the update
// (when updateID is not empty) was handled before. It waits, polling with a
// backoff, while another live holder has the chat, until ctx ends or its
// dispatch.WaitLimit passes (which bounds only that wait, never a round
// trip); a turn
// whose holder stopped (its liveness key is gone, see owner.go) is taken
// over at once. The turn lasts at most ttl (DefaultChatLockTTL when zero)
// if leave is never called.
//
// On a duplicate (dup true) nothing is held and leave is nil. Otherwise
// leave must be called once: handled true marks the update handled for
// Config.DedupeTTL and confirms the replies its state recorded.
//
// The chat's state is read in the same round trip; the turn's first
// LoadState of the chat returns it without asking Redis again (nobody else
// writes it while the turn is held, and SaveState's revision check covers a
// holder whose turn expired).
func (s *Store) Enter(ctx context.Context, chat messenger.ChatKey, updateID string, ttl time.Duration) (leave func(ctx context.Context, handled bool) error, dup bool, err error) {
	if err := checkChat(chat); err != nil {
		return nil, false, fmt.Errorf("redis store: enter: %w", err)
	}
	if ttl <= 0 {
		ttl = DefaultChatLockTTL
	}
	if err := s.ensureLive(ctx); err != nil {
		return nil, false, fmt.Errorf("redis store: enter chat %s: %w", chat, err)
	}
	token, err := lockToken()
	if err != nil {
		return nil, false, err
	}
	token = s.owners.instance + "/" + token
	lock, marker, hasMarker := s.keys.lock(chat), s.keys.lock(chat), "0"
	if err := s.finishUnfinished(ctx, lock); err != nil {
		return nil, false, fmt.Errorf("redis store: enter chat %s: %w", chat, err)
	}
	if updateID != "" {
		marker, hasMarker = s.keys.update(chat, updateID), "1"
	}
	wait, stopped := time.Millisecond, ""
	waitUntil := time.Time{}
	if limit, ok := dispatch.WaitLimit(ctx); ok {
		waitUntil = time.Now().Add(limit)
	}
	for {
		res, err := s.pipe.script(ctx, enterScript, []string{lock, marker, s.keys.state(chat), s.keys.parked(chat)},
			token, ttl.Milliseconds(), hasMarker, stopped, hasMarker).Slice()
		code := int64(-2)
		if err == nil && len(res) > 0 {
			code, _ = res[0].(int64)
		}
		switch {
		case err != nil:
			// The script may have run (the answer was lost, or ctx ended
			// in flight): release a lock it took, which nobody would use.
			return nil, false, s.abandon(ctx, chat, lock, token, fmt.Errorf("redis store: enter chat %s: %w", chat, err))
		case code == 0:
			return nil, true, nil
		case code == 1:
			st, err := parseState(chat, res[1:])
			if err != nil {
				return nil, false, s.abandon(ctx, chat, lock, token, err)
			}
			s.preloaded.Store(lock, st)
			t := turn{s: s, chat: chat, update: updateID, token: token, marker: marker, lock: lock}
			t.hold()
			return t.leave, false, nil
		case code == -2:
			return nil, false, fmt.Errorf("redis store: enter chat %s: updates of the chat are parked: %w", chat, dispatch.ErrChatBusy)
		case code != -1:
			return nil, false, fmt.Errorf("redis store: enter chat %s: unexpected answer %v", chat, res)
		}
		if stopped, err = s.stoppedHolder(ctx, res); err != nil {
			return nil, false, fmt.Errorf("redis store: enter chat %s: %w", chat, err)
		}
		if stopped != "" {
			continue // take it over at once
		}
		if !waitUntil.IsZero() && !time.Now().Before(waitUntil) {
			return nil, false, fmt.Errorf("redis store: enter chat %s: held by another past the wait limit: %w", chat, dispatch.ErrChatBusy)
		}
		select {
		case <-ctx.Done():
			return nil, false, fmt.Errorf("redis store: enter chat %s: waiting for its turn: %w: %w", chat, dispatch.ErrChatBusy, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// stoppedHolder returns the lock value of an enter answer {-1, value}
// when its holder has stopped (so the turn can be taken over), else "".
func (s *Store) stoppedHolder(ctx context.Context, res []any) (string, error) {
	if len(res) < 2 {
		return "", nil
	}
	value, _ := res[1].(string)
	gone, err := s.holderGone(ctx, holderOf(value))
	if err != nil || !gone {
		return "", err
	}
	return value, nil
}

// turn is one held chat turn.
type turn struct {
	s       *Store
	chat    messenger.ChatKey
	update  string
	token   string
	marker  string
	lock    string
	head    string // the parked entry the turn handles ("" for a live update)
	handled bool   // set when its leave is kept for a retry
	// pending is where SaveAtLeave puts the state the turn writes when it
	// is left; save is that state once the leave took it (nil: none).
	pending *turnSave
	save    *dialog.StoredState
}

// turnSave is the state handed to a held turn by SaveAtLeave.
type turnSave struct {
	mu  sync.Mutex
	set bool
	st  dialog.StoredState
}

// hold registers the turn as held by this process, so that SaveAtLeave
// can hand it the chat's next state.
func (t *turn) hold() {
	t.pending = &turnSave{}
	t.s.held.Store(t.lock, t.pending)
}

// SaveAtLeave hands st to the chat's turn held by this process, to be
// written when the turn is left, in the leave's round trip: compare-and-set
// on st.Rev with SaveState's meaning of Data, Update and Outbox. It reports false,
// and keeps nothing, when no turn of the chat is held here (the caller then
// calls SaveState). A later call replaces the state handed over before.
// The write happens whether or not the update is left handled; a handled
// update's outbox counts as confirmed. When the stored revision is not
// st.Rev at the leave, nothing is written and the leave returns an error
// wrapping ErrStateChanged.
func (s *Store) SaveAtLeave(key messenger.ChatKey, st dialog.StoredState) bool {
	if checkChat(key) != nil || st.Rev < 0 {
		return false
	}
	v, ok := s.held.Load(s.keys.lock(key))
	if !ok {
		return false
	}
	ts := v.(*turnSave)
	ts.mu.Lock()
	ts.set, ts.st = true, st
	ts.mu.Unlock()
	return true
}

// leave ends the turn (see Enter). It runs even when ctx is cancelled, for
// at most 5 seconds, so a stopping pipeline still records what it handled.
// When Redis cannot be reached the turn is kept and the chat's next Enter in
// this process finishes it (marking the update handled, confirming its
// replies, releasing the lock) before taking a new turn.
func (t turn) leave(ctx context.Context, handled bool) error {
	t.s.preloaded.Delete(t.lock)
	if t.pending != nil {
		t.s.held.CompareAndDelete(t.lock, t.pending)
		t.pending.mu.Lock()
		if t.pending.set {
			st := t.pending.st
			t.save = &st
		}
		t.pending.mu.Unlock()
		t.pending = nil
	}
	t.handled = handled
	err := t.run(ctx)
	if err != nil && !errors.Is(err, ErrTurnLost) && !errors.Is(err, ErrStateChanged) {
		t.s.unfinished.Store(t.lock, t)
	}
	return err
}

// run executes the leave script for the turn.
func (t turn) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	h := "0"
	if t.handled {
		h = "1"
	}
	keys := []string{t.lock, t.marker, t.s.keys.state(t.chat), t.s.keys.parked(t.chat)}
	args := []any{t.token, h, t.s.cfg.DedupeTTL.Milliseconds(), t.update, t.head}
	if st := t.save; st != nil {
		mode, ttl := t.s.saveMode(*st)
		args = append(args, mode, st.Rev, ttl.Milliseconds(), st.Data, st.Outbox, st.Update)
	} else {
		args = append(args, "", 0, 0, "", "", "")
	}
	code, err := t.s.pipe.script(ctx, leaveScript, keys, args...).Int()
	switch {
	case err != nil && t.save != nil:
		return fmt.Errorf("redis store: leave chat %s (update %q): %w: %w", t.chat, t.update, dispatch.ErrTurnUnsaved, err)
	case err != nil:
		return fmt.Errorf("redis store: leave chat %s (update %q): %w", t.chat, t.update, err)
	}
	var errs []error
	if code&2 != 0 {
		errs = append(errs, fmt.Errorf("%w (chat %s, update %q, revision %d)", ErrStateChanged, t.chat, t.update, t.save.Rev))
	}
	if code&1 == 0 {
		errs = append(errs, fmt.Errorf("%w: chat %s, update %q", ErrTurnLost, t.chat, t.update))
	}
	return errors.Join(errs...)
}

// finishUnfinished runs the kept leave of the chat's last turn, if any; it
// stays kept while Redis is still unreachable.
func (s *Store) finishUnfinished(ctx context.Context, lock string) error {
	v, ok := s.unfinished.LoadAndDelete(lock)
	if !ok {
		return nil
	}
	t := v.(turn)
	err := t.run(ctx)
	switch {
	case err == nil, errors.Is(err, ErrTurnLost), errors.Is(err, ErrStateChanged):
		return nil
	}
	s.unfinished.LoadOrStore(lock, t)
	return fmt.Errorf("finishing the previous turn: %w", err)
}

// abandon releases a turn just taken, or maybe taken (its script's answer
// was lost), when it cannot be used, and returns cause.
//
// When the release fails too (Redis unreachable: the script that took the
// turn may have run with its answer lost), the release is kept like a
// failed leave, and the chat's next Enter in this process makes it before
// taking a new turn: the process does not wait out its own lock's TTL.
func (s *Store) abandon(ctx context.Context, chat messenger.ChatKey, lock, token string, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.pipe.script(ctx, unlockScript, []string{lock}, token).Err(); err != nil {
		s.unfinished.LoadOrStore(lock, turn{s: s, chat: chat, token: token, lock: lock, marker: lock})
		return errors.Join(cause, fmt.Errorf("release the turn: %w", err))
	}
	return cause
}

// unlockScript deletes KEYS[1] if it holds ARGV[1].
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

func lockToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
