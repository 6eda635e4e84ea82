// Package metrics holds chathub's Prometheus collectors and the wrappers
// that feed them: a dispatch middleware (updates handled, handling latency),
// a messenger.Sender wrapper (sends by result) and the pipeline gauges.
package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// Metrics is one set of collectors on its own registry.
type Metrics struct {
	// Registry holds every collector (and the Go and process collectors).
	Registry *prometheus.Registry
	updates  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	sends    *prometheus.CounterVec
	// botUpdates counts updates per bot: one series per configured bot,
	// beside chathub_updates_total, whose labels stay as they were.
	botUpdates *prometheus.CounterVec
}

// EnvBotLabel is the bot label of the bot configured by environment
// variables (whose chats have no bot name).
const EnvBotLabel = "default"

// New registers chathub's collectors on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chathub_updates_total",
			Help: "Inbound updates by platform and result (ok, error, rejected, panic).",
		}, []string{"platform", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chathub_update_handle_seconds",
			Help:    "Time to handle one update end to end (state, CRM, engine, replies).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"platform"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chathub_sends_total",
			Help: "Outbound messages by platform and result (ok, blocked, rate_limited, bad_request, transient, error).",
		}, []string{"platform", "result"}),
		botUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chathub_bot_updates_total",
			Help: "Inbound updates by platform and bot (a config file's bot name; \"default\" for the environment's bot).",
		}, []string{"platform", "bot"}),
	}
	m.Registry.MustRegister(m.updates, m.latency, m.sends, m.botUpdates,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Middleware counts and times every handled update.
func (m *Metrics) Middleware() dispatch.Middleware {
	return func(next dispatch.Handler) dispatch.Handler {
		return dispatch.HandlerFunc(func(ctx context.Context, upd *messenger.Update) (err error) {
			platform := string(upd.Chat.Platform)
			start := time.Now()
			defer func() {
				if r := recover(); r != nil {
					m.updates.WithLabelValues(platform, "panic").Inc()
					panic(r)
				}
				m.latency.WithLabelValues(platform).Observe(time.Since(start).Seconds())
				m.updates.WithLabelValues(platform, resultOf(err)).Inc()
				bot := upd.Chat.Bot
				if bot == "" {
					bot = EnvBotLabel
				}
				m.botUpdates.WithLabelValues(platform, bot).Inc()
			}()
			return next.Handle(ctx, upd)
		})
	}
}

func resultOf(err error) string {
	switch {
	case errors.Is(err, messenger.ErrPermanent):
		return "rejected"
	case err != nil:
		return "error"
	}
	return "ok"
}

// WatchDispatcher exports a dispatcher's queue depth, duplicates and retries.
func (m *Metrics) WatchDispatcher(s *dispatch.Stats) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chathub_dispatch_queue_depth", Help: "Updates waiting in the dispatcher's worker queues.",
		}, func() float64 { return float64(s.QueueDepth()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_dispatch_duplicates_total", Help: "Redelivered updates skipped by dedupe.",
		}, func() float64 { return float64(s.Duplicates()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_dispatch_retries_total", Help: "Retry attempts of failing updates.",
		}, func() float64 { return float64(s.Retries()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_dispatch_parked_total",
			Help: "Updates parked behind a chat another process held (acknowledged, handled once the chat was free).",
		}, func() float64 { return float64(s.Parked()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_dispatch_rejected_total",
			Help: "Updates that failed for good (a value the CRM refuses): answered, not retried, acknowledged.",
		}, func() float64 { return float64(s.Rejected()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_dispatch_given_up_total",
			Help: "Updates that failed in every allowed delivery with an unclassified error: acknowledged without a reply.",
		}, func() float64 { return float64(s.GivenUp()) }),
	)
}

// Dependency is a backing service whose reachability is exported
// (health.Dependency implements it).
type Dependency interface {
	// Name is the service's name, e.g. "PostgreSQL".
	Name() string
	// Down reports whether the service is known to be down.
	Down() bool
}

// WatchDependencies exports chathub_dependency_up{dependency}: 0 while the
// service is known to be down (between its "unreachable" and "recovered"
// log lines), else 1.
func (m *Metrics) WatchDependencies(deps ...Dependency) {
	for _, d := range deps {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "chathub_dependency_up",
			Help:        "1 while the backing service answers, 0 while it is known to be down.",
			ConstLabels: prometheus.Labels{"dependency": d.Name()},
		}, func() float64 {
			if d.Down() {
				return 0
			}
			return 1
		}))
	}
}

// WatchBot exports chathub_bot_intake_stopped{platform, bot}: 1 once the
// bot's intake has stopped for good (a refused token, a conflict), else 0.
func (m *Metrics) WatchBot(platform messenger.Platform, bot string, stopped func() bool) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "chathub_bot_intake_stopped",
		Help:        "1 once the bot's intake has stopped for good (token refused, conflict), else 0.",
		ConstLabels: prometheus.Labels{"platform": string(platform), "bot": bot},
	}, func() float64 {
		if stopped() {
			return 1
		}
		return 0
	}))
}

// Sender wraps s so every send is counted by result.
func (m *Metrics) Sender(platform messenger.Platform, s messenger.Sender) messenger.Sender {
	return &countingSender{next: s, platform: string(platform), sends: m.sends}
}

type countingSender struct {
	next     messenger.Sender
	platform string
	sends    *prometheus.CounterVec
}

// Send implements messenger.Sender.
func (c *countingSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	sent, err := c.next.Send(ctx, msg)
	c.sends.WithLabelValues(c.platform, SendResult(err)).Inc()
	return sent, err
}

// SendResult names the outcome of a send for metrics and the delivery ledger.
func SendResult(err error) string {
	var rl *messenger.RateLimitError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, messenger.ErrBlocked):
		return "blocked"
	case errors.As(err, &rl):
		return "rate_limited"
	case errors.Is(err, messenger.ErrBadRequest):
		return "bad_request"
	case errors.Is(err, messenger.ErrTransient):
		return "transient"
	}
	return "error"
}

// WatchRelay exports a polled bot's shared long polling:
// chathub_poller_holder{platform, bot} (1 while this process polls the
// bot), chathub_queue_pending (updates in the bot's Redis queue, fetched
// and not yet handled, all processes together), chathub_queue_partitions
// (the queue partitions this process handles) and
// chathub_queue_skipped_total (undecodable entries skipped).
func (m *Metrics) WatchRelay(platform messenger.Platform, bot string, status func() relay.Status) {
	labels := prometheus.Labels{"platform": string(platform), "bot": bot}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chathub_poller_holder", ConstLabels: labels,
			Help: "1 while this process holds the bot's poller lease (polls the platform), else 0.",
		}, func() float64 {
			if status().Polling {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chathub_queue_pending", ConstLabels: labels,
			Help: "Updates in the bot's shared Redis queue: fetched by the poller, not yet handled (all processes).",
		}, func() float64 { return float64(status().Pending) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chathub_queue_partitions", ConstLabels: labels,
			Help: "Partitions of the bot's shared queue this process handles.",
		}, func() float64 { return float64(status().Partitions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chathub_queue_skipped_total", ConstLabels: labels,
			Help: "Undecodable entries of the bot's shared queue skipped (logged with their id).",
		}, func() float64 { return float64(status().Skipped) }),
	)
}
