package console

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// ScenarioPages is what Сценарии needs of the services. The zero value leaves
// the section "not ready yet".
type ScenarioPages struct {
	// Catalog lists every bot's scenario registry. Required for the section.
	Catalog ScenarioCatalog
	// Playground talks to the scenarios as a client (internal/localchat's
	// Playground); nil: no playground.
	Playground Playground
	// Tests gives the results of each bot's scenario tests
	// (internal/scenariotest, run by internal/app); nil: no tests column.
	Tests ScenarioTests
	// Funnels computes each scenario's Воронка (scenarios_funnel.go); nil:
	// no funnel page.
	Funnels ScenarioFunnels
}

// ScenarioTests gives the results of a bot's scenario tests.
type ScenarioTests interface {
	// TestResults returns the last run of bot's tests against its current
	// scenarios and test files (run first when either changed since the
	// last run); ok is false when the bot has no test files.
	TestResults(ctx context.Context, bot string) (run TestRun, ok bool)
}

// TestRun is one run of a bot's scenario tests.
type TestRun struct {
	// At is when the run started; Took how long it took.
	At   time.Time
	Took time.Duration
	// Problems are why the tests could not run (a test file's errors, each
	// "file:line:col: message"); nothing ran then.
	Problems []string
	// Scenarios are the results by scenario id.
	Scenarios map[string]TestResult
}

// TestResult is one scenario's share of a TestRun.
type TestResult struct {
	Passed, Failed int
	// First is the first failure, `file:line:col: case "name": step N:
	// message`; "" when every case passed.
	First string
}

// ScenarioCatalog lists the scenarios of every bot (internal/app over
// internal/scenario's registries).
type ScenarioCatalog interface {
	// ScenarioBots returns each bot's current scenarios and the files its
	// registry rejected, the environment's bot (Name "") first.
	ScenarioBots(ctx context.Context) []ScenarioBot
}

// ScenarioBot is one bot's scenario registry as Сценарии shows it.
type ScenarioBot struct {
	// Name is the config file's bot name, "" for the bot of the
	// environment variables.
	Name string
	// Scenarios are the current versions, sorted by id.
	Scenarios []*scenario.Graph
	// Problems are the files the registry rejected (scenario.Registry.Problems).
	Problems []scenario.Problem
	// Links are where the bot's deep links point: one per platform the
	// bot is on.
	Links []DeepLinkBase
}

// DeepLinkBase is how a bot's deep links start: Prefix + payload.
type DeepLinkBase struct {
	Platform messenger.Platform
	// Prefix is e.g. "https://t.me/shop_bot?start=" or
	// "https://vk.me/club42?ref=".
	Prefix string
}

// Playground is the console's chat with the scenarios (internal/localchat):
// one client per console user and bot.
type Playground interface {
	// Screen returns the user's chat with bot as it stands.
	Screen(ctx context.Context, bot, user string) (localchat.Screen, error)
	// Restart starts scenario id over on an empty chat.
	Restart(ctx context.Context, bot, user, id string) (localchat.Screen, error)
	// Input hands the client's message, button press or number to the
	// engine and returns the chat with the bot's replies.
	Input(ctx context.Context, bot, user string, in localchat.Input) (localchat.Screen, error)
}

// scenarioRoutes registers Сценарии's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) scenarioRoutes(mux *http.ServeMux) {
	if c.cfg.Scenarios.Catalog == nil {
		return
	}
	c.sectionPages["/scenarios"] = c.scenarioList
	c.handle(mux, "GET /scenarios/{id}", account.RoleOperator, c.scenarioPage)
	if c.cfg.Scenarios.Funnels != nil {
		c.handle(mux, "GET /scenarios/{id}/funnel", account.RoleOperator, c.scenarioFunnel)
	}
	if c.cfg.Scenarios.Playground == nil {
		return
	}
	c.handle(mux, "GET /scenarios/{id}/play", account.RoleOperator, c.playPage)
	c.handle(mux, "POST /scenarios/{id}/play", account.RoleOperator, c.playInput)
	c.handle(mux, "POST /scenarios/{id}/play/restart", account.RoleOperator, c.playRestart)
}

// scenarioListView is the data of the Сценарии page.
type scenarioListView struct {
	Bots       []scenarioBotView
	Playground bool
	// Tests shows the tests column.
	Tests bool
}

// scenarioBotView is one bot's table.
type scenarioBotView struct {
	Name string
	// Count is len(Rows) (plural takes an int64).
	Count int64
	Rows  []scenarioRow
	// Broken are the rejected files that have no running version.
	Broken []scenarioProblemView
	// Tests is the bot's last test run; nil when it has no tests.
	Tests *testRunView
}

// testRunView is a bot's last test run.
type testRunView struct {
	At       *stamp
	Took     string
	Problems []string
}

// testResultView is a scenario's test results in its row.
type testResultView struct {
	Passed, Failed, Total int64
	First                 string
}

// scenarioRow is one scenario of the table.
type scenarioRow struct {
	ID, Title, File, FileName, Version, Href, PlayHref string
	Steps                                              int64
	Commands, Keywords                                 []string
	Links                                              []deepLink
	// Problem is set when the file was edited into an invalid one and
	// this version keeps running.
	Problem *scenarioProblemView
	// Tests are the scenario's test results; nil when no test ran it.
	Tests *testResultView
}

// scenarioProblemView is a rejected file with its errors.
type scenarioProblemView struct {
	File   string
	Errors []string
}

// deepLink is one deep link of a scenario.
type deepLink struct {
	Platform, Href, Text string
	// Prefix is true for a payload pattern ("ads_*"): any payload starting
	// with it starts the scenario.
	Prefix bool
}

// scenarioList is Сценарии: every bot's scenarios with their status,
// version, triggers and deep links, and the files that failed to load.
func (c *Console) scenarioList(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	v := scenarioListView{Playground: c.cfg.Scenarios.Playground != nil, Tests: c.cfg.Scenarios.Tests != nil}
	for _, b := range c.cfg.Scenarios.Catalog.ScenarioBots(r.Context()) {
		bv := botView(b)
		if v.Tests {
			if run, ok := c.cfg.Scenarios.Tests.TestResults(r.Context(), b.Name); ok {
				addTests(lang, &bv, run)
			}
		}
		v.Bots = append(v.Bots, bv)
	}
	c.render(w, r, http.StatusOK, "scenarios", "scenarios.title", v)
}

// botView builds one bot's table: each scenario with the problems of its
// file, then the rejected files that run nothing.
func botView(b ScenarioBot) scenarioBotView {
	problems := map[string]scenario.Problem{}
	for _, p := range b.Problems {
		problems[p.File] = p
	}
	bv := scenarioBotView{Name: b.Name}
	for _, g := range b.Scenarios {
		row := scenarioRow{
			ID: g.ID, Title: g.Title, File: g.File, FileName: filepath.Base(g.File), Version: g.Version, Steps: int64(len(g.Steps)),
			Href: scenarioHref(b.Name, g.ID, ""), PlayHref: scenarioHref(b.Name, g.ID, "/play"),
			Commands: g.Triggers.Commands, Keywords: g.Triggers.Keywords,
		}
		for _, p := range g.Triggers.Payloads {
			for _, base := range b.Links {
				prefix, isPrefix := strings.CutSuffix(p, "*")
				row.Links = append(row.Links, deepLink{Platform: string(base.Platform),
					Href: base.Prefix + url.QueryEscape(prefix), Text: base.Prefix + p, Prefix: isPrefix})
			}
		}
		if p, ok := problems[g.File]; ok {
			row.Problem = &scenarioProblemView{File: p.File, Errors: p.Errors}
			delete(problems, g.File)
		}
		bv.Rows = append(bv.Rows, row)
	}
	bv.Count = int64(len(bv.Rows))
	for _, p := range b.Problems {
		if _, ok := problems[p.File]; ok {
			bv.Broken = append(bv.Broken, scenarioProblemView{File: p.File, Errors: p.Errors})
		}
	}
	return bv
}

// addTests puts a bot's test run into its table.
func addTests(lang i18n.Lang, bv *scenarioBotView, run TestRun) {
	bv.Tests = &testRunView{At: newStamp(lang, &run.At), Took: decimal(lang, run.Took.Seconds()), Problems: run.Problems}
	for i := range bv.Rows {
		res, ok := run.Scenarios[bv.Rows[i].ID]
		if !ok {
			continue
		}
		bv.Rows[i].Tests = &testResultView{Passed: int64(res.Passed), Failed: int64(res.Failed),
			Total: int64(res.Passed + res.Failed), First: res.First}
	}
}

// scenarioHref is a scenario's page (suffix "" or "/play"), naming the bot
// when it is not the environment's.
func scenarioHref(bot, id, suffix string) string {
	h := "/scenarios/" + url.PathEscape(id) + suffix
	if bot != "" {
		h += "?bot=" + url.QueryEscape(bot)
	}
	return h
}

// findScenario finds the scenario of the request's {id} and ?bot=.
func (c *Console) findScenario(r *http.Request) (ScenarioBot, *scenario.Graph, bool) {
	id, bot := r.PathValue("id"), r.URL.Query().Get("bot")
	for _, b := range c.cfg.Scenarios.Catalog.ScenarioBots(r.Context()) {
		if b.Name != bot {
			continue
		}
		for _, g := range b.Scenarios {
			if g.ID == id {
				return b, g, true
			}
		}
	}
	return ScenarioBot{}, nil, false
}

// scenarioView is the data of a scenario's page.
type scenarioView struct {
	Bot      string
	Row      scenarioRow
	Diagram  diagram
	Steps    []stepView
	PlayHref string
	// FunnelHref is the scenario's Воронка ("" without one).
	FunnelHref string
}

// stepView is one step in the text list for screen readers.
type stepView struct {
	ID, Kind, Say string
	Start, End    bool
	Ways          []string
}

// scenarioPage is a scenario's diagram: its steps as boxes, its
// transitions as arrows, and the same as a text list.
func (c *Console) scenarioPage(w http.ResponseWriter, r *http.Request) {
	b, g, ok := c.findScenario(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	lang := langOf(r.Context())
	label := func(t transition) string { return edgeLabel(lang, t) }
	bv := botView(ScenarioBot{Name: b.Name, Scenarios: []*scenario.Graph{g}, Problems: b.Problems, Links: b.Links})
	v := scenarioView{Bot: b.Name, Row: bv.Rows[0], Diagram: layoutDiagram(g, label)}
	if c.cfg.Scenarios.Playground != nil {
		v.PlayHref = bv.Rows[0].PlayHref
	}
	if c.cfg.Scenarios.Funnels != nil {
		v.FunnelHref = scenarioHref(b.Name, g.ID, "/funnel")
	}
	for i := range v.Diagram.Boxes {
		v.Diagram.Boxes[i].Kind = kindLabel(lang, v.Diagram.Boxes[i].Kind)
	}
	ways := map[string][]string{}
	for _, t := range transitions(g) {
		way := i18n.T(lang, "scenarios.way", t.To)
		if s := label(t); s != "" {
			way = i18n.T(lang, "scenarios.way.labelled", s, t.To)
		}
		ways[t.From] = append(ways[t.From], way)
	}
	for _, id := range g.Order {
		st := g.Steps[id]
		sv := stepView{ID: id, Kind: kindLabel(lang, st.Input.String()), Start: id == g.Start, End: st.End, Ways: ways[id]}
		if st.Say != nil {
			sv.Say = st.Say.Raw
		}
		v.Steps = append(v.Steps, sv)
	}
	c.render(w, r, http.StatusOK, "scenario", "scenarios.diagram.title", v)
}

// edgeLabel is the caption of a transition's arrow in lang.
func edgeLabel(lang i18n.Lang, t transition) string {
	switch t.Kind {
	case transitionButton:
		return i18n.T(lang, "scenarios.edge.button", t.Label)
	case transitionIf:
		return i18n.T(lang, "scenarios.edge.if", t.Label)
	case transitionElse:
		return i18n.T(lang, "scenarios.edge.else")
	case transitionSkipped:
		return i18n.T(lang, "scenarios.edge.skip", t.Label)
	}
	return ""
}

// kindLabel names a step's input kind in lang.
func kindLabel(lang i18n.Lang, kind string) string {
	key := "scenarios.kind." + kind
	if !i18n.Has(lang, key) {
		return kind
	}
	return i18n.T(lang, key)
}

// playView is the data of the playground page and its chat fragment.
type playView struct {
	Bot, ID, Title, Action, RestartAction, Href string
	// Started is false until the chat holds a conversation with this
	// scenario (the page then offers to start it).
	Started  bool
	Messages []playMessage
	// AwaitingContact: the contact button was pressed, the number is asked.
	AwaitingContact bool
	Error           string
	// Announce is what the bot said since the client's last message, for
	// the page's status region (screen readers), on an htmx answer only.
	Announce string
	// ClientsHref lists the playground's clients under Клиенты (where the
	// chat's card is); "" when the user may not open Клиенты.
	ClientsHref string
}

// playMessage is one bubble; Buttons are set on the message whose buttons
// are live, Chips on older ones (shown, not pressable).
type playMessage struct {
	// ID is the message's id (sent with a press of its buttons).
	ID, From, Text string
	Buttons        []playButton
	Chips          []string
}

// playButton is a live button: its number in the screen's live buttons.
type playButton struct {
	N       int
	Text    string
	Contact bool
}

// playPage is the playground for one scenario.
func (c *Console) playPage(w http.ResponseWriter, r *http.Request) {
	b, g, ok := c.findScenario(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	s, err := c.cfg.Scenarios.Playground.Screen(r.Context(), b.Name, userFrom(r.Context()).Name)
	if err != nil {
		c.cfg.Logger.Error("console: playground screen", "err", err)
		c.serverError(w, r)
		return
	}
	v := c.playView(b.Name, g, s, "")
	v.ClientsHref = c.tourPlaygroundClients(r.Context())
	c.render(w, r, http.StatusOK, "playground", "scenarios.play.title", v)
}

// playInput sends the client's message, button press or number.
func (c *Console) playInput(w http.ResponseWriter, r *http.Request) {
	b, g, ok := c.findScenario(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	in := localchat.Input{Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact") == "1",
		Message: r.PostFormValue("message")}
	if in.Contact {
		in.Text = r.PostFormValue("phone")
	}
	if n, err := strconv.Atoi(r.PostFormValue("button")); err == nil && n > 0 {
		in.Button = n
	}
	s, err := c.cfg.Scenarios.Playground.Input(r.Context(), b.Name, userFrom(r.Context()).Name, in)
	c.playAnswer(w, r, b.Name, g, s, err)
}

// playRestart starts the scenario over («Начать заново»).
func (c *Console) playRestart(w http.ResponseWriter, r *http.Request) {
	b, g, ok := c.findScenario(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	s, err := c.cfg.Scenarios.Playground.Restart(r.Context(), b.Name, userFrom(r.Context()).Name, g.ID)
	c.playAnswer(w, r, b.Name, g, s, err)
}

// playAnswer answers a playground POST: htmx gets the chat fragment, a
// plain form post goes back to the page (303).
func (c *Console) playAnswer(w http.ResponseWriter, r *http.Request, bot string, g *scenario.Graph, s localchat.Screen, err error) {
	msg := ""
	if err != nil {
		c.cfg.Logger.Error("console: playground", "scenario", g.ID, "err", err)
		msg = i18n.T(langOf(r.Context()), "scenarios.play.failed")
	}
	if r.Header.Get("HX-Request") != "true" {
		if err != nil {
			c.serverError(w, r)
			return
		}
		http.Redirect(w, r, scenarioHref(bot, g.ID, "/play"), http.StatusSeeOther)
		return
	}
	pv := c.playView(bot, g, s, msg)
	pv.Announce = lastReplies(s)
	if msg != "" {
		pv.Announce = msg
	}
	v := view{Lang: langOf(r.Context()), User: userFrom(r.Context()), Page: pv}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.pages["playground"].ExecuteTemplate(w, "chat", v); err != nil {
		c.cfg.Logger.Error("console: render playground", "err", err)
	}
}

// lastReplies joins the bot's messages after the client's last one.
func lastReplies(s localchat.Screen) string {
	var out []string
	for i := len(s.Messages) - 1; i >= 0 && s.Messages[i].From == localchat.FromBot; i-- {
		out = append([]string{s.Messages[i].Text}, out...)
	}
	return strings.Join(out, "\n")
}

// playView turns the screen into bubbles.
func (c *Console) playView(bot string, g *scenario.Graph, s localchat.Screen, errMsg string) playView {
	v := playView{
		Bot: bot, ID: g.ID, Title: g.Title, Href: scenarioHref(bot, g.ID, ""),
		Action: scenarioHref(bot, g.ID, "/play"), RestartAction: scenarioHref(bot, g.ID, "/play/restart"),
		Started: s.Scenario == g.ID && len(s.Messages) > 0, AwaitingContact: s.AwaitingContact, Error: errMsg,
	}
	if !v.Started {
		return v
	}
	for _, m := range s.Messages {
		pm := playMessage{ID: m.ID, From: m.From, Text: m.Text}
		if m.ID == s.LiveMessage && m.From == localchat.FromBot {
			for i, b := range s.Live {
				pm.Buttons = append(pm.Buttons, playButton{N: i + 1, Text: b.Text, Contact: b.RequestContact})
			}
		} else {
			for _, row := range m.Buttons {
				for _, b := range row {
					pm.Chips = append(pm.Chips, b.Text)
				}
			}
		}
		v.Messages = append(v.Messages, pm)
	}
	return v
}
