package scenario

import (
	"fmt"
	"strings"
)

// checkGraph runs the checks that need every step: references, reachability
// and loops of steps that ask nothing.
func (c *compiler) checkGraph() {
	c.checkRefs()
	c.checkReachable()
	c.checkLoops()
}

// checkRefs reports references to steps that do not exist.
func (c *compiler) checkRefs() {
	for _, r := range c.refs {
		if _, ok := c.g.Steps[r.target]; ok {
			continue
		}
		if hint := didYouMean(r.target, c.g.Order); hint != "" {
			c.errorf(r.node, "unknown step %q %s%s", r.target, r.where, hint)
			continue
		}
		c.errorf(r.node, "unknown step %q %s; add a step with that id under steps: or point to an existing one", r.target, r.where)
	}
}

// successors lists the existing steps s may lead to.
func (c *compiler) successors(s *Step) []string {
	var out []string
	add := func(id string) {
		if _, ok := c.g.Steps[id]; ok {
			out = append(out, id)
		}
	}
	for _, br := range s.Next {
		add(br.Goto)
	}
	for _, o := range s.Options {
		add(o.Next)
	}
	return out
}

// checkReachable reports steps that no path from the start reaches.
func (c *compiler) checkReachable() {
	start, ok := c.g.Steps[c.g.Start]
	if !ok {
		return
	}
	seen := map[string]bool{start.ID: true}
	queue := []*Step{start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, id := range c.successors(s) {
			if !seen[id] {
				seen[id] = true
				queue = append(queue, c.g.Steps[id])
			}
		}
	}
	for _, id := range c.g.Order {
		if !seen[id] {
			s := c.g.Steps[id]
			c.errs = append(c.errs, &Error{File: c.file, Line: s.Pos.Line, Col: s.Pos.Col,
				Msg: fmt.Sprintf("step %q is never reached from the start step %q; lead to it with next: from another step, or remove it", id, c.g.Start)})
		}
	}
}

// silent reports whether a step moves on at once: it asks nothing and does
// not end the conversation.
func silent(s *Step) bool { return s.Input == InputNone && !s.End }

// checkLoops reports cycles of steps that ask nothing, which would send
// messages forever (Tarjan's strongly connected components).
func (c *compiler) checkLoops() {
	t := &tarjan{c: c, index: map[string]int{}, low: map[string]int{}, on: map[string]bool{}}
	for _, id := range c.g.Order {
		if _, done := t.index[id]; !done && silent(c.g.Steps[id]) {
			t.visit(id)
		}
	}
}

type tarjan struct {
	c     *compiler
	next  int
	index map[string]int
	low   map[string]int
	on    map[string]bool
	stack []string
}

func (t *tarjan) visit(id string) {
	t.index[id], t.low[id] = t.next, t.next
	t.next++
	t.stack = append(t.stack, id)
	t.on[id] = true
	for _, w := range t.edges(id) {
		if _, seen := t.index[w]; !seen {
			t.visit(w)
			t.low[id] = min(t.low[id], t.low[w])
		} else if t.on[w] {
			t.low[id] = min(t.low[id], t.index[w])
		}
	}
	if t.low[id] != t.index[id] {
		return
	}
	var comp []string
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.on[w] = false
		comp = append(comp, w)
		if w == id {
			break
		}
	}
	t.report(comp)
}

// edges are the silent steps a silent step leads to.
func (t *tarjan) edges(id string) []string {
	var out []string
	for _, w := range t.c.successors(t.c.g.Steps[id]) {
		if silent(t.c.g.Steps[w]) {
			out = append(out, w)
		}
	}
	return out
}

// report records a loop found as a component, at its first step in file order.
func (t *tarjan) report(comp []string) {
	first := t.c.firstInOrder(comp)
	s := t.c.g.Steps[first]
	if len(comp) == 1 {
		for _, w := range t.edges(first) {
			if w == first {
				t.c.errs = append(t.c.errs, &Error{File: t.c.file, Line: s.Pos.Line, Col: s.Pos.Col,
					Msg: fmt.Sprintf("step %q asks nothing and leads back to itself, so the bot would send messages forever; add an input or end: true, or lead it elsewhere", first)})
				return
			}
		}
		return
	}
	in := map[string]bool{}
	for _, w := range comp {
		in[w] = true
	}
	var names []string
	for _, id := range t.c.g.Order {
		if in[id] {
			names = append(names, fmt.Sprintf("%q", id))
		}
	}
	t.c.errs = append(t.c.errs, &Error{File: t.c.file, Line: s.Pos.Line, Col: s.Pos.Col,
		Msg: fmt.Sprintf("steps %s ask nothing and lead to each other in a loop, so the bot would send messages forever; give one of them an input or end: true", strings.Join(names, ", "))})
}

// firstInOrder returns the id of ids that comes first in the file.
func (c *compiler) firstInOrder(ids []string) string {
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	for _, id := range c.g.Order {
		if set[id] {
			return id
		}
	}
	return ids[0]
}
