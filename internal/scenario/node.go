package scenario

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file holds the helpers that read yaml.Node values and report, with
// the node's position, what is wrong with them.

// pair is one key: value entry of a YAML mapping.
type pair struct {
	key, val *yaml.Node
}

// fieldSet is a mapping's entries by key.
type fieldSet map[string]pair

// get returns the (alias-resolved) value of key, or nil when absent.
func (f fieldSet) get(key string) *yaml.Node {
	if p, ok := f[key]; ok {
		return p.val
	}
	return nil
}

// keyNode returns the key node of key, or nil when absent.
func (f fieldSet) keyNode(key string) *yaml.Node {
	if p, ok := f[key]; ok {
		return p.key
	}
	return nil
}

// maxAliasDepth bounds alias and merge-key chains.
const maxAliasDepth = 16

// maxNodes bounds the size of a document with its aliases expanded, so a
// "billion laughs" file or a self-referencing anchor cannot stall loading.
const maxNodes = 200_000

// expandedSize counts the nodes of n with aliases expanded, stopping once the
// count passes limit.
func expandedSize(n *yaml.Node, limit int) int {
	count := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || count > limit {
			return
		}
		count++
		if n.Kind == yaml.AliasNode {
			walk(n.Alias)
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return count
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type for messages ("a list", "the number 5").
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unsupported value"
}

// errorf records a problem at n's position (1:1 when n is nil).
func (c *compiler) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = max(n.Line, 1), max(n.Column, 1)
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// pairs returns the entries of mapping n in file order, with merge keys
// (<<: *anchor) expanded, reporting non-scalar and repeated keys. noun names
// the keys in messages ("key", "step id").
func (c *compiler) pairs(n *yaml.Node, where, noun string) []pair {
	return c.pairsDepth(n, where, noun, 0)
}

func (c *compiler) pairsDepth(n *yaml.Node, where, noun string, depth int) []pair {
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, c.mergePairs(v, where, noun, depth+1)...)
			continue
		}
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || isNull(rk) {
			c.errorf(k, "%s %s must be a plain name, not %s", noun, where, describe(rk))
			continue
		}
		if first, dup := seen[rk.Value]; dup {
			c.errorf(k, "duplicate %s %q %s (first at line %d); remove or rename one of them", noun, rk.Value, where, first.Line)
			continue
		}
		seen[rk.Value] = k
		own = append(own, pair{key: rk, val: resolve(v)})
	}
	for _, p := range merged {
		if _, dup := seen[p.key.Value]; !dup {
			seen[p.key.Value] = p.key
			own = append(own, p)
		}
	}
	return own
}

// mergePairs expands the value of a merge key: a mapping or a list of them.
func (c *compiler) mergePairs(v *yaml.Node, where, noun string, depth int) []pair {
	v = resolve(v)
	if depth > maxAliasDepth {
		c.errorf(v, "merge keys (<<) %s nest too deeply; simplify the anchors", where)
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return c.pairsDepth(v, where, noun, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, c.mergePairs(item, where, noun, depth+1)...)
		}
		return out
	}
	c.errorf(v, "merge key (<<) %s must refer to a mapping (<<: *anchor), not %s", where, describe(v))
	return nil
}

// fields reads mapping n, reporting unknown keys with the closest known one.
// ignore, when given, accepts further keys without compiling them.
func (c *compiler) fields(n *yaml.Node, where string, known []string, ignore ...func(string) bool) fieldSet {
	f := fieldSet{}
	for _, p := range c.pairs(n, where, "key") {
		name := p.key.Value
		if len(ignore) > 0 && ignore[0](name) {
			continue
		}
		if !slices.Contains(known, name) {
			c.unknownKey(p.key, name, where, known)
			continue
		}
		f[name] = p
	}
	return f
}

func (c *compiler) unknownKey(k *yaml.Node, name, where string, known []string) {
	if hint := didYouMean(name, known); hint != "" {
		c.errorf(k, "unknown key %q %s%s", name, where, hint)
		return
	}
	extra := ""
	if where == topLevel {
		extra = " (or start it with x- to hold YAML anchors)"
	}
	c.errorf(k, "unknown key %q %s; allowed keys: %s%s", name, where, strings.Join(known, ", "), extra)
}

// isMapping reports whether n is a mapping, recording an error if not.
func (c *compiler) isMapping(n *yaml.Node, label string) bool {
	if n.Kind == yaml.MappingNode {
		return true
	}
	c.errorf(n, "%s must be a mapping of key: value lines, got %s", label, describe(n))
	return false
}

// text reads a scalar as a string (numbers and booleans as written).
func (c *compiler) text(n *yaml.Node, label string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		c.errorf(n, "%s must be a text, got %s", label, describe(n))
		return "", false
	}
	return n.Value, true
}

// nonEmpty reads a scalar as a string that is not blank.
func (c *compiler) nonEmpty(n *yaml.Node, label string) (string, bool) {
	s, ok := c.text(n, label)
	if ok && strings.TrimSpace(s) == "" {
		c.errorf(n, "%s is empty; write a text or remove the key", label)
		return "", false
	}
	return s, ok
}

// boolean reads true or false.
func (c *compiler) boolean(n *yaml.Node, label string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return v, true
		}
	}
	c.errorf(n, "%s must be true or false, got %s", label, describe(n))
	return false, false
}

// number reads an integer or a decimal number.
func (c *compiler) number(n *yaml.Node, label string) (float64, bool) {
	var v float64
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") && n.Decode(&v) == nil &&
		!math.IsNaN(v) && !math.IsInf(v, 0) {
		return v, true
	}
	c.errorf(n, "%s must be a number, got %s", label, describe(n))
	return 0, false
}

// count reads a whole number that is not negative.
func (c *compiler) count(n *yaml.Node, label string) (int, bool) {
	var v int
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && n.Decode(&v) == nil && v >= 0 {
		return v, true
	}
	c.errorf(n, "%s must be a whole number, 0 or more, got %s", label, describe(n))
	return 0, false
}

// strList reads a single text or a list of texts.
func (c *compiler) strList(n *yaml.Node, label string) ([]*yaml.Node, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []*yaml.Node{n}, true
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, "%s must be a text or a list of texts, got %s", label, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			c.errorf(item, "%s must list texts, got %s", label, describe(item))
			ok = false
			continue
		}
		out = append(out, item)
	}
	return out, ok
}

// label names key in a context for messages: `"min" in validate: of step "age"`.
func label(key, where string) string {
	return fmt.Sprintf("%q %s", key, where)
}
