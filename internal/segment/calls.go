package segment

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// idRe is the form of scenario and step ids (as the scenario loader
// requires) and of saved segment names; keyRe adds the field names answers
// are saved to (first_name, attributes.csat, vars.x).
var (
	idRe  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	keyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$`)
)

// call compiles completed(...), answered(...), stuck(...), dropped(...)
// and segment(...).
func (k *compilation) call(u *unit, n ast.Node, name string, args []ast.Node, depth int) (pred, error) {
	switch name {
	case "completed", "answered":
		return k.activity(u, n, name, args)
	case "segment":
		return k.saved(u, n, args, depth)
	case "stuck", "dropped":
		return k.waiting(u, n, name, args)
	case "now", "ago", "date":
		return nil, u.errorAt(n, "%s(...) is a time, not a condition; compare a timestamp with it, e.g. last_seen_at > ago(\"30d\")", name)
	}
	return nil, unknownFunction(u, n, name)
}

// activity compiles completed(scenario[, step][, since]) and
// answered(scenario[, step or field][, since]).
func (k *compilation) activity(u *unit, n ast.Node, name string, args []ast.Node) (pred, error) {
	usage := fmt.Sprintf(`%s("scenario"), %s("scenario", "step"), or either with a time last, e.g. %s("feedback", ago("30d"))`, name, name, name)
	if len(args) == 0 || len(args) > 3 {
		return nil, u.errorAt(n, "%s takes 1 to 3 arguments: %s", name, usage)
	}
	ids := make([]string, 0, 2)
	var since *timeVal
	for i, a := range args {
		if s, ok := a.(*ast.StringNode); ok && since == nil && i < 2 {
			if i == 0 && !idRe.MatchString(s.Value) || !keyRe.MatchString(s.Value) {
				return nil, u.errorAt(a, "%q is not a scenario, step or field id (latin letters, digits, _ and -)", s.Value)
			}
			ids = append(ids, s.Value)
			continue
		}
		t, err := k.operand(u, a)
		if err != nil {
			return nil, err
		}
		if i == 0 || i != len(args)-1 || (t.kind != oTime && t.kind != oDate) {
			return nil, u.errorAt(a, "%s takes %s", name, usage)
		}
		tv := t.tv
		if t.kind == oDate {
			tv = timeVal{kind: tvAbs, t: t.date}
		}
		since = &tv
	}
	if err := k.checkActivity(u, name, args, ids); err != nil {
		return nil, err
	}
	k.scenarios[ids[0]] = true
	step := ""
	if len(ids) > 1 {
		step = ids[1]
	}
	if name == "completed" {
		return completed{scenario: ids[0], step: step, since: since}, nil
	}
	return answered{scenario: ids[0], key: step, since: since}, nil
}

// saved expands segment("name") into the saved segment's condition.
func (k *compilation) saved(u *unit, n ast.Node, args []ast.Node, depth int) (pred, error) {
	name, err := stringArg(u, n, "segment", args, `segment("adults")`)
	if err != nil {
		return nil, err
	}
	if verr := ValidateName(name); verr != nil {
		return nil, u.errorAt(args[0], "%v", verr)
	}
	if k.cfg.Library == nil {
		return nil, u.errorAt(n, "segment(%q): saved segments are not available here", name)
	}
	if slices.Contains(k.stack, name) || name == u.name && u.name != DefaultSource {
		cycle := append(slices.Clone(k.stack), name)
		return nil, u.errorAt(n, "saved segments refer to each other in a cycle: %s", strings.Join(cycle, " → "))
	}
	if len(k.stack) >= maxSavedDepth {
		return nil, u.errorAt(n, "saved segments nest more than %d deep", maxSavedDepth)
	}
	src, found, err := k.cfg.Library.SegmentExpression(k.ctx, name)
	if err != nil {
		return nil, fmt.Errorf("resolve segment %q: %w", name, err)
	}
	if !found {
		e := u.errorAt(n, "unknown saved segment %q (see chathub segment list)", name).(*Error)
		e.Err = ErrUnknownSegment
		return nil, e
	}
	k.refs[name] = true
	k.stack = append(k.stack, name)
	p, err := k.unit(&unit{name: name, src: src}, depth+1)
	k.stack = k.stack[:len(k.stack)-1]
	var inner *Error
	if errors.As(err, &inner) && inner.Source == name {
		e := u.errorAt(n, "in saved segment %q: %v", name, err).(*Error)
		e.Err = err
		return nil, e
	}
	return p, err
}
