package broadcast

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// recorder keeps a worker's outcomes and writes them in small batches: the
// send-to-record window is at most FlushSize sends or FlushInterval.
type recorder struct {
	w       *Workers
	pending []Outcome
	since   time.Time
}

func (r *recorder) add(ctx context.Context, o Outcome) error {
	if len(r.pending) == 0 {
		r.since = time.Now()
	}
	r.pending = append(r.pending, o)
	if len(r.pending) >= r.w.cfg.FlushSize || time.Since(r.since) >= r.w.cfg.FlushInterval {
		return r.flush(ctx)
	}
	return nil
}

// flush writes the pending outcomes. It uses a context that survives a hard
// stop for a few seconds: an outcome of a message already sent must not be
// dropped because the process is shutting down.
func (r *recorder) flush(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.w.svc.cfg.Ledger.Record(fctx, r.pending); err != nil {
		return err
	}
	r.pending = r.pending[:0]
	return nil
}

// item is one claimed row on its way out.
type item struct {
	row  *Claimed
	chat messenger.ChatKey
	text string
}

// handle re-checks, renders and sends one claimed batch of campaign c.
func (w *Workers) handle(ctx context.Context, c *Campaign, ch *Channel, rows []Claimed) error {
	rec := &recorder{w: w}
	deadline := time.Now().Add(w.cfg.Lease / 2)
	items, err := w.prepare(ctx, c, rows, rec)
	if err == nil {
		if ch.Batch != nil {
			err = w.sendBatches(ctx, c, ch, items, rec, deadline)
		} else {
			err = w.sendEach(ctx, c, ch, items, rec, deadline)
		}
	}
	if ferr := rec.flush(ctx); ferr != nil && err == nil {
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
				if err := rec.add(ctx, Outcome{CampaignID: c.ID, ClientID: r.ClientID, Status: StatusFailed, Reason: ReasonRender, At: now}); err != nil {
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

// sendEach sends items one by one through the bot and chat budgets.
func (w *Workers) sendEach(ctx context.Context, c *Campaign, ch *Channel, items []item, rec *recorder, deadline time.Time) error {
	for i, it := range items {
		if w.stopped() || ctx.Err() != nil || time.Now().After(deadline) {
			return w.release(ctx, c, items[i:], rec, time.Time{})
		}
		if err := w.wait(ctx, ch, it.chat); err != nil {
			// No grant (Redis down, or stopping): nothing is sent; the rest
			// is handed back and retried once the budget answers again.
			w.log.WarnContext(ctx, "broadcast: rate limiter unavailable; pausing", "campaign", c.ID, "err", err)
			if rerr := w.release(ctx, c, items[i:], rec, w.svc.cfg.Now().Add(time.Second)); rerr != nil {
				return rerr
			}
			return err
		}
		sctx := messenger.WithIdempotencyKey(ctx, deliveryKey(c.ID, it.row.ClientID))
		sent, err := ch.Sender.Send(sctx, buildMessage(c, it.chat, it.text))
		if err := rec.add(ctx, w.outcome(ctx, c, ch, it.row, sent, err)); err != nil {
			return err
		}
	}
	return nil
}

// wait takes one unit of the bot's and the chat's budgets.
func (w *Workers) wait(ctx context.Context, ch *Channel, chat messenger.ChatKey) error {
	if ch.Limiter != nil {
		if err := ch.Limiter.Wait(ctx, 1); err != nil {
			return err
		}
	}
	if ch.ChatLimiter != nil {
		l, err := ch.ChatLimiter(chat)
		if err != nil {
			return err
		}
		if err := l.Wait(ctx, 1); err != nil {
			return err
		}
	}
	return nil
}

// sendBatches sends items in groups of the same text, up to BatchChats each.
func (w *Workers) sendBatches(ctx context.Context, c *Campaign, ch *Channel, items []item, rec *recorder, deadline time.Time) error {
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
			if w.stopped() || ctx.Err() != nil || time.Now().After(deadline) {
				rest = append(rest, g...)
				for _, t := range order[gi+1:] {
					rest = append(rest, groups[t]...)
				}
				return w.release(ctx, c, rest, rec, time.Time{})
			}
			n := min(len(g), ch.BatchChats)
			if err := w.sendGroup(ctx, c, ch, g[:n], rec); err != nil {
				return err
			}
			g = g[n:]
		}
	}
	return nil
}

func (w *Workers) sendGroup(ctx context.Context, c *Campaign, ch *Channel, g []item, rec *recorder) error {
	if ch.Limiter != nil {
		if err := ch.Limiter.Wait(ctx, 1); err != nil {
			w.log.WarnContext(ctx, "broadcast: rate limiter unavailable; pausing", "campaign", c.ID, "err", err)
			if rerr := w.release(ctx, c, g, rec, w.svc.cfg.Now().Add(time.Second)); rerr != nil {
				return rerr
			}
			return err
		}
	}
	chats := make([]messenger.ChatKey, len(g))
	for i, it := range g {
		chats[i] = it.chat
	}
	// One key for the campaign: VK checks random_id per peer, so every
	// recipient's retry carries the same random_id whatever batch it is in.
	sctx := messenger.WithIdempotencyKey(ctx, campaignKey(c.ID))
	sent, errs, err := ch.Batch.SendMany(sctx, buildMessage(c, chats[0], g[0].text), chats)
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
		if rerr := rec.add(ctx, w.outcome(ctx, c, ch, it.row, s, e)); rerr != nil {
			return rerr
		}
	}
	return nil
}

// outcome turns a send's result into the row's outcome: sent; blocked
// (permanent for the client); failed (bad request, or transient after
// MaxAttempts); else queued again after a backoff, or after the pause a
// rate limit asked for (which pauses the whole bot budget).
func (w *Workers) outcome(ctx context.Context, c *Campaign, ch *Channel, r *Claimed, sent messenger.Sent, err error) Outcome {
	now := w.svc.cfg.Now()
	o := Outcome{CampaignID: c.ID, ClientID: r.ClientID, At: now}
	var rl *messenger.RateLimitError
	switch {
	case err == nil:
		w.sent.Add(1)
		o.Status, o.MessageID = StatusSent, sent.MessageID
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
