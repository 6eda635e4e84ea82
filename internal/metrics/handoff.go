package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chathub/chathub/internal/handoff"
)

// HandoffStats is where the hand-off metrics are read at scrape time
// (*handoff.Service implements it). The numbers come from the shared
// database, so every process exports the same values.
type HandoffStats interface {
	Stats(ctx context.Context, since time.Time) (handoff.Stats, error)
}

// Settings of the hand-off collector.
const (
	// HandoffReplyWindow is the period the first-reply quantiles cover.
	HandoffReplyWindow = 24 * time.Hour
	// handoffCacheFor reuses one reading for scrapes this close together.
	handoffCacheFor = 10 * time.Second
	// handoffReadTimeout bounds one reading of the database.
	handoffReadTimeout = 5 * time.Second
)

// WatchHandoffs exports the live hand-off's numbers: requests open,
// waiting for a manager and over HANDOFF_SLA, and the time to a manager's
// first reply over the last HandoffReplyWindow (p50 and p90, overall and
// per manager). A failed reading is logged and exports
// chathub_handoff_stats_up 0 with no other hand-off series.
func (m *Metrics) WatchHandoffs(src HandoffStats, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	m.Registry.MustRegister(newHandoffCollector(src, logger, time.Now))
}

// handoffCollector reads HandoffStats at scrape time, cached briefly.
type handoffCollector struct {
	src    HandoffStats
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	at     time.Time
	stats  handoff.Stats
	err    error
	loaded bool

	up, open, waiting, overSLA, reply, replies, managerReply, managerReplies *prometheus.Desc
}

func newHandoffCollector(src HandoffStats, logger *slog.Logger, now func() time.Time) *handoffCollector {
	window := " over the last " + HandoffReplyWindow.String() + "."
	return &handoffCollector{
		src: src, logger: logger, now: now,
		up: prometheus.NewDesc("chathub_handoff_stats_up",
			"1 when the hand-off numbers were read from the database at this scrape, 0 when the reading failed.", nil, nil),
		open: prometheus.NewDesc("chathub_handoff_open",
			"Live hand-off requests (waiting for a manager or taken).", nil, nil),
		waiting: prometheus.NewDesc("chathub_handoff_waiting",
			"Live hand-off requests no manager took yet.", nil, nil),
		overSLA: prometheus.NewDesc("chathub_handoff_over_sla",
			"Live hand-off requests whose client has waited for an answer longer than HANDOFF_SLA.", nil, nil),
		reply: prometheus.NewDesc("chathub_handoff_first_reply_seconds",
			"Time from a hand-off request to a manager's first reply, by quantile,"+window, []string{"quantile"}, nil),
		replies: prometheus.NewDesc("chathub_handoff_first_replies",
			"Hand-off requests answered by a manager"+window, nil, nil),
		managerReply: prometheus.NewDesc("chathub_handoff_manager_first_reply_seconds",
			"Time from a hand-off request to its manager's first reply, by manager and quantile,"+window,
			[]string{"manager", "quantile"}, nil),
		managerReplies: prometheus.NewDesc("chathub_handoff_manager_first_replies",
			"Hand-off requests answered, by the manager who answered first,"+window, []string{"manager"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *handoffCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.open, c.waiting, c.overSLA, c.reply, c.replies, c.managerReply, c.managerReplies} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *handoffCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.read()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.up, 1)
	gauge(c.open, float64(st.Open))
	gauge(c.waiting, float64(st.Waiting))
	gauge(c.overSLA, float64(st.OverSLA))
	gauge(c.replies, float64(st.Overall.Count))
	if st.Overall.Count > 0 {
		gauge(c.reply, st.Overall.P50.Seconds(), "0.5")
		gauge(c.reply, st.Overall.P90.Seconds(), "0.9")
	}
	for _, mq := range st.PerManager {
		gauge(c.managerReplies, float64(mq.Count), mq.Manager)
		if mq.Count > 0 {
			gauge(c.managerReply, mq.P50.Seconds(), mq.Manager, "0.5")
			gauge(c.managerReply, mq.P90.Seconds(), mq.Manager, "0.9")
		}
	}
}

// read returns the stats, read again when the last reading is older than
// handoffCacheFor (one reading for concurrent scrapes).
func (c *handoffCollector) read() (handoff.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.loaded && now.Sub(c.at) < handoffCacheFor {
		return c.stats, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), handoffReadTimeout)
	defer cancel()
	c.stats, c.err = c.src.Stats(ctx, now.Add(-HandoffReplyWindow))
	c.at, c.loaded = now, true
	if c.err != nil {
		// During an outage of a backing service (src has Outage, as
		// health.Set does) the failure is the outage's, logged once where
		// it is watched.
		level := slog.LevelWarn
		if o, ok := c.src.(interface {
			Outage(context.Context) <-chan struct{}
		}); ok && o.Outage(ctx) != nil {
			level = slog.LevelDebug
		}
		c.logger.Log(ctx, level, "metrics: read the hand-off numbers", "err", c.err)
	}
	return c.stats, c.err
}
