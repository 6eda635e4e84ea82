package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/file"
	"gopkg.in/yaml.v3"
)

// next compiles `next:`: a step id or a list of {if, goto} branches.
func (c *compiler) next(b *stepBuild) {
	n := b.f.get("next")
	if n == nil {
		return
	}
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		where := fmt.Sprintf("in next: of step %q", b.s.ID)
		if id := c.stepName(n, label("next", b.where), where); id != "" {
			b.s.Next = []Branch{{Goto: id}}
		}
	case n.Kind == yaml.SequenceNode:
		c.branches(b, n)
	default:
		c.errorf(n, "next: in step %q must be a step id or a list like [{if: \"answer < 18\", goto: minor}, {goto: city}], got %s",
			b.s.ID, describe(n))
	}
}

// branches compiles a `next:` list, which must end with an unconditional goto.
func (c *compiler) branches(b *stepBuild, n *yaml.Node) {
	id := b.s.ID
	if len(n.Content) == 0 {
		c.errorf(n, "next: in step %q is an empty list; write a step id or add {goto: <step id>}", id)
		return
	}
	always, lastHasIf := 0, false
	for i, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			c.errorf(item, "next: entry %d of step %q must be a mapping like {if: \"answer < 18\", goto: minor} or {goto: city}, got %s", i+1, id, describe(item))
			continue
		}
		if always > 0 {
			c.errorf(item, "next: entry %d of step %q is never used: entry %d has no if: and always matches; remove it or give entry %d an if:", i+1, id, always, always)
		}
		where := fmt.Sprintf("in next: entry %d of step %q", i+1, id)
		f := c.fields(item, where, branchKeys)
		lastHasIf = f.get("if") != nil
		br := c.branch(b, item, f, where, i+1)
		if br == nil {
			continue
		}
		if br.Cond == nil && always == 0 {
			always = i + 1
		}
		b.s.Next = append(b.s.Next, *br)
	}
	if lastHasIf {
		c.errorf(resolve(n.Content[len(n.Content)-1]), "the last entry of next: in step %q has an if:; end the list with an unconditional {goto: <step id>} so every answer has somewhere to go", id)
	}
}

// branch compiles one {if, goto} entry.
func (c *compiler) branch(b *stepBuild, item *yaml.Node, f fieldSet, where string, num int) *Branch {
	g := f.get("goto")
	if g == nil {
		c.errorf(item, "next: entry %d of step %q has no goto:; add goto: <step id>", num, b.s.ID)
		return nil
	}
	target := c.stepName(g, label("goto", where), where)
	cn := f.get("if")
	if cn == nil {
		return &Branch{Goto: target}
	}
	src, ok := c.nonEmpty(cn, label("if", where))
	if !ok {
		return nil
	}
	br, err := compileCond(src, b.s.Input, b.s.Multiple)
	if err != nil {
		c.errorf(cn, "bad condition %q %s: %s; write an expr-lang expression that is true or false, e.g. answer < 18",
			src, where, condMessage(err))
		return nil
	}
	br.Goto = target
	c.conds = append(c.conds, condRef{node: cn, src: src, where: where})
	return br
}

// compileCond calls CompileCondition, turning a panic of the expression
// compiler into an error.
func compileCond(src string, kind InputKind, multiple bool) (br *Branch, err error) {
	defer func() {
		if r := recover(); r != nil {
			br, err = nil, fmt.Errorf("the expression compiler failed: %v", r)
		}
	}()
	return CompileCondition(src, kind, multiple)
}

// condMessage renders an expr error on one line with its position.
func condMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fmt.Sprintf("%s (at %d:%d of the condition)", fe.Message, fe.Line, fe.Column+1)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// routing checks that every answer of the step leads somewhere.
func (c *compiler) routing(b *stepBuild) {
	s := b.s
	if s.End {
		c.endConflicts(b)
		return
	}
	if len(s.Next) > 0 || b.f.get("next") != nil || !b.endOK {
		return
	}
	if s.Input != InputChoice || s.Multiple || len(s.Options) == 0 {
		c.errorf(b.key, "step %q leads nowhere; add next: <step id> or end: true", s.ID)
		return
	}
	routed := 0
	for i, o := range s.Options {
		// A command option (cmd:manager) is handled by the engine and
		// never moves the conversation on.
		if b.optNext[i] != nil || strings.HasPrefix(o.Value, CommandValuePrefix) {
			routed++
			continue
		}
		c.errorf(b.optNodes[i], "%s %q of step %q has no next: and the step has none; add next: to it or to the step, or end: true to the step", b.optKind, o.Text, s.ID)
	}
	if routed == len(s.Options) && (s.FreeText || s.Skip) {
		c.errorf(b.key, "step %q routes only its buttons, but a typed or skipped answer (free_text/skip) has nowhere to go; add next: to the step", s.ID)
	}
}

// endConflicts reports next: on a step that ends the conversation.
func (c *compiler) endConflicts(b *stepBuild) {
	if n := b.f.get("next"); n != nil {
		c.errorf(b.f.keyNode("next"), "step %q has both end: true and next:; remove one of them", b.s.ID)
	}
	for i, n := range b.optNext {
		if n != nil {
			c.errorf(n, "next: of %s %q is never used because step %q has end: true; remove one of them", b.optKind, b.s.Options[i].Text, b.s.ID)
		}
	}
}
