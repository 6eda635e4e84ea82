package broadcast

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// lease is a worker's hold on the rows of one claim, counted from just
// before the claim by this process's clock: the database lets another
// process take the rows once the lease has passed, so every send must be
// over, and recorded, well before.
type lease struct {
	worker string
	start  time.Time
	length time.Duration
}

// sendable reports whether a send may still start: up to half the lease.
func (l lease) sendable() bool { return time.Since(l.start) < l.length/2 }

// sendBy is when the last send may start (or its budget wait end): half
// the lease.
func (l lease) sendBy() time.Time { return l.start.Add(l.length / 2) }

// errSendWindow is the cause of a budget wait ended by sendBy.
var errSendWindow = errors.New("broadcast: the lease's send window is over")

// sendDeadline is when a send still running is cut short: at 3/4 of the
// lease, leaving a quarter of it to record the outcome.
func (l lease) sendDeadline() time.Time { return l.start.Add(l.length * 3 / 4) }

// recorder keeps a worker's outcomes and writes them in small batches: an
// outcome waits at most FlushInterval (a timer writes it while the worker
// waits on a budget or sends) or until FlushSize have gathered. That bounds
// the window in which a crash loses the record of a Telegram send.
type recorder struct {
	w      *Workers
	worker string // the claim the outcomes settle
	ctx    context.Context

	write sync.Mutex // one Record at a time, in order

	mu      sync.Mutex
	pending []Outcome
	timer   *time.Timer
	err     error // of a timed write; reported by the next add
}

func newRecorder(ctx context.Context, w *Workers, worker string) *recorder {
	return &recorder{w: w, worker: worker, ctx: ctx}
}

// add keeps o; it writes the pending outcomes once FlushSize have gathered,
// and starts the timer that writes them after FlushInterval.
func (r *recorder) add(ctx context.Context, o Outcome) error {
	o.Worker = r.worker
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.pending = append(r.pending, o)
	full := len(r.pending) >= r.w.cfg.FlushSize
	if !full && r.timer == nil {
		r.timer = time.AfterFunc(r.w.cfg.FlushInterval, r.timed)
	}
	r.mu.Unlock()
	if full {
		return r.flush(ctx)
	}
	return nil
}

// timed is the timer's write; its error stops the worker's batch at the
// next add (the outcomes stay pending for the final flush).
func (r *recorder) timed() {
	if err := r.flush(r.ctx); err != nil {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
	}
}

// flush writes the pending outcomes. It uses a context that survives a hard
// stop for a few seconds: an outcome of a message already sent must not be
// dropped because the process is shutting down. Outcomes whose write failed
// stay pending, in order, for the next flush.
func (r *recorder) flush(ctx context.Context) error {
	r.write.Lock()
	defer r.write.Unlock()
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.w.svc.cfg.Ledger.Record(fctx, batch); err != nil {
		r.mu.Lock()
		r.pending = append(batch, r.pending...)
		r.mu.Unlock()
		return err
	}
	return nil
}

// close writes what is pending, after any timed write in progress.
func (r *recorder) close(ctx context.Context) error { return r.flush(ctx) }

// item is one claimed row on its way out.
type item struct {
	row  *Claimed
	chat messenger.ChatKey
	text string
}

// handle re-checks, renders and sends one batch of campaign c claimed under l.
func (w *Workers) handle(ctx context.Context, c *Campaign, ch *Channel, rows []Claimed, l lease) error {
	rec := newRecorder(ctx, w, l.worker)
	items, err := w.prepare(ctx, c, rows, rec)
	if err == nil {
		if ch.Batch != nil {
			err = w.sendBatches(ctx, c, ch, items, rec, l)
		} else {
			err = w.sendEach(ctx, c, ch, items, rec, l)
		}
	}
	if ferr := rec.close(ctx); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// prepare re-checks every row against the etiquette as the recipient is
// now (an unsubscribe or a block since the fill skips the row; quiet hours
// hand it back for later) and renders the text of the others.
func (w *Workers) prepare(ctx context.Context, c *Campaign, rows []Claimed, rec *recorder) ([]item, error) {
	tmpl, err := ParseTemplate(c.Text)
	if err != nil {
		return nil, err
	}
	now := w.svc.cfg.Now()
	var ok []*Claimed
	for i := range rows {
		r := &rows[i]
		v := w.svc.policy.Check(c, &r.Recipient, now)
		switch {
		case v.Reason != "":
			err = rec.add(ctx, Outcome{CampaignID: c.ID, ClientID: r.ClientID, Status: StatusSkipped, Reason: v.Reason, At: now})
		case !v.NotBefore.IsZero():
			err = rec.add(ctx, Outcome{CampaignID: c.ID, ClientID: r.ClientID, Status: StatusQueued, Reason: ReasonQuietHours, NotBefore: v.NotBefore, At: now})
		default:
			ok = append(ok, r)
		}
		if err != nil {
			return nil, err
		}
	}
	cards, err := w.cards(ctx, tmpl, ok)
	if err != nil {
		return nil, err
	}
	items := make([]item, 0, len(ok))
	var static string
	for _, r := range ok {
		chat := messenger.ChatKey{Platform: r.Platform, ID: r.PlatformUserID}
		text := static
		if tmpl.Personal() || static == "" {
			card := cards[r.ClientID]
			if card == nil {
				card = &crm.Client{ID: r.ClientID, Platform: r.Platform, PlatformUserID: r.PlatformUserID}
			}
			if text, err = tmpl.Render(card); err != nil {
				reason := ReasonRender
				if errors.Is(err, ErrTooLong) {
					reason = ReasonTooLong
				}
				if err := rec.add(ctx, Outcome{CampaignID: c.ID, ClientID: r.ClientID, Status: StatusFailed, Reason: reason, At: now}); err != nil {
					return nil, err
				}
				continue
			}
			if !tmpl.Personal() {
				static = text
			}
		}
		items = append(items, item{row: r, chat: chat, text: text})
	}
	return items, nil
}

// cards loads the client cards a personalised text needs.
func (w *Workers) cards(ctx context.Context, tmpl *Template, rows []*Claimed) (map[int64]*crm.Client, error) {
	if !tmpl.Personal() || len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ClientID
	}
	return w.svc.cfg.Clients.ClientsByID(ctx, ids)
}

// release hands back the items from i on (not sent) for after notBefore.
func (w *Workers) release(ctx context.Context, c *Campaign, items []item, rec *recorder, notBefore time.Time) error {
	now := w.svc.cfg.Now()
	for _, it := range items {
		o := Outcome{CampaignID: c.ID, ClientID: it.row.ClientID, Status: StatusQueued, NotBefore: notBefore, At: now, Unsent: true}
		if err := rec.add(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// sendEach sends items one by one through the chat's and the bot's
// budgets, within the lease: no budget wait goes on, and no send starts,
// after half of it (a budget wait can take that long when the bot's budget
// is shared), and a send still running at 3/4 of it is cut short.
func (w *Workers) sendEach(ctx context.Context, c *Campaign, ch *Channel, items []item, rec *recorder, l lease) error {
	for i, it := range items {
		if w.stopped() || ctx.Err() != nil || !l.sendable() || w.halted(c.ID) {
			return w.release(ctx, c, items[i:], rec, time.Time{})
		}
		// The chat's slot is taken once the bot's budget granted the send,
		// so the spacing the chat sees is the pacer's, not shortened by a
		// budget wait between the two.
		granted, err := w.waitBudget(ctx, ch, l)
		open := false
		if err == nil && granted {
			open, err = w.chatOpen(ctx, c, ch, it, rec)
		}
		if err != nil {
			return w.pause(ctx, c, items[i:], rec, err)
		}
		if !granted {
			return w.release(ctx, c, items[i:], rec, time.Time{})
		}
		if !open {
			continue
		}
		sctx, cancel := context.WithDeadline(messenger.WithIdempotencyKey(ctx, deliveryKey(c.ID, it.row.ClientID)), l.sendDeadline())
		sent, err := ch.Sender.Send(sctx, buildMessage(c, it.chat, it.text))
		cancel()
		if err := rec.add(ctx, w.outcome(ctx, c, ch, it, sent, err)); err != nil {
			return err
		}
	}
	return nil
}

// halted reports whether campaign id left the running campaigns at the
// last tick (paused or cancelled meanwhile): a worker then hands back the
// rows it claimed instead of sending them, so a pause takes effect within
// a tick (PollInterval) and one send, not after every claimed row went out.
func (w *Workers) halted(id int64) bool {
	for _, c := range *w.work.Load() {
		if c.ID == id {
			return false
		}
	}
	return true
}

// pause hands back items after a budget gave no answer (Redis down, or
// stopping): nothing of them was sent, and they are retried once the budget
// answers again. It returns the budget's error.
func (w *Workers) pause(ctx context.Context, c *Campaign, items []item, rec *recorder, err error) error {
	w.logFailure(ctx, "broadcast: rate limiter unavailable; pausing", "campaign", c.ID, "err", err)
	if rerr := w.release(ctx, c, items, rec, w.svc.cfg.Now().Add(time.Second)); rerr != nil {
		return rerr
	}
	return err
}

// chatOpen takes the chat's slot of ch.ChatPacer; a chat written to less
// than its spacing ago is handed back for when the slot opens (false), and
// the bot budget's unit granted for it goes unused.
func (w *Workers) chatOpen(ctx context.Context, c *Campaign, ch *Channel, it item, rec *recorder) (bool, error) {
	if ch.ChatPacer == nil {
		return true, nil
	}
	ok, retry, err := ch.ChatPacer.AllowChat(ctx, it.chat)
	if err != nil || ok {
		return ok, err
	}
	return false, w.release(ctx, c, []item{it}, rec, w.svc.cfg.Now().Add(retry))
}

// waitBudget takes one unit of the bot's budget for a send under l; it
// gives up, with nothing granted, when l's send window closes first. A
// unit granted is not dropped for the window's sake: its send goes out
// even if the window closes while the chat's slot is taken (only a chat
// whose slot is not open leaves it unused, see chatOpen). Waits that ran
// past the window and then dropped their unit cost a 1s lease more than
// half of a 30/s budget: with 8 workers on it each waits ~0.27s a unit.
func (w *Workers) waitBudget(ctx context.Context, ch *Channel, l lease) (granted bool, err error) {
	if ch.Limiter == nil {
		return l.sendable(), nil
	}
	wctx, cancel := context.WithDeadlineCause(ctx, l.sendBy(), errSendWindow)
	defer cancel()
	err = ch.Limiter.Wait(wctx, 1)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(wctx), errSendWindow) {
		return false, nil
	}
	return err == nil, err
}

// sendBatches sends items in groups of the same text, up to BatchChats each.
func (w *Workers) sendBatches(ctx context.Context, c *Campaign, ch *Channel, items []item, rec *recorder, l lease) error {
	var order []string
	groups := map[string][]item{}
	for _, it := range items {
		if _, ok := groups[it.text]; !ok {
			order = append(order, it.text)
		}
		groups[it.text] = append(groups[it.text], it)
	}
	var rest []item
	for gi, text := range order {
		g := groups[text]
		for len(g) > 0 {
			if w.stopped() || ctx.Err() != nil || !l.sendable() || w.halted(c.ID) {
				rest = append(rest, g...)
				for _, t := range order[gi+1:] {
					rest = append(rest, groups[t]...)
				}
				return w.release(ctx, c, rest, rec, time.Time{})
			}
			n := min(len(g), ch.BatchChats)
			if err := w.sendGroup(ctx, c, ch, g[:n], rec, l); err != nil {
				return err
			}
			g = g[n:]
		}
	}
	return nil
}

// sendGroup sends one text to the chats of g in one request, if the bot's
// budget granted it within the lease's send window.
func (w *Workers) sendGroup(ctx context.Context, c *Campaign, ch *Channel, g []item, rec *recorder, l lease) error {
	granted, err := w.waitBudget(ctx, ch, l)
	if err != nil {
		return w.pause(ctx, c, g, rec, err)
	}
	if !granted {
		return w.release(ctx, c, g, rec, time.Time{})
	}
	chats := make([]messenger.ChatKey, len(g))
	for i, it := range g {
		chats[i] = it.chat
	}
	// One key for the campaign: VK checks random_id per peer, so every
	// recipient's retry carries the same random_id whatever batch it is in.
	sctx, cancel := context.WithDeadline(messenger.WithIdempotencyKey(ctx, campaignKey(c.ID)), l.sendDeadline())
	sent, errs, err := ch.Batch.SendMany(sctx, buildMessage(c, chats[0], g[0].text), chats)
	cancel()
	for i, it := range g {
		var s messenger.Sent
		e := err
		if err == nil {
			if i < len(sent) {
				s = sent[i]
			}
			if i < len(errs) {
				e = errs[i]
			}
		}
		if rerr := rec.add(ctx, w.outcome(ctx, c, ch, it, s, e)); rerr != nil {
			return rerr
		}
	}
	return nil
}

// outcome turns a send's result into the row's outcome: sent; blocked
// (permanent for the client); failed (bad request, or transient after
// MaxAttempts); else queued again after a backoff, or after the pause a
// rate limit asked for (which pauses the whole bot budget).
func (w *Workers) outcome(ctx context.Context, c *Campaign, ch *Channel, it item, sent messenger.Sent, err error) Outcome {
	r := it.row
	now := w.svc.cfg.Now()
	o := Outcome{CampaignID: c.ID, ClientID: r.ClientID, At: now}
	var rl *messenger.RateLimitError
	switch {
	case err == nil:
		w.sent.Add(1)
		o.Status, o.MessageID, o.Text = StatusSent, sent.MessageID, it.text
	case errors.Is(err, messenger.ErrBlocked):
		o.Status, o.Reason = StatusBlocked, ReasonBlocked
	case errors.Is(err, messenger.ErrBadRequest):
		o.Status, o.Reason = StatusFailed, ReasonBadRequest
	case errors.As(err, &rl):
		if ch.Limiter != nil {
			if perr := ch.Limiter.Pause(ctx, rl.RetryAfter); perr != nil {
				w.log.WarnContext(ctx, "broadcast: pause the bot budget", "err", perr)
			}
		}
		o.Status, o.Reason, o.NotBefore = StatusQueued, "rate_limited", now.Add(rl.RetryAfter)
	case r.Attempts >= w.cfg.MaxAttempts:
		o.Status, o.Reason = StatusFailed, ReasonTransient
	default:
		o.Status, o.Reason, o.NotBefore = StatusQueued, ReasonTransient, now.Add(backoff(r.Attempts))
	}
	if err != nil {
		w.log.DebugContext(ctx, "broadcast send failed", "campaign", c.ID, "client", r.ClientID, "status", o.Status, "err", err)
	}
	return o
}

// backoff is the delay before retry n+1 of a transient failure: 2s, 4s, 8s… capped at 5m.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second << min(max(attempts-1, 0), 8)
	return min(d, 5*time.Minute)
}

// deliveryKey is the idempotency key of campaign × client.
func deliveryKey(campaign, client int64) string {
	return "broadcast:" + strconv.FormatInt(campaign, 10) + ":" + strconv.FormatInt(client, 10)
}

// campaignKey is the idempotency key of a campaign's batch sends.
func campaignKey(campaign int64) string {
	return "broadcast:" + strconv.FormatInt(campaign, 10)
}
