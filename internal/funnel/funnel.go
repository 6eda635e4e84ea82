// Package funnel computes a scenario's funnel (docs/FUNNEL.md): for each
// step, in the scenario's order, how many conversations entered it,
// answered it, wait there now and ended there, how long an answer took and
// what the reminders of its question brought back. The numbers come from
// the step visits the dialog records as conversations move (never inferred
// from answers) and count unique conversations. The CLI (chathub funnel),
// the API and the console's Воронка page all call this one service.
package funnel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/spelling"
)

// Store counts step visits (internal/store/postgres implements it).
type Store interface {
	// FunnelSteps counts q's conversations step by step, in any order.
	FunnelSteps(ctx context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, error)
	// ScenarioVersions lists the versions of scenario id that ran, newest
	// first (for the version filter).
	ScenarioVersions(ctx context.Context, id string) ([]crm.ScenarioVersion, error)
}

// AsOfStore is a Store that may answer from a rollup refreshed in the
// background (internal/store/postgres on PostgreSQL, see RefreshFunnel):
// FunnelStepsAsOf also returns the time its counts are as of, zero when
// they are live. The Service uses it when the Store has it.
type AsOfStore interface {
	FunnelStepsAsOf(ctx context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, time.Time, error)
}

// Scenarios gives the bots' scenario graphs: the funnel lists the steps
// in the order of the current version's file of the chosen bot.
type Scenarios interface {
	// Scenario returns the current graph of scenario id of bot (a config
	// file's bot name, "" the bot of the environment variables); false
	// when that bot has no such scenario.
	Scenario(ctx context.Context, bot, id string) (*scenario.Graph, bool, error)
	// ScenarioBots lists the bots that have scenario id, in the
	// configuration's order ("" the bot of the environment variables).
	ScenarioBots(ctx context.Context, id string) ([]string, error)
	// ScenarioIDs lists the scenario ids of every bot (for suggestions).
	ScenarioIDs(ctx context.Context) ([]string, error)
}

// DefaultPeriod is the period a funnel covers when none is chosen (the
// CLI's --since, the API's and the console's ?since=), in ParsePeriod's
// form.
const DefaultPeriod = "7d"

// DefaultOpenFor is Config.OpenFor's default: the conversation state's
// default lifetime in Redis (internal/store/redis.DefaultStateTTL), and
// what the segment functions stuck(...) and dropped(...) use.
const DefaultOpenFor = segment.OpenFor

// Config configures a Service.
type Config struct {
	// Store counts the visits. Required.
	Store Store
	// Scenarios gives the graphs. Required.
	Scenarios Scenarios
	// OpenFor is how long a conversation waiting at a step counts as stuck
	// there; after that its state has expired and it counts as dropped.
	// Default DefaultOpenFor.
	OpenFor time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.OpenFor <= 0 {
		c.OpenFor = DefaultOpenFor
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("funnel: Store is required"))
	}
	if c.Scenarios == nil {
		errs = append(errs, errors.New("funnel: Scenarios is required"))
	}
	return errors.Join(errs...)
}

// Service computes funnels.
type Service struct{ cfg Config }

// New returns a Service; zero Config fields take their defaults.
func New(cfg Config) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg}, nil
}

// Query selects the conversations of a funnel.
type Query struct {
	// Scenario is the scenario id. Required.
	Scenario string
	// Bot chooses whose scenario file gives the steps and their order (a
	// config file's bot name, "" the bot of the environment variables);
	// "" also picks the only bot that has the scenario when the bot of the
	// environment variables has none. The counts are those of every
	// conversation of the scenario id, whichever bot ran it (the version
	// filter tells apart bots whose files differ).
	Bot string
	// Period counts the conversations started within it before now (the
	// Service's clock); it overrides Since. Zero with a zero Since: all.
	Period time.Duration
	// Since counts the conversations started at or after it; zero: all.
	// The Report's Query has it resolved from Period.
	Since time.Time
	// Version, Platform and Source, when set, keep the conversations of
	// that scenario version, of clients on that platform and of clients
	// who came by that deep-link source (their first).
	Version  string
	Platform string
	Source   string
}

// Report is one scenario's funnel.
type Report struct {
	Scenario string
	Title    string
	Query    Query
	// Bot is the bot whose file gave the steps; Bots every bot that has
	// the scenario, in the configuration's order.
	Bot  string
	Bots []string
	// Steps in the current version's file order, then any step only older
	// versions had (Removed).
	Steps []Step
	// Started is how many conversations entered the start step.
	Started int
	// Versions are the scenario's versions that ran, newest first; Current
	// is the version loaded now.
	Versions []crm.ScenarioVersion
	Current  string
	// AsOf is when the step counts were taken when they come from the
	// rollup (at most Refresher's Every behind, plus one refresh); zero
	// when they were counted live.
	AsOf time.Time
	// OpenFor is Config.OpenFor: how long a conversation waits at a step
	// and counts as stuck before it counts as dropped.
	OpenFor time.Duration
}

// Step is one row of a funnel. Counts are unique conversations.
type Step struct {
	ID string
	// Question is true for a step that waits for an answer; a
	// message-only step is passed on entry (answered = entered).
	Question bool
	// Removed marks a step the current version no longer has.
	Removed bool
	// Entered and Answered are the conversations that reached the step and
	// answered (or skipped) its question.
	Entered, Answered int
	// OfStart and OfPrevious are Entered as a percentage of the start
	// step's and of the previous step's: the step leading to it (by a
	// branch or a button) that most conversations entered, or, for a step
	// nothing leads to, the one before it in the table; -1 when that step
	// was never entered.
	OfStart, OfPrevious float64
	// Stuck are the conversations waiting at the step now; Dropped those
	// that ended there without an answer (another scenario replaced them,
	// a manager ended them, or they stayed idle past Config.OpenFor).
	Stuck, Dropped int
	// MedianAnswer is the median time from entering to answering (zero
	// when nothing was answered, and for message-only steps).
	MedianAnswer time.Duration
	// Reminded is how many first reminders of the step's question went
	// out in the period; CameBack how many of those clients answered it
	// afterwards.
	Reminded, CameBack int
}

// ErrUnknownScenario is wrapped by Funnel's error for a scenario id no
// scenario has, or the chosen bot has not.
var ErrUnknownScenario = errors.New("unknown scenario")

// ErrChooseBot is wrapped by Funnel's error when several bots have the
// scenario, none of them the bot of the environment variables, and
// Query.Bot chose none.
var ErrChooseBot = errors.New("choose a bot")

// Funnel computes q's funnel.
func (s *Service) Funnel(ctx context.Context, q Query) (*Report, error) {
	g, bots, err := s.graph(ctx, &q)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if q.Period > 0 {
		q.Since = now.Add(-q.Period)
	}
	fq := crm.FunnelQuery{
		Scenario: q.Scenario, Since: q.Since, Version: q.Version, Platform: q.Platform, Source: q.Source,
		OpenSince: now.Add(-s.cfg.OpenFor),
	}
	var counts []crm.FunnelStepCount
	var asOf time.Time
	if st, ok := s.cfg.Store.(AsOfStore); ok {
		counts, asOf, err = st.FunnelStepsAsOf(ctx, fq)
	} else {
		counts, err = s.cfg.Store.FunnelSteps(ctx, fq)
	}
	if err != nil {
		return nil, err // the store names the operation
	}
	versions, err := s.cfg.Store.ScenarioVersions(ctx, q.Scenario)
	if err != nil {
		return nil, err // the store names the operation
	}
	r := build(g, q, counts)
	r.Versions, r.Current, r.AsOf = versions, g.Version, asOf
	r.Bot, r.Bots = q.Bot, bots
	r.OpenFor = s.cfg.OpenFor
	return r, nil
}

// graph returns the graph of q's scenario in q's bot (q.Bot set to the
// bot chosen) and the bots that have it, or an error naming the closest
// id or the bots to choose from.
func (s *Service) graph(ctx context.Context, q *Query) (*scenario.Graph, []string, error) {
	id := q.Scenario
	bots, err := s.cfg.Scenarios.ScenarioBots(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("funnel of %s: %w", id, err)
	}
	switch {
	case len(bots) == 0:
		ids, err := s.cfg.Scenarios.ScenarioIDs(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("funnel of %s: list scenarios: %w", id, err)
		}
		return nil, nil, fmt.Errorf("%w %q%s", ErrUnknownScenario, id, Hint(id, ids, "scenarios"))
	case slices.Contains(bots, q.Bot):
	case q.Bot == "" && len(bots) == 1:
		q.Bot = bots[0]
	case q.Bot == "":
		return nil, nil, fmt.Errorf("%w: scenario %q is in the bots %s", ErrChooseBot, id, quoteAll(bots))
	default:
		return nil, nil, fmt.Errorf("%w %q in bot %q%s", ErrUnknownScenario, id, q.Bot, Hint(q.Bot, bots, "bots with it"))
	}
	g, found, err := s.cfg.Scenarios.Scenario(ctx, q.Bot, id)
	if err != nil {
		return nil, nil, fmt.Errorf("funnel of %s: %w", id, err)
	}
	if !found { // removed between the two calls
		return nil, nil, fmt.Errorf("%w %q in bot %q", ErrUnknownScenario, id, q.Bot)
	}
	return g, bots, nil
}

// Hint is ` (did you mean "x"?)` for the closest of names, else the names
// when they are few ("; scenarios: a, b"), else "".
func Hint(s string, names []string, what string) string {
	if c := spelling.Closest(s, names); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	if len(names) == 0 || len(names) > 10 {
		return ""
	}
	return fmt.Sprintf("; %s: %s", what, strings.Join(names, ", "))
}

// quoteAll is names quoted and joined by commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// build lays counts out in g's step order with the percentages.
func build(g *scenario.Graph, q Query, counts []crm.FunnelStepCount) *Report {
	byStep := make(map[string]crm.FunnelStepCount, len(counts))
	for _, c := range counts {
		byStep[c.Step] = c
	}
	r := &Report{Scenario: g.ID, Title: g.Title, Query: q}
	order := slices.Clone(g.Order)
	if i := slices.Index(order, g.Start); i > 0 {
		order = slices.Insert(slices.Delete(order, i, i+1), 0, g.Start)
	}
	var removed []string
	for _, c := range counts {
		if g.Steps[c.Step] == nil {
			removed = append(removed, c.Step)
		}
	}
	slices.Sort(removed)
	for _, id := range slices.Concat(order, removed) {
		c := byStep[id]
		st := g.Steps[id]
		row := Step{ID: id, Removed: st == nil, Entered: c.Entered, Answered: c.Answered, Stuck: c.Stuck,
			Dropped: c.Dropped, MedianAnswer: c.MedianAnswer, Reminded: c.Reminded, CameBack: c.CameBack}
		row.Question = st == nil || st.Input != scenario.InputNone
		if !row.Question {
			row.MedianAnswer = 0
		}
		r.Steps = append(r.Steps, row)
	}
	if len(r.Steps) == 0 {
		return r
	}
	r.Started = r.Steps[0].Entered
	from := predecessors(g)
	entered := make(map[string]int, len(r.Steps))
	for _, s := range r.Steps {
		entered[s.ID] = s.Entered
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		s.OfStart = percent(s.Entered, r.Started)
		prev := r.Started
		switch ps := from[s.ID]; {
		case i == 0:
		case len(ps) > 0:
			prev = 0
			for _, p := range ps {
				prev = max(prev, entered[p])
			}
		default:
			prev = r.Steps[i-1].Entered
		}
		s.OfPrevious = percent(s.Entered, prev)
	}
	return r
}

// predecessors maps each step of g to the steps that lead to it (by a
// branch or a button), each once, in file order.
func predecessors(g *scenario.Graph) map[string][]string {
	out := map[string][]string{}
	add := func(from, to string) {
		if to != "" && to != from && !slices.Contains(out[to], from) {
			out[to] = append(out[to], from)
		}
	}
	for _, id := range g.Order {
		st := g.Steps[id]
		for _, o := range st.Options {
			add(id, o.Next)
		}
		for _, b := range st.Next {
			add(id, b.Goto)
		}
	}
	return out
}

// percent is n of base in percent, rounded to a tenth; -1 for a zero base.
func percent(n, base int) float64 {
	if base == 0 {
		return -1
	}
	return float64(int(float64(n)*1000/float64(base)+0.5)) / 10
}
