package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// consoleScenarios fills cc.Scenarios: every bot's scenario registry with
// its deep links, and the playground, which talks to each registry through
// a dialog handler of its own (the same engine path as `chathub chat`),
// its clients on platform "playground" in the CRM and its conversations in
// the Redis state store.
func (s *Stores) consoleScenarios(cfg config.Config, _ consoleServices, cc *console.Config) error {
	tc, err := ScenarioTestConfig(cfg, s.logger.With("scenario_tests", true))
	if err != nil {
		return err
	}
	tests := func(dir, dflt string, reg *scenario.Registry) *botTests {
		c := tc
		c.DefaultScenario = dflt
		return &botTests{dir: dir, reg: reg, cfg: c, log: s.logger}
	}
	cat := &scenarioCatalog{}
	if s.Scenarios != nil {
		cat.bots = append(cat.bots, catalogBot{reg: s.Scenarios, dflt: cfg.DefaultScenario,
			links: botLinks(cfg.Telegram, cfg.VK, s.logger), tests: tests(cfg.ScenariosDir, cfg.DefaultScenario, s.Scenarios)})
	}
	for _, b := range cfg.FileBots {
		reg, ok := s.BotScenarios[b.Name]
		if !ok {
			continue
		}
		var tg config.Telegram
		var vk config.VK
		switch b.Platform {
		case messenger.Telegram:
			tg = b.Telegram
		case messenger.VK:
			vk = b.VK
		}
		cat.bots = append(cat.bots, catalogBot{name: b.Name, reg: reg, dflt: b.DefaultScenario,
			links: botLinks(tg, vk, s.logger.With("bot", b.Name)), tests: tests(b.ScenariosDir, b.DefaultScenario, reg)})
	}
	if len(cat.bots) == 0 {
		return nil
	}
	cc.Scenarios.Catalog = cat
	cc.Scenarios.Tests = cat
	if f, err := s.Funnels(cfg); err == nil {
		cc.Scenarios.Funnels = f
	}
	if s.State == nil || s.CRM == nil {
		return nil
	}
	play := localchat.NewPlayground(s.State)
	for _, b := range cat.bots {
		log := s.logger
		if b.name != "" {
			log = log.With("bot", b.name)
		}
		h, err := dialog.NewHandler(dialog.HandlerConfig{
			States: s.State, Clients: s.CRM, Scenarios: b.reg, Sender: play,
			DefaultScenario: b.dflt, Logger: log.With("playground", true),
		})
		if err != nil {
			return fmt.Errorf("playground of bot %q: %w", b.name, err)
		}
		play.AddBot(b.name, h)
	}
	cc.Scenarios.Playground = play
	return nil
}

// scenarioCatalog is console.ScenarioCatalog over the opened registries.
type scenarioCatalog struct{ bots []catalogBot }

// catalogBot is one bot's registry, where its deep links go and its
// scenario tests.
type catalogBot struct {
	name, dflt string
	reg        *scenario.Registry
	links      *linkBases
	tests      *botTests
}

// ScenarioBots implements console.ScenarioCatalog.
func (c *scenarioCatalog) ScenarioBots(ctx context.Context) []console.ScenarioBot {
	out := make([]console.ScenarioBot, 0, len(c.bots))
	for _, b := range c.bots {
		out = append(out, console.ScenarioBot{Name: b.name, Scenarios: b.reg.All(), Problems: b.reg.Problems(),
			Links: b.links.get(ctx)})
	}
	return out
}

// TestResults implements console.ScenarioTests.
func (c *scenarioCatalog) TestResults(ctx context.Context, bot string) (console.TestRun, bool) {
	for _, b := range c.bots {
		if b.name == bot && b.tests != nil {
			return b.tests.results(ctx)
		}
	}
	return console.TestRun{}, false
}

// linkBases are a bot's deep-link prefixes: VK's from the community id,
// Telegram's from the bot's username, asked of the Bot API (getMe) once it
// answers.
type linkBases struct {
	vk  string
	me  func(context.Context) (string, error)
	log *slog.Logger

	mu      sync.Mutex
	tg      string
	nextTry time.Time
	// pending is closed when the running getMe ends; nil when none runs.
	pending  chan struct{}
	warnOnce sync.Once
}

// How long getMe may take (in the background), and how long the request
// that starts it waits for its answer before serving what is known.
const (
	linkLookupTimeout = 10 * time.Second
	linkWait          = 500 * time.Millisecond
)

// botLinks prepares the deep-link prefixes of a bot on Telegram and/or VK.
func botLinks(tg config.Telegram, vk config.VK, log *slog.Logger) *linkBases {
	l := &linkBases{log: log}
	if vk.Token != "" && vk.GroupID != 0 {
		l.vk = "https://vk.me/club" + strconv.FormatInt(int64(vk.GroupID), 10) + "?ref="
	}
	if tg.Token != "" {
		bot, err := telegram.New(telegram.Config{Token: tg.Token, APIURL: tg.APIURL, Logger: log})
		if err == nil {
			l.me = bot.Me
		}
	}
	return l
}

// get returns the prefixes; the Telegram username is asked at most once a
// minute until it is known, in the background (see telegramName).
func (l *linkBases) get(ctx context.Context) []console.DeepLinkBase {
	var out []console.DeepLinkBase
	if l.me != nil {
		if name := l.telegramName(ctx); name != "" {
			out = append(out, console.DeepLinkBase{Platform: messenger.Telegram, Prefix: "https://t.me/" + name + "?start="})
		}
	}
	if l.vk != "" {
		out = append(out, console.DeepLinkBase{Platform: messenger.VK, Prefix: l.vk})
	}
	return out
}

// telegramName is the bot's username, "" while unknown. It never calls
// getMe under the lock nor on the request's context: a lookup runs in the
// background (context.WithoutCancel, its own timeout), at most one at a
// time and once a minute while it fails; the request that starts it waits
// for it up to linkWait or its own end, every other one serves the cached
// value at once. A cancelled browser request is no failed lookup.
func (l *linkBases) telegramName(ctx context.Context) string {
	l.mu.Lock()
	if l.tg != "" || l.pending != nil || time.Now().Before(l.nextTry) {
		name := l.tg
		l.mu.Unlock()
		return name
	}
	done := make(chan struct{})
	l.pending = done
	l.nextTry = time.Now().Add(time.Minute)
	l.mu.Unlock()
	go l.lookup(context.WithoutCancel(ctx), done)
	t := time.NewTimer(linkWait)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
	case <-t.C:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tg
}

// lookup asks getMe once and keeps the answer; done is closed after.
func (l *linkBases) lookup(ctx context.Context, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(ctx, linkLookupTimeout)
	defer cancel()
	name, err := l.me(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	if err != nil || name == "" {
		l.nextTry = time.Now().Add(time.Minute)
		l.warnOnce.Do(func() {
			l.log.Warn("console: the Telegram bot's username is unknown; deep links are not shown", "err", err)
		})
		return
	}
	l.tg = name
}
