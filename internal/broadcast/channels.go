package broadcast

import (
	"context"
	"slices"
	"time"
)

// channelSweep keeps this process's channels registered and skips the
// queued rows no process of the deployment can send (no_channel), so that a
// campaign whose segment holds clients of a bot nobody runs still finishes.
//
// A channel counts as configured in the deployment while some process
// registered it within the Service's ChannelTTL. A process registers every
// ChannelTTL/10 and starts skipping only after running ChannelTTL/10 itself,
// so processes started together see each other's channels first; a process
// that stops (a restart, a deploy) keeps its channels for ChannelTTL.
type channelSweep struct {
	own        []ChannelKey
	started    time.Time // when the supervisor began
	registered time.Time // the last registration written
}

func newChannelSweep(chs []Channel) *channelSweep {
	cs := &channelSweep{}
	for _, ch := range chs {
		cs.own = append(cs.own, ChannelKey{Platform: ch.Platform, Bot: ch.Bot})
	}
	return cs
}

// every is how often the registration is stamped, and how long a process
// runs before it skips rows of channels it does not know.
func (w *Workers) sweepEvery() time.Duration { return max(w.svc.cfg.ChannelTTL/10, w.cfg.PollInterval) }

// register stamps this process's channels when the last stamp is older than
// sweepEvery.
func (w *Workers) register(ctx context.Context) {
	reg, cs := w.svc.cfg.Registry, w.sweep
	if reg == nil || time.Since(cs.registered) < w.sweepEvery() {
		return
	}
	if err := reg.RegisterChannels(ctx, w.cfg.ID, cs.own, w.svc.cfg.Now().UTC()); err != nil {
		w.log.WarnContext(ctx, "broadcast: register channels", "err", err)
		return
	}
	cs.registered = time.Now()
}

// liveChannels returns the channels of this process and those some process
// registered within the TTL, or ok false while this process is too young to
// know them all, or when nothing needs them (need false).
func (w *Workers) liveChannels(ctx context.Context, need bool) (live []ChannelKey, ok bool) {
	if w.sweep.started.IsZero() {
		w.sweep.started = time.Now()
	}
	if !need || time.Since(w.sweep.started) < w.sweepEvery() {
		return nil, false
	}
	live = slices.Clone(w.sweep.own)
	if reg := w.svc.cfg.Registry; reg != nil {
		more, err := reg.LiveChannels(ctx, w.svc.cfg.Now().Add(-w.svc.cfg.ChannelTTL))
		if err != nil {
			w.log.WarnContext(ctx, "broadcast: list live channels", "err", err)
			return nil, false
		}
		live = append(live, more...)
	}
	return live, true
}

// skipUnreachable marks campaign c's queued rows of channels not in live
// skipped (no_channel).
func (w *Workers) skipUnreachable(ctx context.Context, c *Campaign, live []ChannelKey) {
	queued, err := w.svc.cfg.Admin.QueuedChannels(ctx, c.ID)
	if err != nil {
		w.log.WarnContext(ctx, "broadcast: list queued channels", "campaign", c.ID, "err", err)
		return
	}
	for _, ch := range queued {
		if slices.Contains(live, ch) {
			continue
		}
		n, err := w.svc.cfg.Admin.SkipQueuedChannel(ctx, c.ID, ch, ReasonNoChannel)
		if err != nil {
			w.log.WarnContext(ctx, "broadcast: skip rows without a channel", "campaign", c.ID, "err", err)
			continue
		}
		if n > 0 {
			w.log.InfoContext(ctx, "broadcast: rows skipped, no process sends through their bot", "campaign", c.ID,
				"platform", string(ch.Platform), "bot", ch.Bot, "rows", n)
		}
	}
}
