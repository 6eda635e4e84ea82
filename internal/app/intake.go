package app

import (
	"sync"
	"sync/atomic"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// intake is one bot's intake as /readyz sees it: the adapter's state and
// whether its poller has stopped for good (a refused token, another
// consumer of the bot's updates), which makes the process not ready.
type intake struct {
	bot Bot
	// relay shares the bot's long polling with the other processes (nil
	// for a webhook bot).
	relay *relay.Relay
	// started is set once relay started (Stop stops only started relays).
	started atomic.Bool

	mu      sync.Mutex
	stopped error // why polling ended before shutdown; nil while it runs
}

// stop records that polling ended for good with err.
func (in *intake) stop(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stopped = err
}

// hasStopped reports whether polling ended for good.
func (in *intake) hasStopped() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stopped != nil
}

// status is the bot's /readyz entry.
func (in *intake) status() admin.BotStatus {
	in.mu.Lock()
	stopped := in.stopped
	in.mu.Unlock()
	st := admin.BotStatus{Platform: string(in.bot.Platform), Bot: displayName(in.bot.Name), Intake: "polling"}
	if in.bot.Poll == nil {
		st.Intake = "webhook"
	}
	state := messenger.BotOK
	if in.bot.State != nil {
		state = in.bot.State()
	}
	if in.relay != nil {
		rs := in.relay.Status()
		st.Poller, st.QueuePending, st.Role = rs.Holder, rs.Pending, "standby"
		if rs.Polling {
			st.Role = "poller"
		} else if stopped == nil && (state == messenger.BotStarting || state == messenger.BotOK) {
			// The adapter's state is from when this process last polled, if ever.
			state = "standby"
		}
	}
	if stopped != nil {
		st.Stopped, st.Error = true, stopped.Error()
		if state == messenger.BotOK || state == messenger.BotStarting || state == messenger.BotUnreachable {
			state = messenger.BotFailed // stopped for a reason the adapter did not name
		}
	}
	st.State = string(state)
	return st
}

// botStatuses lists every bot's intake for /readyz.
func (r *Runtime) botStatuses() []admin.BotStatus {
	out := make([]admin.BotStatus, len(r.intakes))
	for i, in := range r.intakes {
		out[i] = in.status()
	}
	return out
}
