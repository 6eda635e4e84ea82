package segment

import (
	"github.com/expr-lang/expr/ast"
)

// flipped mirrors a comparison for swapped operands (25 <= age → age >= 25).
var flipped = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// cond compiles n as a condition at nesting depth.
func (k *compilation) cond(u *unit, n ast.Node, depth int) (pred, error) {
	if depth > k.cfg.MaxDepth {
		return nil, u.errorAt(n, "expression is nested too deeply (more than %d levels); simplify it or split it into saved segments", k.cfg.MaxDepth)
	}
	switch n := n.(type) {
	case *ast.BoolNode:
		return constPred{n.Value}, nil
	case *ast.UnaryNode:
		if n.Operator == "not" || n.Operator == "!" {
			p, err := k.cond(u, n.Node, depth+1)
			if err != nil {
				return nil, err
			}
			return negate(p), nil
		}
	case *ast.BinaryNode:
		return k.binary(u, n, depth)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			return k.call(u, n, id.Value, n.Arguments, depth)
		}
	case *ast.BuiltinNode:
		return k.call(u, n, n.Name, n.Arguments, depth)
	case *ast.ConditionalNode:
		return nil, u.errorAt(n.Cond, "?: and if/else are not supported; combine conditions with and, or, not")
	case *ast.VariableDeclaratorNode:
		return nil, u.errorAt(n, "let is not supported; write the condition itself")
	case *ast.IdentifierNode, *ast.MemberNode, *ast.ChainNode:
		return k.bare(u, n)
	}
	return nil, u.errorAt(n, "expected a condition, e.g. subscribed, age >= 25 or \"vip\" in tags")
}

// bare compiles a field used as a condition: a yes/no field, or an
// attribute that must be true.
func (k *compilation) bare(u *unit, n ast.Node) (pred, error) {
	o, err := k.operand(u, n)
	if err != nil {
		return nil, err
	}
	switch {
	case o.kind == oField && o.col.kind == kBool:
		return boolPred{o.col}, nil
	case o.kind == oAttr:
		return attrEq{key: o.key, val: true}, nil
	case o.kind == oTags:
		return nil, u.errorAt(n, `tags is a set; test one with "vip" in tags`)
	case o.kind == oField:
		return nil, u.errorAt(n, "%s is a %s field, not a condition; compare it, e.g. %s", o.col.name, o.col.kind, example(o.col))
	}
	return nil, u.errorAt(n, "expected a condition, e.g. subscribed, age >= 25 or \"vip\" in tags")
}

// example is a comparison that fits col, for hints.
func example(col *column) string {
	switch col.kind {
	case kEnum:
		return col.name + ` == "` + col.values[0] + `"`
	case kInt:
		return col.name + " >= 25"
	case kDate:
		return col.name + ` < date("2000-01-01")`
	case kTime:
		return col.name + ` > ago("30d")`
	case kBool:
		return col.name
	}
	return col.name + ` == "Москва"`
}

// binary compiles and/or, comparisons, in and the text operators.
func (k *compilation) binary(u *unit, n *ast.BinaryNode, depth int) (pred, error) {
	switch n.Operator {
	case "and", "&&", "or", "||":
		and := isAnd(n.Operator)
		terms := chainTerms(n, and)
		ps := make([]pred, 0, len(terms))
		for _, t := range terms {
			p, err := k.cond(u, t, depth+1)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return flatten(and, ps...), nil
	case "==", "!=", "<", "<=", ">", ">=":
		return k.compare(u, n)
	case "in":
		return k.in(u, n)
	case "contains", "startsWith", "endsWith":
		return k.textOp(u, n)
	case "matches":
		return nil, u.errorAt(n, "matches is not supported: PostgreSQL and SQLite disagree on regular expressions; use contains, startsWith or endsWith")
	}
	return nil, u.errorAt(n, "operator %s is not supported in segments (use ==, !=, <, <=, >, >=, in, contains, startsWith, endsWith, and, or, not)", n.Operator)
}

// compare compiles a comparison of a field with a value.
func (k *compilation) compare(u *unit, n *ast.BinaryNode) (pred, error) {
	l, err := k.operand(u, n.Left)
	if err != nil {
		return nil, err
	}
	r, err := k.operand(u, n.Right)
	if err != nil {
		return nil, err
	}
	op := n.Operator
	if !l.subject() && r.subject() {
		l, r, op = r, l, flipped[op]
	}
	switch {
	case !l.subject():
		return nil, u.errorAt(n, "compare a field with a value, e.g. age >= 25; here neither side is a field")
	case r.subject():
		return nil, u.errorAt(r.node, "compare %s with a value, not with %s", l.describe(), r.describe())
	}
	var p pred
	switch l.kind {
	case oField:
		p, err = compareField(u, l.col, eqOp(op), r)
	case oAttr:
		p, err = compareAttr(u, l.key, eqOp(op), r)
	case oTags:
		return nil, u.errorAt(n, `tags is a set; test one with "vip" in tags (or not ("vip" in tags))`)
	default:
		return nil, u.errorAt(l.node, "name an attribute: attributes.<key>")
	}
	if err != nil {
		return nil, err
	}
	if op == "!=" {
		return negate(p), nil
	}
	return p, nil
}

// eqOp maps != onto ==: a != b is exactly not (a == b).
func eqOp(op string) string {
	if op == "!=" {
		return "=="
	}
	return op
}

// textOp compiles contains, startsWith and endsWith on a text field.
func (k *compilation) textOp(u *unit, n *ast.BinaryNode) (pred, error) {
	l, err := k.operand(u, n.Left)
	if err != nil {
		return nil, err
	}
	r, err := k.operand(u, n.Right)
	if err != nil {
		return nil, err
	}
	if l.kind != oField || l.col.kind != kText {
		return nil, u.errorAt(l.node, "%s needs a text field on the left, e.g. occupation %s \"бух\"", n.Operator, n.Operator)
	}
	if r.kind != oString || r.str == "" {
		return nil, u.errorAt(r.node, "%s needs a non-empty string on the right", n.Operator)
	}
	return textOp{col: l.col, op: n.Operator, s: r.str}, nil
}

func isAnd(op string) bool { return op == "and" || op == "&&" }

func isOr(op string) bool { return op == "or" || op == "||" }

// chainTerms returns, left to right, the terms of a chain of one
// associative operator (a or b or c, also with parentheses: (a or b) or c),
// so that a long chain is one level of nesting rather than one per term.
// It walks without recursion: the parser nests a chain one level per term.
func chainTerms(n *ast.BinaryNode, and bool) []ast.Node {
	var out []ast.Node
	stack := []ast.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b, ok := x.(*ast.BinaryNode); ok && (and && isAnd(b.Operator) || !and && isOr(b.Operator)) {
			stack = append(stack, b.Right, b.Left)
			continue
		}
		out = append(out, x)
	}
	return out
}
