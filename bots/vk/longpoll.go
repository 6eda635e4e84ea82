package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
)

// ErrCallbackMode is returned by Run when the Bot is configured for the
// Callback API, whose events arrive through CallbackHandler instead.
var ErrCallbackMode = errors.New("vk: Run serves Bots Long Poll; in Callback API mode mount CallbackHandler")

// pollResponse is a Bots Long Poll answer.
type pollResponse struct {
	TS      json.RawMessage     `json:"ts"` // a string, or a number on old servers
	Updates []events.GroupEvent `json:"updates"`
	Failed  int                 `json:"failed"`
}

// poller is the state of one Run: the long-poll server, key and position.
type poller struct {
	b       *Bot
	server  string
	key     string
	ts      string
	backoff time.Duration
}

// Run receives events through Bots Long Poll and delivers each batch to sink
// until ctx ends (then it returns nil). The position (ts) moves past a batch
// only after sink.Deliver returned nil; otherwise the same batch is delivered
// again after a backoff of 1s doubling to 30s, so every event is handled at
// least once (the sink dedupes by Update.ID, the event_id). With a TSStore
// the position also survives a restart.
//
// The loop is written here rather than taken from vksdk's longpoll-bot,
// whose handler loop moves ts forward before the handlers run (an event being
// handled when the process stops is lost) and which returns on the first
// network error instead of backing off.
//
// Network errors and VK's transient errors are retried with backoff; a
// permanent API error (a bad token, a wrong group) ends Run with it.
func (b *Bot) Run(ctx context.Context, sink messenger.Sink) error {
	if b.cfg.CallbackMode() {
		return ErrCallbackMode
	}
	p := &poller{b: b}
	for ctx.Err() == nil {
		if err := p.step(ctx, sink); err != nil {
			return err
		}
	}
	return nil
}

// step polls once and handles the answer; it returns only permanent errors.
func (p *poller) step(ctx context.Context, sink messenger.Sink) error {
	if p.key == "" {
		if err := p.connect(ctx); err != nil {
			return p.fail(ctx, "connect to long poll", err)
		}
		p.b.state.Set(messenger.BotOK) // the token and community were accepted
	}
	resp, err := p.check(ctx)
	if err != nil {
		return p.fail(ctx, "long poll", err)
	}
	p.b.state.Set(messenger.BotOK)
	if resp.Failed != 0 {
		p.failed(ctx, resp)
		return nil
	}
	ts := tsString(resp.TS)
	if len(resp.Updates) > 0 {
		if err := p.b.deliver(ctx, sink, p.b.translate(ctx, resp.Updates)); err != nil {
			return nil // ctx ended: the batch is not acknowledged
		}
	}
	p.advance(ctx, ts)
	p.backoff = 0
	return nil
}

// fail logs a failed request and backs off; permanent API errors end Run.
func (p *poller) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if code := ErrorCode(err); code != 0 && !errors.Is(err, messenger.ErrTransient) {
		p.b.state.Set(permanentState(code))
		return err
	}
	p.b.state.Set(messenger.BotUnreachable)
	p.backoff = nextBackoff(p.backoff, p.b.backoffMin, p.b.backoffMax)
	p.b.log.Warn(what+" failed; retrying", "backoff", p.backoff, "err", err)
	sleep(ctx, p.backoff)
	return nil
}

// permanentState is the state a permanent API error code leaves the bot in.
func permanentState(code int) messenger.BotState {
	switch api.ErrorType(code) {
	case api.ErrAuth, api.ErrGroupAuth, api.ErrAppAuth: // 5, 27, 28
		return messenger.BotUnauthorized
	}
	return messenger.BotFailed
}

// connect gets a key (and, on a fresh start, the position) from
// groups.getLongPollServer; a saved or current position is kept.
func (p *poller) connect(ctx context.Context) error {
	if err := p.b.resolveGroupID(ctx); err != nil {
		return err
	}
	params, cancel := params(ctx, api.Params{"group_id": p.b.GroupID()})
	defer cancel()
	lp, err := p.b.vk.GroupsGetLongPollServer(params)
	if err != nil {
		return p.b.wrap(ctx, "groups.getLongPollServer", err)
	}
	p.server, p.key = lp.Server, lp.Key
	if !strings.Contains(p.server, "://") {
		p.server = "https://" + p.server
	}
	if p.ts == "" {
		p.ts = p.b.loadTS(ctx)
	}
	if p.ts == "" {
		// Saved at once: a process that stops before its first batch is
		// handled leaves the next one this position, not a later one.
		p.ts = lp.Ts
		p.saveTS(ctx, p.ts)
	}
	return nil
}

// check makes one long-poll request.
func (p *poller) check(ctx context.Context) (pollResponse, error) {
	var resp pollResponse
	q := url.Values{"act": {"a_check"}, "key": {p.key}, "ts": {p.ts}, "wait": {strconv.Itoa(p.b.cfg.Wait)}}
	sep := "?"
	if strings.Contains(p.server, "?") {
		sep = "&"
	}
	reqCtx, cancel := context.WithTimeout(ctx, time.Duration(p.b.cfg.Wait)*time.Second+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, p.server+sep+q.Encode(), nil)
	if err != nil {
		return resp, p.b.wrap(ctx, "long poll request", err)
	}
	res, err := p.b.cfg.HTTPClient.Do(req)
	if err != nil {
		return resp, p.b.wrap(ctx, "long poll", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return resp, p.b.wrap(ctx, "long poll", fmt.Errorf("HTTP status %s", res.Status))
	}
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return resp, p.b.wrap(ctx, "long poll answer", err)
	}
	return resp, nil
}

// failed handles {"failed":N}: 1 takes the new ts (events in between are
// gone), 2 gets a new key for the same ts, 3 a new key and ts.
func (p *poller) failed(ctx context.Context, resp pollResponse) {
	switch resp.Failed {
	case 1:
		p.b.log.Warn("long poll history lost; skipping to the new position", "ts", tsString(resp.TS))
		p.advance(ctx, tsString(resp.TS))
	case 2:
		p.b.log.Info("long poll key expired; getting a new key")
		p.key = ""
	default: // 3, or unknown
		p.b.log.Warn("long poll information lost; getting a new key and position", "failed", resp.Failed)
		p.key, p.ts = "", ""
		p.saveTS(ctx, "")
	}
}

// advance moves the position to ts (after the batch before it was handled).
func (p *poller) advance(ctx context.Context, ts string) {
	if ts == "" || ts == p.ts {
		return
	}
	p.ts = ts
	p.saveTS(ctx, ts)
}

func (p *poller) saveTS(ctx context.Context, ts string) {
	store := p.b.cfg.TSStore
	if store == nil {
		return
	}
	if err := store.SaveTS(ctx, p.b.GroupID(), ts); err != nil && ctx.Err() == nil {
		p.b.log.Warn("saving the long poll position failed", "err", redactErr(p.b.cfg.Token, err))
	}
}

// loadTS returns the saved position, "" when none or on failure.
func (b *Bot) loadTS(ctx context.Context) string {
	if b.cfg.TSStore == nil {
		return ""
	}
	ts, err := b.cfg.TSStore.LoadTS(ctx, b.GroupID())
	if err != nil {
		b.log.Warn("loading the long poll position failed; starting from the current one",
			"err", redactErr(b.cfg.Token, err))
		return ""
	}
	return ts
}

// deliver hands a batch to sink until it is accepted or ctx ends; the
// backoff runs from backoffMin doubling to backoffMax, and ends early when
// the failure was an outage of a backing service that answers again
// (*messenger.OutageError).
func (b *Bot) deliver(ctx context.Context, sink messenger.Sink, batch []*messenger.Update) error {
	if len(batch) == 0 {
		return nil
	}
	var wait time.Duration
	for {
		err := sink.Deliver(ctx, batch)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait = nextBackoff(wait, b.backoffMin, b.backoffMax)
		recovered := messenger.Recovery(err)
		level := slog.LevelWarn
		if recovered != nil {
			level = slog.LevelDebug // the outage is logged once where it is watched
		}
		b.log.Log(ctx, level, "delivering a batch failed; retrying the same batch", "updates", len(batch),
			"backoff", wait, "err", redactErr(b.cfg.Token, err))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-recovered:
			t.Stop()
			wait = 0 // the backing service answers again: back off afresh
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// tsString reads ts whether VK sent it as a string or a number.
func tsString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func nextBackoff(cur, lo, hi time.Duration) time.Duration {
	if cur == 0 {
		return lo
	}
	return min(2*cur, hi)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
