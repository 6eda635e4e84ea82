package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"sync"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/metrics"
	"github.com/chathub/chathub/internal/relay"
	"github.com/chathub/chathub/internal/remind"
	"github.com/chathub/chathub/internal/store/postgres"
)

// Bot is one platform adapter as the runtime uses it: a Sender for replies
// and either a poller (long polling) or an inbound HTTP handler (webhook).
type Bot struct {
	Platform messenger.Platform
	// Name is the bot's name (messenger.ChatKey.Bot of its chats): a config
	// file's bot name, empty for the bot of the environment variables.
	Name   string
	Sender messenger.Sender
	// Poll, when set, pulls updates until ctx ends (long polling).
	Poll func(ctx context.Context, sink messenger.Sink) error
	// WebhookPath and Webhook, when set, are mounted on the HTTP server.
	WebhookPath string
	Webhook     func(sink messenger.Sink) http.Handler
	// Register, when set, runs once at start (e.g. Telegram setWebhook).
	Register func(ctx context.Context) error
	// Broadcast, when set, is how the broadcaster sends campaigns to this
	// platform (its budget, batching); nil: campaigns are not sent to it.
	Broadcast *broadcast.Channel
	// State, when set, is how the adapter last found its platform (/readyz
	// reports it); nil reads ok while the intake runs.
	State func() messenger.BotState
}

// Runtime is `chathub run`: bots → dispatcher → dialog handler, the
// broadcaster sending running campaigns, and the HTTP server, all started
// and stopped together.
type Runtime struct {
	cfg         config.Config
	stores      *Stores
	bots        []Bot
	metrics     *metrics.Metrics
	dispatcher  *dispatch.Dispatcher
	markers     pressMarkers       // the bots that mark pressed buttons; drained at Stop
	broadcaster *broadcast.Workers // nil when no bot broadcasts
	handoffs    *handoff.Worker    // nil when the database keeps no hand-offs
	reminders   *remind.Worker
	funnels     *funnel.Refresher // nil on SQLite (its funnel is counted live)
	server      *admin.Server
	logger      *slog.Logger

	cancelPolls context.CancelFunc
	intakes     []*intake // one per bot, in order

	stopOnce sync.Once
	stopErr  error
}

// NewRuntime wires the pipeline over opened stores and the given bots.
func NewRuntime(cfg config.Config, stores *Stores, bots []Bot, logger *slog.Logger) (*Runtime, error) {
	if len(bots) == 0 {
		return nil, errors.New("no bot configured")
	}
	r := &Runtime{cfg: cfg, stores: stores, bots: bots, metrics: metrics.New(), logger: logger}
	senders := platformSender{}
	markers := pressMarkers{}
	r.markers = markers
	for _, b := range bots {
		k := senderKey{b.Platform, b.Name}
		if _, dup := senders[k]; dup {
			return nil, fmt.Errorf("two %s bots named %q", b.Platform, displayName(b.Name))
		}
		senders[k] = r.metrics.Sender(b.Platform, b.Sender)
		// The marker must be the very value the replies go out through
		// (the metrics wrapper sends through b.Sender), so that it sees the
		// handler's edits of a pressed message.
		if m, ok := b.Sender.(messenger.PressMarker); ok {
			markers[k] = m
		}
	}
	h, err := stores.BotHandlers(cfg, senders)
	if err != nil {
		return nil, err
	}
	router, _ := h.(botRouter)
	hw, err := newHandoffWorker(cfg, stores, senders, router, logger)
	if err != nil {
		return nil, fmt.Errorf("hand-off worker: %w", err)
	}
	r.handoffs = hw.worker
	if svc, err := stores.Handoffs(); err == nil {
		r.metrics.WatchHandoffs(handoffStats{svc, stores.Health}, logger)
	}
	r.dispatcher, err = dispatch.New(dispatch.Config{
		Handler: dispatch.Chain(newTeamChatRouter(h, hw.teamChats, logger), r.metrics.Middleware(),
			dispatch.MarkPresses(markers.of)),
		Gate: stores.dispatchGate(), Workers: cfg.Workers, HandleTimeout: cfg.HandleTimeout, Logger: logger,
		Outages: stores.Health, Reserve: relayReserve(bots, cfg.QueuePartitions),
	})
	if err != nil {
		return nil, err
	}
	r.metrics.WatchDispatcher(r.dispatcher.Stats())
	if r.broadcaster, err = newBroadcaster(cfg, stores, bots, logger); err != nil {
		return nil, err
	}
	if r.reminders, err = newReminderWorker(cfg, stores, router, bots, logger); err != nil {
		return nil, err
	}
	if stores.CRM.Dialect() == postgres.DialectPostgres {
		r.funnels, err = funnel.NewRefresher(funnel.RefresherConfig{Store: stores.CRM, OpenFor: cfg.StateTTL,
			Logger: logger.With("worker", "funnel")})
		if err != nil {
			return nil, err
		}
	}
	holder := processName(stores.State.Instance())
	for _, b := range bots {
		in := &intake{bot: b}
		if b.Poll != nil {
			if in.relay, err = r.newRelay(in, holder); err != nil {
				return nil, err
			}
			r.metrics.WatchRelay(b.Platform, displayName(b.Name), in.relay.Status)
		}
		r.intakes = append(r.intakes, in)
		r.metrics.WatchBot(b.Platform, displayName(b.Name), in.hasStopped)
	}
	for _, d := range stores.Health {
		r.metrics.WatchDependencies(d)
	}
	r.server = admin.New(admin.Config{
		Addr: cfg.HTTPAddr, Gatherer: r.metrics.Registry, Logger: logger,
		Checks: map[string]admin.Pinger{stores.CRM.Dialect(): stores.CRM, "redis": stores.State},
		Bots:   r.botStatuses,
	})
	api, err := stores.ManagerAPI(cfg)
	if err != nil {
		return nil, err
	}
	r.server.Handle("/api/", api)
	if !api.Enabled() {
		logger.Info("manager API disabled: set ADMIN_TOKEN to enable /api")
	}
	if err := mountConsole(r.server, cfg, stores, logger); err != nil {
		return nil, err
	}
	for _, b := range bots {
		if b.Webhook != nil {
			r.server.Handle("POST "+b.WebhookPath, b.Webhook(r.dispatcher))
		}
	}
	return r, nil
}

// Addr is the HTTP server's address (after Start).
func (r *Runtime) Addr() string { return r.server.Addr() }

// Dispatcher exposes the inbound pipeline (for tests and benchmarks).
func (r *Runtime) Dispatcher() *dispatch.Dispatcher { return r.dispatcher }

// Broadcaster exposes the broadcast workers (nil when no bot broadcasts).
func (r *Runtime) Broadcaster() *broadcast.Workers { return r.broadcaster }

// Start begins hot reload, the pipeline, the broadcaster, the hand-off
// and reminder workers, the HTTP server and the pollers.
func (r *Runtime) Start(ctx context.Context) error {
	for _, reg := range r.stores.registries() {
		if err := reg.Start(ctx); err != nil {
			r.logger.Warn("scenario hot reload disabled", "err", err)
		}
	}
	r.claimRestart(ctx)
	if err := r.dispatcher.Start(ctx); err != nil {
		return err
	}
	if r.broadcaster != nil {
		if err := r.broadcaster.Start(ctx); err != nil {
			return fmt.Errorf("start broadcaster: %w", err)
		}
	}
	if r.handoffs != nil {
		if err := r.handoffs.Start(ctx); err != nil {
			return fmt.Errorf("start hand-off worker: %w", err)
		}
	}
	if err := r.reminders.Start(ctx); err != nil {
		return fmt.Errorf("start reminder worker: %w", err)
	}
	if r.funnels != nil {
		if err := r.funnels.Start(ctx); err != nil {
			return fmt.Errorf("start funnel refresher: %w", err)
		}
	}
	if err := r.server.Start(ctx); err != nil {
		return err
	}
	pollCtx, cancel := context.WithCancel(ctx)
	r.cancelPolls = cancel
	for _, in := range r.intakes {
		if err := r.startBot(pollCtx, in); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runtime) startBot(ctx context.Context, in *intake) error {
	b := in.bot
	if b.Register != nil {
		if err := b.Register(ctx); err != nil {
			return fmt.Errorf("register %s bot %s: %w", b.Platform, displayName(b.Name), err)
		}
	}
	if b.Poll == nil {
		r.logger.Info("bot receiving webhooks", "platform", string(b.Platform), "bot", displayName(b.Name), "path", b.WebhookPath)
		return nil
	}
	r.logger.Info("bot long polling shared through Redis: one process polls, every process handles",
		"platform", string(b.Platform), "bot", displayName(b.Name), "process", in.relay.Holder())
	if err := in.relay.Start(ctx); err != nil {
		return fmt.Errorf("%s bot %s: %w", b.Platform, displayName(b.Name), err)
	}
	in.started.Store(true)
	return nil
}

// newRelay builds the shared long polling of a polled bot: its poller runs
// in whichever process holds the bot's lease, its updates are handled by
// every process through the bot's queue in Redis.
func (r *Runtime) newRelay(in *intake, holder string) (*relay.Relay, error) {
	b := in.bot
	store, err := r.stores.State.Intake(b.Platform, b.Name)
	if err != nil {
		return nil, fmt.Errorf("%s bot %s: %w", b.Platform, displayName(b.Name), err)
	}
	rl, err := relay.New(relay.Config{
		Platform: b.Platform, Bot: b.Name, Holder: holder, Store: store, Poll: b.Poll, Sink: r.stores.relaySink(r.dispatcher),
		OnPollError: in.stop, LeaseTTL: r.cfg.PollLease, Partitions: r.cfg.QueuePartitions, Logger: r.logger,
		Dead:    func(h string) bool { return r.stores.State.ProvenDead(path.Base(h)) },
		Outages: r.stores.Health,
	})
	if err != nil {
		return nil, fmt.Errorf("%s bot %s: %w", b.Platform, displayName(b.Name), err)
	}
	return rl, nil
}

// relayReserve is the room the dispatcher keeps for the long-polling
// relays (dispatch.Config.Reserve): every polled bot's relay may hand over
// as many entries as its in-flight limit allows, so that its hand-overs,
// made under the relay's lock, never wait for the dispatcher; when the
// handlers fall behind, the relay's own limit stops them first and its
// poller goes on polling into the bot's queue.
func relayReserve(bots []Bot, partitions int) int {
	n := 0
	for _, b := range bots {
		if b.Poll != nil {
			n += relay.DefaultMaxInflight(partitions, 0)
		}
	}
	return n
}

// processName names this process in the poller and queue leases (what
// /readyz shows as a bot's poller): host, pid and the Redis store's
// instance id, unique per process start.
func processName(instance string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), instance)
}

// Stop stops intake (pollers, then the HTTP server), drains the pipeline,
// the broadcaster and the hand-off worker within the shutdown timeout, and
// stops hot reload.
// Pollers acknowledge only what was handled, so whatever was cut short is
// redelivered later; the broadcaster finishes the sends in hand, records
// them and hands back the rows it had claimed but not sent. Calls after the
// first return its result.
func (r *Runtime) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { r.stopErr = r.stop(ctx) })
	return r.stopErr
}

func (r *Runtime) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ShutdownTimeout)
	defer cancel()
	if r.cancelPolls != nil {
		r.cancelPolls()
	}
	// The relays stop polling (giving the poller leases up at once) and
	// wait for the updates they read to be handled before the pipeline
	// drains; the HTTP server stops meanwhile.
	relaysDone := make(chan error, 1)
	go func() {
		errs := make(chan error, len(r.intakes))
		n := 0
		for _, in := range r.intakes {
			if in.relay != nil && in.started.Load() {
				n++
				go func() { errs <- in.relay.Stop(ctx) }()
			}
		}
		var all []error
		for range n {
			all = append(all, <-errs)
		}
		relaysDone <- errors.Join(all...)
	}()
	errs := []error{r.server.Stop(ctx), <-relaysDone}
	// The pipeline, the broadcaster, the hand-off and the reminder workers
	// drain side by side, in one timeout.
	broadcastDone := make(chan error, 1)
	go func() {
		if r.broadcaster == nil {
			broadcastDone <- nil
			return
		}
		broadcastDone <- r.broadcaster.Stop(ctx)
	}()
	handoffDone := make(chan error, 1)
	go func() {
		if r.handoffs == nil {
			handoffDone <- nil
			return
		}
		handoffDone <- r.handoffs.Stop(ctx)
	}()
	remindDone := make(chan error, 1)
	go func() { remindDone <- r.reminders.Stop(ctx) }()
	errs = append(errs, r.dispatcher.Stop(ctx), <-broadcastDone, <-handoffDone, <-remindDone)
	r.markers.drain(ctx)
	if r.funnels != nil {
		errs = append(errs, r.funnels.Stop(ctx))
	}
	for _, reg := range r.stores.registries() {
		reg.Stop()
	}
	return errors.Join(errs...)
}

// senderKey names one bot: its platform and name.
type senderKey struct {
	platform messenger.Platform
	bot      string
}

// platformSender routes each reply to its chat's bot: (platform, bot).
type platformSender map[senderKey]messenger.Sender

// Send implements messenger.Sender.
func (p platformSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	s, ok := p[senderKey{msg.Chat.Platform, msg.Chat.Bot}]
	if !ok {
		return messenger.Sent{}, fmt.Errorf("send to %s: no %s bot %s configured", msg.Chat, msg.Chat.Platform, displayName(msg.Chat.Bot))
	}
	return s.Send(ctx, msg)
}

// pressMarkers are the bots that mark a pressed button once the press is
// handled (messenger.PressMarker), by (platform, bot).
type pressMarkers map[senderKey]messenger.PressMarker

// markDrainer is a PressMarker whose marks go out after the handler
// returns: the runtime waits for them when it stops.
type markDrainer interface {
	DrainMarks(ctx context.Context)
}

// drain waits, until ctx ends, for the marks the bots still have to send.
func (p pressMarkers) drain(ctx context.Context) {
	for _, m := range p {
		if d, ok := m.(markDrainer); ok {
			d.DrainMarks(ctx)
		}
	}
}

// of returns the PressMarker of a chat's bot, nil when it has none.
func (p pressMarkers) of(chat messenger.ChatKey) messenger.PressMarker {
	return p[senderKey{chat.Platform, chat.Bot}]
}

// displayName is how logs name a bot: config.EnvBotName for the bot of the
// environment variables.
func displayName(bot string) string {
	if bot == "" {
		return config.EnvBotName
	}
	return bot
}
