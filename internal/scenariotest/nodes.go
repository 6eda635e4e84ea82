package scenariotest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/spelling"
)

// This file holds the helpers that read yaml.Node values and report, with
// the node's position, what is wrong with them.

// maxAliasDepth bounds alias chains, merge keys and spliced step lists.
const maxAliasDepth = 16

// maxNodes bounds a document with its aliases expanded, so a "billion
// laughs" file cannot stall parsing.
const maxNodes = 200_000

// pair is one key: value entry of a mapping.
type pair struct{ key, val *yaml.Node }

// fields are a mapping's entries by key.
type fields map[string]pair

// get returns key's value (aliases resolved), or nil when absent.
func (f fields) get(key string) *yaml.Node {
	if p, ok := f[key]; ok {
		return p.val
	}
	return nil
}

// reader collects the problems of one file.
type reader struct {
	file string
	errs scenario.ErrorList
}

// errorf records a problem at n (1:1 when n is nil).
func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	p := pos(n)
	r.errs = append(r.errs, &scenario.Error{File: r.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// pos is n's position (1:1 for nil).
func pos(n *yaml.Node) scenario.Pos {
	if n == nil {
		return scenario.Pos{Line: 1, Col: 1}
	}
	return scenario.Pos{Line: max(n.Line, 1), Col: max(n.Column, 1)}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// expandedSize counts n's nodes with aliases expanded, up to limit.
func expandedSize(n *yaml.Node, limit int) int {
	count := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || count > limit || depth > 10_000 {
			return
		}
		count++
		if n.Kind == yaml.AliasNode {
			walk(n.Alias, depth+1)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return count
}

func isNull(n *yaml.Node) bool { return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node for messages ("a list", `"5"`).
func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an unsupported value"
}

// mapping reads mapping n (merge keys expanded), reporting repeated and
// unknown keys with the closest known one; ignore accepts further keys.
func (r *reader) mapping(n *yaml.Node, label, where string, known []string, ignore func(string) bool) (fields, bool) {
	if n == nil || n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping of key: value lines, got %s", label, describe(n))
		return nil, false
	}
	f := fields{}
	seen := map[string]*yaml.Node{}
	for _, p := range r.pairs(n, where, 0) {
		name := p.key.Value
		if first, dup := seen[name]; dup {
			r.errorf(p.key, "duplicate key %q %s (first at line %d); remove one of them", name, where, first.Line)
			continue
		}
		seen[name] = p.key
		if ignore != nil && ignore(name) {
			continue
		}
		if !slices.Contains(known, name) {
			r.unknownKey(p.key, name, where, known)
			continue
		}
		f[name] = p
	}
	return f, true
}

// pairs lists the entries of n in file order, the mapping's own first and
// then those of its merge keys (<<: *anchor) that it does not set.
func (r *reader) pairs(n *yaml.Node, where string, depth int) []pair {
	var own, merged []pair
	ownKeys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, r.merge(v, where, depth+1)...)
			continue
		}
		rk := resolve(k)
		if rk == nil || rk.Kind != yaml.ScalarNode || isNull(rk) {
			r.errorf(k, "a key %s must be a plain name, not %s", where, describe(rk))
			continue
		}
		ownKeys[rk.Value] = true
		own = append(own, pair{key: rk, val: resolve(v)})
	}
	for _, p := range merged {
		if !ownKeys[p.key.Value] {
			ownKeys[p.key.Value] = true
			own = append(own, p)
		}
	}
	return own
}

// merge expands the value of a merge key: a mapping or a list of them.
func (r *reader) merge(v *yaml.Node, where string, depth int) []pair {
	v = resolve(v)
	if depth > maxAliasDepth {
		r.errorf(v, "merge keys (<<) %s nest too deeply; simplify the anchors", where)
		return nil
	}
	switch {
	case v != nil && v.Kind == yaml.MappingNode:
		return r.pairs(v, where, depth)
	case v != nil && v.Kind == yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, r.merge(item, where, depth+1)...)
		}
		return out
	}
	r.errorf(v, "a merge key (<<) %s must refer to a mapping (<<: *anchor), not %s", where, describe(v))
	return nil
}

func (r *reader) unknownKey(k *yaml.Node, name, where string, known []string) {
	if m := spelling.Closest(name, known); m != "" {
		r.errorf(k, "unknown key %q %s; did you mean %q?", name, where, m)
		return
	}
	r.errorf(k, "unknown key %q %s; allowed keys: %s", name, where, strings.Join(known, ", "))
}

// text reads a scalar string (numbers and booleans as written).
func (r *reader) text(n *yaml.Node, label string) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		r.errorf(n, "%s must be a text, got %s", label, describe(n))
		return "", false
	}
	return n.Value, true
}

// nonEmpty reads a scalar string that is not blank.
func (r *reader) nonEmpty(n *yaml.Node, label string) (string, bool) {
	s, ok := r.text(n, label)
	if ok && strings.TrimSpace(s) == "" {
		r.errorf(n, "%s must not be empty", label)
		return "", false
	}
	return s, ok
}

// boolean reads true or false.
func (r *reader) boolean(n *yaml.Node, label string) (bool, bool) {
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	r.errorf(n, "%s must be true or false, got %s", label, describe(n))
	return false, false
}

// texts reads one text or a list of them, each with its node.
func (r *reader) texts(n *yaml.Node, label string) ([]*yaml.Node, bool) {
	if n != nil && n.Kind == yaml.ScalarNode && !isNull(n) {
		return []*yaml.Node{n}, true
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s must be a text or a list of texts, got %s", label, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		item = resolve(item)
		if item == nil || item.Kind != yaml.ScalarNode || isNull(item) {
			r.errorf(item, "each entry of %s must be a text, got %s", label, describe(item))
			ok = false
			continue
		}
		out = append(out, item)
	}
	return out, ok
}
