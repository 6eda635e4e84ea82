package segment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/chathub/chathub/internal/crm"
)

// Scenarios tells the compiler which scenarios exist and what their steps
// are called, so that completed(...) and answered(...) naming a scenario,
// step or field that never existed is an error with a suggestion rather
// than a segment that silently selects nobody. The scenario registry (the
// scenarios loaded now) and the store of scenario versions (every version
// ever run) implement it; ScenarioSets joins several.
type Scenarios interface {
	// ScenarioNames returns the names of scenario id over every version
	// known; found is false when no version of it is known. An error is a
	// failure to look it up.
	ScenarioNames(ctx context.Context, id string) (names ScenarioNames, found bool, err error)
	// ScenarioIDs lists the known scenario ids (for suggestions).
	ScenarioIDs(ctx context.Context) ([]string, error)
}

// ScenarioNames are what answered(...) and completed(...) may name in one
// scenario, over all its versions.
type ScenarioNames struct {
	// Steps are the step ids.
	Steps []string
	// EndSteps are the steps that end a conversation (end: true).
	EndSteps []string
	// Fields are the fields answers are saved to, as save: names them
	// (city, attributes.csat, vars.code).
	Fields []string
}

// Merge adds o's names to n (a scenario's versions, or two sources).
func (n *ScenarioNames) Merge(o ScenarioNames) {
	n.Steps = mergeNames(n.Steps, o.Steps)
	n.EndSteps = mergeNames(n.EndSteps, o.EndSteps)
	n.Fields = mergeNames(n.Fields, o.Fields)
}

// mergeNames returns the sorted union of a and b.
func mergeNames(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// ScenarioSets is every scenario of any of its sets; nil sets are skipped.
type ScenarioSets []Scenarios

// ScenarioNames implements Scenarios: the union over the sets that know id.
func (s ScenarioSets) ScenarioNames(ctx context.Context, id string) (ScenarioNames, bool, error) {
	var (
		out   ScenarioNames
		known bool
	)
	for _, set := range s {
		if set == nil {
			continue
		}
		n, found, err := set.ScenarioNames(ctx, id)
		if err != nil {
			return ScenarioNames{}, false, err
		}
		if found {
			out.Merge(n)
			known = true
		}
	}
	return out, known, nil
}

// ScenarioIDs implements Scenarios: the sorted union of the sets' ids.
func (s ScenarioSets) ScenarioIDs(ctx context.Context) ([]string, error) {
	var out []string
	for _, set := range s {
		if set == nil {
			continue
		}
		ids, err := set.ScenarioIDs(ctx)
		if err != nil {
			return nil, err
		}
		out = mergeNames(out, ids)
	}
	return out, nil
}

// ErrUnknownScenario is wrapped by the Error for completed(...) or
// answered(...) naming a scenario, step or field no known version has.
var ErrUnknownScenario = errors.New("unknown scenario name")

// checkActivity checks the names of completed(...) or answered(...)
// against the known scenarios; nothing is checked without Config.Scenarios.
func (k *compilation) checkActivity(u *unit, fn string, args []ast.Node, ids []string) error {
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
			// Nothing is known (a database no scenario has run on, no
			// scenario directory): there is nothing to tell a typo from.
			return nil
		}
		return unknownName(u, args[0], "unknown scenario %q%s", ids[0], hint(ids[0], all, "scenarios"))
	}
	if len(ids) < 2 {
		return nil
	}
	key := ids[1]
	if fn == "completed" {
		return checkEndStep(u, args[1], ids[0], key, names)
	}
	keys := answerKeys(names)
	if slices.Contains(keys, key) {
		return nil
	}
	return unknownName(u, args[1], "unknown step or field %q in scenario %q%s", key, ids[0], hint(key, keys, "steps and fields"))
}

// checkEndStep checks the step of completed(scenario, step).
func checkEndStep(u *unit, n ast.Node, id, step string, names ScenarioNames) error {
	switch {
	case slices.Contains(names.EndSteps, step):
		return nil
	case slices.Contains(names.Steps, step):
		return unknownName(u, n, "step %q of scenario %q does not end it, so no conversation completes there; completed(%q, ...) takes an end step%s",
			step, id, id, knownList("end steps", names.EndSteps))
	}
	return unknownName(u, n, "unknown end step %q in scenario %q%s", step, id, hint(step, names.EndSteps, "end steps"))
}

// answerKeys are the names answered(scenario, key) matches: step ids,
// saved fields, and attribute keys without their prefix.
func answerKeys(n ScenarioNames) []string {
	keys := slices.Clone(n.Steps)
	for _, f := range n.Fields {
		keys = append(keys, f)
		if k, ok := strings.CutPrefix(f, crm.AttributesPrefix); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// hint is ` (did you mean "x"?)` for the closest name, else the names
// when they are few: "; end steps: thanks, declined".
func hint(s string, names []string, what string) string {
	if h := didYouMean(s, names); h != "" {
		return h
	}
	return knownList(what, names)
}

// knownList is "; end steps: a, b" for a short list, else "".
func knownList(what string, names []string) string {
	if len(names) == 0 || len(names) > 10 {
		return ""
	}
	return fmt.Sprintf("; %s: %s", what, strings.Join(names, ", "))
}

func unknownName(u *unit, n ast.Node, format string, args ...any) error {
	e := u.errorAt(n, format, args...).(*Error)
	e.Err = ErrUnknownScenario
	return e
}
