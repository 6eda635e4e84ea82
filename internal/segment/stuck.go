package segment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"

	"github.com/chathub/chathub/internal/crm"
)

// OpenFor is Config.OpenFor's default: how long a conversation waiting at
// a step counts as stuck there for stuck(...) and dropped(...), after which
// it counts as dropped (STATE_TTL's default, the conversation state's
// lifetime; internal/funnel uses the same, so the funnel's numbers and
// these segments agree).
const OpenFor = 30 * 24 * time.Hour

// Waiting is an unanswered step visit of the client's (the funnel's
// record, docs/FUNNEL.md), as stuck(...) and dropped(...) read it.
type Waiting struct {
	Scenario, Version, Step string
	// Run is the conversation: when it started, in Unix microseconds.
	Run       int64
	EnteredAt time.Time
	// Left is true when the conversation ended there (no answer); false
	// while it waits there.
	Left bool
}

// VisitFilter is the funnel's choice of conversations as stuck(...) and
// dropped(...) take it in their last argument: conversations started at
// or after Since, on Version, of clients on Platform who came by Source
// (each when set). VisitFilter.Args renders it.
type VisitFilter struct {
	// Since is a time operand of the language, e.g. `ago("7d")` or
	// `date("2026-11-30")`; "" for all time.
	Since                     string
	Version, Platform, Source string
}

// Args renders f as the optional arguments of stuck(...) and dropped(...):
// "" when nothing is set, else `, {since: ago("7d"), platform: "vk"}`.
func (f VisitFilter) Args() string {
	var parts []string
	if f.Since != "" {
		parts = append(parts, "since: "+f.Since)
	}
	for _, kv := range [][2]string{{"version", f.Version}, {"platform", f.Platform}, {"source", f.Source}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+": "+strconv.Quote(kv[1]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", {" + strings.Join(parts, ", ") + "}"
}

// visitFilter is a compiled VisitFilter.
type visitFilter struct {
	since                     *timeVal
	version, platform, source string
}

// visitFilterKeys are the keys of stuck(...)'s and dropped(...)'s filter map.
var visitFilterKeys = []string{"since", "version", "platform", "source"}

// atStep holds when a conversation of the client's waits at step of
// scenario now, entered within OpenFor (stuck), or, with dropped, ended
// there without an answer (left it, or idle past OpenFor) and the client
// has not completed the scenario since; of the conversations f keeps.
type atStep struct {
	scenario, step string
	dropped        bool
	openFor        time.Duration // Config.OpenFor
	f              visitFilter
}

// sinceAt is f's period start at now, as the funnel stores times
// (microseconds); zero without a period.
func (f visitFilter) sinceAt(now time.Time) time.Time {
	if f.since == nil {
		return time.Time{}
	}
	return f.since.at(now).UTC().Truncate(time.Microsecond)
}

// sql renders p. The visits are looked up by client: on SQLite the
// scenario and entered_at terms are written +column, which keeps SQLite's
// planner off its (scenario, entered_at) index for this correlated
// subquery (it would read every visit of the scenario for each client,
// quadratic in the clients; measured 20 times slower at 300 clients).
func (p atStep) sql(w *sqlWriter) {
	plus := ""
	if !w.pg() {
		plus = "+"
	}
	w.str("(EXISTS (SELECT 1 FROM step_visits WHERE step_visits.client_id = clients.id AND ", plus, "step_visits.scenario = ")
	w.arg(p.scenario)
	w.str(" AND step_visits.step = ")
	w.arg(p.step)
	if since := p.f.sinceAt(w.now); !since.IsZero() {
		w.str(" AND step_visits.run >= ")
		w.arg(since.UnixMicro())
		w.str(" AND ", plus, "step_visits.entered_at >= ")
		w.arg(since)
	}
	if p.f.version != "" {
		w.str(" AND step_visits.version = ")
		w.arg(p.f.version)
	}
	if p.dropped {
		w.str(" AND step_visits.answered_at IS NULL AND (step_visits.left_at IS NOT NULL OR step_visits.entered_at < ")
		w.arg(w.now.Add(-p.openFor))
		w.str(") AND NOT EXISTS (SELECT 1 FROM completions WHERE completions.client_id = clients.id" +
			" AND completions.scenario = step_visits.scenario AND completions.created_at > step_visits.entered_at))")
	} else {
		w.str(" AND step_visits.left_at IS NULL AND ", plus, "step_visits.entered_at >= ")
		w.arg(w.now.Add(-p.openFor))
		w.str(")")
	}
	if p.f.platform != "" {
		w.str(" AND clients.platform = ")
		w.arg(p.f.platform)
	}
	if p.f.source != "" {
		w.str(" AND clients.source = ")
		w.arg(p.f.source)
	}
	w.str(")")
}

func (p atStep) eval(e *env) bool {
	if p.f.platform != "" && string(e.c.Platform) != p.f.platform || p.f.source != "" && e.c.Source != p.f.source {
		return false
	}
	open := e.now.Add(-p.openFor)
	since := p.f.sinceAt(e.now)
	return slices.ContainsFunc(e.act.Waiting, func(v Waiting) bool {
		switch {
		case v.Scenario != p.scenario || v.Step != p.step,
			p.f.version != "" && v.Version != p.f.version,
			!since.IsZero() && (v.Run < since.UnixMicro() || v.EnteredAt.Before(since)):
			return false
		}
		stuck := !v.Left && !v.EnteredAt.Before(open)
		if !p.dropped {
			return stuck
		}
		return !stuck && !slices.ContainsFunc(e.act.Completions, func(c crm.Completion) bool {
			return c.Scenario == v.Scenario && c.CreatedAt.After(v.EnteredAt)
		})
	})
}

// waiting compiles stuck("scenario", "step"[, since][, {filters}]) and
// the same of dropped.
func (k *compilation) waiting(u *unit, n ast.Node, name string, args []ast.Node) (pred, error) {
	usage := fmt.Sprintf(`%s("scenario", "step") and optional filters last, e.g. %s("portrait", "city", {since: ago("7d"), platform: "vk"})`, name, name)
	if len(args) < 2 || len(args) > 4 {
		return nil, u.errorAt(n, "%s takes %s", name, usage)
	}
	ids := make([]string, 2)
	for i, a := range args[:2] {
		s, ok := a.(*ast.StringNode)
		if !ok {
			return nil, u.errorAt(a, "%s takes %s", name, usage)
		}
		if !idRe.MatchString(s.Value) {
			return nil, u.errorAt(a, "%q is not a scenario or step id (latin letters, digits, _ and -)", s.Value)
		}
		ids[i] = s.Value
	}
	var f visitFilter
	for i, a := range args[2:] {
		last := i == len(args)-3
		if m, ok := a.(*ast.MapNode); ok {
			if !last {
				return nil, u.errorAt(a, "%s takes its filters last: %s", name, usage)
			}
			if err := k.visitFilter(u, name, m, &f); err != nil {
				return nil, err
			}
			continue
		}
		t, err := k.operand(u, a)
		if err != nil {
			return nil, err
		}
		if i != 0 || (t.kind != oTime && t.kind != oDate) {
			return nil, u.errorAt(a, "%s takes %s", name, usage)
		}
		f.since = timeOf(t)
	}
	if err := k.checkStep(u, args, ids); err != nil {
		return nil, err
	}
	k.scenarios[ids[0]] = true
	return atStep{scenario: ids[0], step: ids[1], dropped: name == "dropped", openFor: k.cfg.OpenFor, f: f}, nil
}

// timeOf is a time or date operand as a timeVal.
func timeOf(t operand) *timeVal {
	tv := t.tv
	if t.kind == oDate {
		tv = timeVal{kind: tvAbs, t: t.date}
	}
	return &tv
}

// visitFilter reads the filter map of stuck(...) or dropped(...) into f:
// since (a time), version, platform and source (strings), each once.
func (k *compilation) visitFilter(u *unit, name string, m *ast.MapNode, f *visitFilter) error {
	seen := map[string]bool{}
	for _, pn := range m.Pairs {
		pair := pn.(*ast.PairNode)
		ks, ok := pair.Key.(*ast.StringNode)
		if !ok {
			return u.errorAt(pair.Key, "%s's filters are named: %s", name, strings.Join(visitFilterKeys, ", "))
		}
		key := ks.Value
		if !slices.Contains(visitFilterKeys, key) {
			return u.errorAt(pair.Key, "unknown filter %q of %s%s", key, name, hint(key, visitFilterKeys, "filters"))
		}
		if seen[key] || key == "since" && f.since != nil {
			return u.errorAt(pair.Key, "%s's filter %q is given twice", name, key)
		}
		seen[key] = true
		if key == "since" {
			t, err := k.operand(u, pair.Value)
			if err != nil {
				return err
			}
			if t.kind != oTime && t.kind != oDate {
				return u.errorAt(pair.Value, `since is a time, e.g. since: ago("7d") or since: date("2026-11-30")`)
			}
			f.since = timeOf(t)
			continue
		}
		s, ok := pair.Value.(*ast.StringNode)
		if !ok {
			return u.errorAt(pair.Value, `%s is a string, e.g. %s: "%s"`, key, key, filterExample[key])
		}
		if err := checkString(u, s, s.Value); err != nil {
			return err
		}
		v := s.Value
		switch {
		case v == "":
			return u.errorAt(s, "%s is empty; leave the filter out to keep every %s", key, key)
		case key == "platform" && !slices.Contains(platformValues(), v):
			return u.errorAt(s, "unknown platform %q%s", v, hint(v, platformValues(), "platforms"))
		case key == "version" && !idRe.MatchString(v):
			return u.errorAt(s, "%q is not a scenario version (latin letters, digits, _ and -)", v)
		}
		switch key {
		case "version":
			f.version = v
		case "platform":
			f.platform = v
		default:
			f.source = v
		}
	}
	return nil
}

// filterExample is an example value of each string filter.
var filterExample = map[string]string{"version": "1816005a7bdd7f39", "platform": "vk", "source": "promo"}

// platformValues are the values of the platform field.
func platformValues() []string { return catalogue["platform"].values }

// checkStep checks that scenario ids[0] has a step ids[1] in some known
// version; nothing is checked without Config.Scenarios.
func (k *compilation) checkStep(u *unit, args []ast.Node, ids []string) error {
	known := k.cfg.Scenarios
	if known == nil {
		return nil
	}
	names, found, err := known.ScenarioNames(k.ctx, ids[0])
	if err != nil {
		return fmt.Errorf("look up scenario %q: %w", ids[0], err)
	}
	if !found {
		all, err := known.ScenarioIDs(k.ctx)
		if err != nil {
			return fmt.Errorf("list scenarios: %w", err)
		}
		if len(all) == 0 {
			return nil
		}
		return unknownName(u, args[0], "unknown scenario %q%s", ids[0], hint(ids[0], all, "scenarios"))
	}
	if slices.Contains(names.Steps, ids[1]) {
		return nil
	}
	return unknownName(u, args[1], "unknown step %q in scenario %q%s", ids[1], ids[0], hint(ids[1], names.Steps, "steps"))
}
