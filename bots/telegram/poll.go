package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// allowedUpdates are the update kinds the adapter asks Telegram for.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member"}

// commitTimeout bounds the final getUpdates that confirms the last handled
// batch when Run stops.
const commitTimeout = 5 * time.Second

// Run long-polls getUpdates until ctx ends and hands every batch to sink. The
// offset moves past a batch only after sink.Deliver returns nil: on an error
// the same batch is delivered again after a backoff (Config.RetryDelay, 1s
// by default, doubling up to Config.MaxRetryDelay, 30s), so delivery is at
// least once. When ctx ends Run stops polling, leaves a batch not yet
// handled unconfirmed (the next Run gets it again), confirms the last
// handled one and returns nil.
//
// getUpdates failures are retried: after parameters.retry_after on 429,
// with the backoff otherwise. Run returns an error wrapping ErrConflict on
// 409 (a webhook is set, or another process polls this bot), one wrapping
// ErrUnauthorized when the token is refused, and at once when the Bot is in
// webhook mode.
//
// When sink is a messenger.Submitter (the inbound pipeline is), polling is
// pipelined: a batch is queued and the next getUpdates is sent at once, with
// the lowest update still being handled as its offset, so Telegram confirms
// only handled updates while new ones are picked up without waiting for the
// whole previous batch; updates returned again while in flight are skipped,
// and a failed batch is taken again after the backoff.
func (b *Bot) Run(ctx context.Context, sink messenger.Sink) error {
	if b.cfg.WebhookURL != "" {
		return errors.New("telegram: Run: the bot is in webhook mode (WebhookURL is set); mount WebhookHandler instead")
	}
	if err := b.checkToken(ctx); err != nil {
		return err
	}
	if sub, ok := sink.(messenger.Submitter); ok {
		return b.runPipelined(ctx, sub)
	}
	var offset, acked int
	retry := backoff{min: b.minGap, max: b.maxGap}
	for ctx.Err() == nil {
		raw, err := b.getUpdates(ctx, offset, b.cfg.PollLimit, b.cfg.PollTimeout)
		if err != nil {
			if stop, err := b.pollFailed(ctx, err, &retry); stop {
				return err
			}
			continue
		}
		retry.reset()
		b.state.Set(messenger.BotOK)
		acked = offset
		if len(raw) == 0 {
			continue
		}
		if !b.handleBatch(ctx, sink, raw) {
			break
		}
		offset = nextOffset(raw)
	}
	if offset > acked {
		b.commit(ctx, offset)
	}
	return nil
}

func nextOffset(raw []tgbotapi.Update) int {
	next := 0
	for _, u := range raw {
		next = max(next, u.UpdateID+1)
	}
	return next
}

func (b *Bot) getUpdates(ctx context.Context, offset, limit int, timeout time.Duration) ([]tgbotapi.Update, error) {
	raw, err := b.getRawUpdates(ctx, offset, limit, timeout)
	if err != nil {
		return nil, err
	}
	return b.decodeUpdates(raw), nil
}

// rawUpdate is one update of a getUpdates answer: its id, read without
// decoding the rest, and its JSON. Pipelined polling gets the updates in
// flight back in every answer and decodes only the new ones.
type rawUpdate struct {
	id   int
	data json.RawMessage
}

// getRawUpdates calls getUpdates and splits the answer into its updates.
func (b *Bot) getRawUpdates(ctx context.Context, offset, limit int, timeout time.Duration) ([]rawUpdate, error) {
	cfg := tgbotapi.NewUpdate(offset)
	cfg.Limit = limit
	cfg.Timeout = int(timeout / time.Second)
	cfg.AllowedUpdates = allowedUpdates
	result, err := b.callRaw(ctx, timeout+pollGrace, "getUpdates", cfg)
	if err != nil {
		return nil, err
	}
	// The library decoded (and so validated) the whole answer.
	list, err := splitArray(result)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: decode result: %w", err)
	}
	out := make([]rawUpdate, len(list))
	for i, data := range list {
		id, err := readUpdateID(data)
		if err != nil {
			// Without its id an update cannot be confirmed or skipped.
			return nil, fmt.Errorf("telegram: getUpdates: decode result: %w", err)
		}
		out[i] = rawUpdate{id: id, data: data}
	}
	return out, nil
}

// updateIDPrefix is how Telegram starts every update.
const updateIDPrefix = `{"update_id":`

// readUpdateID returns an update's update_id: at once when the update
// starts with it, as Telegram's do, else by decoding the update.
func readUpdateID(data []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(data, []byte(updateIDPrefix)); ok {
		n := 0
		for n < len(rest) && n < 18 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == ',' || rest[n] == '}') {
			id, err := strconv.Atoi(string(rest[:n]))
			if err == nil {
				return id, nil
			}
		}
	}
	var v struct {
		UpdateID *int `json:"update_id"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, err
	}
	if v.UpdateID == nil {
		return 0, errors.New("update without update_id")
	}
	return *v.UpdateID, nil
}

// decodeUpdates decodes raw updates. One that does not decode is ignored
// with a log line: it stays in the list with only its id, which no handler
// acts on, so it is confirmed like any other.
func (b *Bot) decodeUpdates(raw []rawUpdate) []tgbotapi.Update {
	out := make([]tgbotapi.Update, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r.data, &out[i]); err != nil {
			b.log.Warn("malformed update ignored", "update_id", r.id, "err", err)
			out[i] = tgbotapi.Update{}
		}
		out[i].UpdateID = r.id
	}
	return out
}

// checkToken calls getMe before polling, whose first answer may take the
// whole long-poll timeout: a refused token stops Run at once, and State is
// ok (or unreachable) from the start. Other failures are left to polling.
func (b *Bot) checkToken(ctx context.Context) error {
	_, err := b.Me(ctx)
	switch {
	case err == nil:
		b.state.Set(messenger.BotOK)
	case errors.Is(err, ErrUnauthorized):
		b.state.Set(messenger.BotUnauthorized)
		return fmt.Errorf("telegram: polling not started: %w", err)
	case ctx.Err() == nil:
		b.state.Set(messenger.BotUnreachable)
	}
	return nil
}

// pollFailed handles a getUpdates error: it waits before the next try, or
// says to stop (with the error Run returns).
func (b *Bot) pollFailed(ctx context.Context, err error, retry *backoff) (stop bool, _ error) {
	var rl *messenger.RateLimitError
	switch {
	case ctx.Err() != nil:
		return true, nil
	case errors.Is(err, ErrConflict):
		b.state.Set(messenger.BotConflict)
		return true, fmt.Errorf("telegram: polling stopped (delete the webhook or stop the other poller): %w", err)
	case errors.Is(err, ErrUnauthorized):
		b.state.Set(messenger.BotUnauthorized)
		return true, fmt.Errorf("telegram: polling stopped: %w", err)
	case errors.As(err, &rl):
		b.state.Set(messenger.BotOK) // it answered
		b.log.Warn("getUpdates rate limited", "retry_after", rl.RetryAfter)
		sleepCtx(ctx, rl.RetryAfter)
	default:
		b.state.Set(messenger.BotUnreachable)
		d := retry.next()
		b.log.Warn("getUpdates failed; retrying", "err", err, "retry_in", d)
		sleepCtx(ctx, d)
	}
	return false, nil
}

// handleBatch delivers a batch until the sink takes it; false when ctx ended
// first (the batch stays unconfirmed).
func (b *Bot) handleBatch(ctx context.Context, sink messenger.Sink, raw []tgbotapi.Update) bool {
	bt := b.prepare(ctx, raw)
	if len(bt.updates) == 0 {
		return true
	}
	retry := backoff{min: b.minGap, max: b.maxGap}
	for {
		err := b.deliver(ctx, sink, bt)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d := retry.next()
		recovered := messenger.Recovery(err)
		level := slog.LevelWarn
		if recovered != nil {
			level = slog.LevelDebug // the outage is logged once where it is watched
		}
		b.log.Log(ctx, level, "delivering updates failed; retrying the batch", "err", err, "updates", len(bt.updates), "retry_in", d)
		switch waitRetry(ctx, d, recovered) {
		case retryCanceled:
			return false
		case retryRecovered:
			retry.reset()
		}
	}
}

// commit confirms the handled updates below offset after ctx ended.
func (b *Bot) commit(ctx context.Context, offset int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if _, err := b.getUpdates(ctx, offset, 1, 0); err != nil {
		b.log.Warn("confirming handled updates failed; they will be delivered again", "err", err)
	}
}

// backoff doubles a delay from min up to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// How waitRetry ended.
const (
	retryDue = iota
	retryRecovered
	retryCanceled
)

// waitRetry waits d, or until recovered closes (nil never does) or ctx ends.
func waitRetry(ctx context.Context, d time.Duration, recovered <-chan struct{}) int {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return retryDue
	case <-recovered:
		return retryRecovered
	case <-ctx.Done():
		return retryCanceled
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
