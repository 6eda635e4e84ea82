package segment

import (
	"fmt"
	"slices"
	"time"

	"github.com/expr-lang/expr/ast"
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
	Scenario, Step string
	EnteredAt      time.Time
	// Left is true when the conversation ended there (no answer); false
	// while it waits there.
	Left bool
}

// atStep holds when a conversation of the client's waits at step of
// scenario now, entered within OpenFor (stuck), or, with dropped, ended
// there without an answer (left it, or idle past OpenFor).
type atStep struct {
	scenario, step string
	dropped        bool
	openFor        time.Duration // Config.OpenFor
}

func (p atStep) sql(w *sqlWriter) {
	w.str("(EXISTS (SELECT 1 FROM step_visits WHERE step_visits.client_id = clients.id AND step_visits.scenario = ")
	w.arg(p.scenario)
	w.str(" AND step_visits.step = ")
	w.arg(p.step)
	if p.dropped {
		w.str(" AND step_visits.answered_at IS NULL AND (step_visits.left_at IS NOT NULL OR step_visits.entered_at < ")
		w.arg(w.now.Add(-p.openFor))
		w.str(")))")
		return
	}
	w.str(" AND step_visits.left_at IS NULL AND step_visits.entered_at >= ")
	w.arg(w.now.Add(-p.openFor))
	w.str("))")
}

func (p atStep) eval(e *env) bool {
	open := e.now.Add(-p.openFor)
	return slices.ContainsFunc(e.act.Waiting, func(v Waiting) bool {
		if v.Scenario != p.scenario || v.Step != p.step {
			return false
		}
		stuck := !v.Left && !v.EnteredAt.Before(open)
		return stuck != p.dropped
	})
}

// waiting compiles stuck("scenario", "step") and dropped("scenario", "step").
func (k *compilation) waiting(u *unit, n ast.Node, name string, args []ast.Node) (pred, error) {
	usage := fmt.Sprintf(`%s("scenario", "step"), e.g. %s("portrait", "city")`, name, name)
	if len(args) != 2 {
		return nil, u.errorAt(n, "%s takes two strings: %s", name, usage)
	}
	ids := make([]string, 2)
	for i, a := range args {
		s, ok := a.(*ast.StringNode)
		if !ok {
			return nil, u.errorAt(a, "%s takes %s", name, usage)
		}
		if !idRe.MatchString(s.Value) {
			return nil, u.errorAt(a, "%q is not a scenario or step id (latin letters, digits, _ and -)", s.Value)
		}
		ids[i] = s.Value
	}
	if err := k.checkStep(u, args, ids); err != nil {
		return nil, err
	}
	k.scenarios[ids[0]] = true
	return atStep{scenario: ids[0], step: ids[1], dropped: name == "dropped", openFor: k.cfg.OpenFor}, nil
}

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
