package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/spelling"
)

// condRef is a compiled condition whose names are checked once every step
// (and so every saved variable) is known.
type condRef struct {
	node  *yaml.Node
	src   string
	where string // `in next: entry 1 of step "age"`
}

// checkConditionNames reports client fields and variables that conditions
// name but the data will not hold (client.frist_name, vars.gfit): expr
// compiles them against the card's map, and they would be false for ever.
func (c *compiler) checkConditionNames(scope NameScope) {
	cards := CardFields()
	for _, r := range c.conds {
		for _, e := range conditionNames(r.src, cards, scope) {
			line, col := c.textPos(r.node, r.src, e.Offset, e.Chain)
			c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: col,
				Msg: fmt.Sprintf("condition %q %s: %s", r.src, r.where, e.Msg)})
		}
	}
}

// conditionNames finds the unknown names of a condition: client.<field>
// against the card, vars.<name> against the scope, and a field of a
// client value (client.city.x). Offsets are bytes of src.
func conditionNames(src string, cards []string, scope NameScope) []NameError {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &condVisitor{src: src, cards: cards, scope: scope}
	ast.Walk(&tree.Node, v)
	return v.errs
}

type condVisitor struct {
	src   string
	cards []string
	scope NameScope
	errs  []NameError
}

// Visit implements ast.Visitor: it checks member chains on client and vars.
func (v *condVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	switch base := m.Node.(type) {
	case *ast.IdentifierNode:
		v.first(base.Value, prop)
	case *ast.MemberNode:
		inner, ok := base.Property.(*ast.StringNode)
		root, isIdent := base.Node.(*ast.IdentifierNode)
		if ok && isIdent && root.Value == "client" && inner.Value != "attributes" && slices.Contains(v.cards, inner.Value) {
			v.add(prop, "client."+inner.Value+"."+prop.Value,
				fmt.Sprintf("client.%s is a value and has no field %q; remove .%s", inner.Value, prop.Value, prop.Value))
		}
	}
}

// first checks client.<name> and vars.<name>.
func (v *condVisitor) first(root string, prop *ast.StringNode) {
	name := prop.Value
	switch {
	case root == "client" && name != "attributes" && !slices.Contains(v.cards, name):
		msg := fmt.Sprintf("unknown client field %q", name)
		if m := spelling.Closest(name, v.cards); m != "" {
			msg += fmt.Sprintf("; did you mean client.%s?", m)
		} else if slices.Contains(v.scope.Attributes, name) {
			msg += fmt.Sprintf("; answers saved to attributes are client.attributes.%s", name)
		}
		v.add(prop, "client."+name, msg)
	case root == "vars" && !slices.Contains(v.scope.Vars, name):
		msg := fmt.Sprintf("unknown variable vars.%s", name)
		if m := spelling.Closest(name, v.scope.Vars); m != "" {
			msg += fmt.Sprintf("; did you mean vars.%s?", m)
		} else {
			msg += "; define it under vars: or save an answer to vars." + name
		}
		v.add(prop, "vars."+name, msg)
	}
}

// add records an error at the property, found in the source as chain.
func (v *condVisitor) add(prop *ast.StringNode, chain, msg string) {
	off := runeOffsetToByte(v.src, prop.Location().From)
	if off >= 0 && off < len(v.src) && (v.src[off] == '"' || v.src[off] == '\'') {
		off++ // client["agee"]: the location is the quoted string's
	}
	if off < 0 || !strings.HasPrefix(v.src[off:], prop.Value) {
		off = -1
		if i := strings.Index(v.src, chain); i >= 0 {
			off = i + len(chain) - len(prop.Value)
		}
	}
	// The file position is found by the text written up to the name:
	// the dotted chain, or the name alone in client["name"].
	if start := off + len(prop.Value) - len(chain); off < 0 || start < 0 || !strings.HasPrefix(v.src[start:], chain) {
		chain = prop.Value
	}
	v.errs = append(v.errs, NameError{Offset: off, Chain: chain, Msg: msg})
}

// runeOffsetToByte converts a character offset of s into a byte offset;
// -1 when s is shorter.
func runeOffsetToByte(s string, n int) int {
	if n < 0 {
		return -1
	}
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	if i == n {
		return len(s)
	}
	return -1
}
