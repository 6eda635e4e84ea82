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
		l, err := k.cond(u, n.Left, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := k.cond(u, n.Right, depth+1)
		if err != nil {
			return nil, err
		}
		return flatten(n.Operator == "and" || n.Operator == "&&", l, r), nil
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

// compareField type-checks col op v (op is never !=).
func compareField(u *unit, col *column, op string, v operand) (pred, error) {
	if v.kind == oNil || v.kind == oString && v.str == "" && (col.kind == kText || col.kind == kEnum) {
		if col.kind == kBool {
			return nil, u.errorAt(v.node, "%s is always true or false; compare it with true or false", col.name)
		}
		if op != "==" {
			return nil, u.errorAt(v.node, "only == and != compare with nil (a missing value)")
		}
		return colUnknown{col}, nil
	}
	val, err := fieldValue(u, col, v)
	if err != nil {
		return nil, err
	}
	if op != "==" && (col.kind == kText || col.kind == kEnum || col.kind == kBool) {
		return nil, u.errorAt(v.node, "%s is a %s field: compare it with == or !=, or use in [...]", col.name, col.kind)
	}
	if col.kind == kBool {
		if val.(bool) {
			return boolPred{col}, nil
		}
		return negate(boolPred{col}), nil
	}
	return colCmp{col: col, op: op, val: val}, nil
}

// fieldValue checks that v fits col and returns it in colCmp's form.
func fieldValue(u *unit, col *column, v operand) (any, error) {
	bad := func() error {
		return u.errorAt(v.node, "%s is a %s field; compare it with %s, not %s", col.name, col.kind, wants(col), v.describe())
	}
	switch col.kind {
	case kText:
		if v.kind != oString {
			return nil, bad()
		}
		return v.str, nil
	case kEnum:
		return enumValue(u, col, v, bad)
	case kInt:
		return intValue(u, col, v, bad)
	case kDate:
		if v.kind != oDate {
			if v.kind == oTime {
				return nil, u.errorAt(v.node, "%s is a date; compare it with date(\"YYYY-MM-DD\") (or use age)", col.name)
			}
			return nil, bad()
		}
		return v.date, nil
	case kTime:
		switch v.kind {
		case oTime:
			return v.tv, nil
		case oDate:
			return timeVal{kind: tvAbs, t: v.date}, nil
		}
		return nil, bad()
	case kBool:
		if v.kind != oBool {
			return nil, bad()
		}
		return v.b, nil
	}
	return nil, bad()
}

// wants describes the values col compares with.
func wants(col *column) string {
	switch col.kind {
	case kEnum:
		return "one of its values (" + joinQuoted(col.values) + ")"
	case kInt:
		return "a whole number"
	case kDate:
		return `date("YYYY-MM-DD")`
	case kTime:
		return `now(), ago("30d") or date("2026-01-01")`
	case kBool:
		return "true or false"
	}
	return "a string"
}

// enumValue checks an enum value, with a hint for a misspelt one.
func enumValue(u *unit, col *column, v operand, bad func() error) (any, error) {
	if v.kind != oString {
		return nil, bad()
	}
	for _, a := range col.values {
		if a == v.str {
			return v.str, nil
		}
	}
	if hint := didYouMean(v.str, col.values); hint != "" {
		return nil, u.errorAt(v.node, "%q is not a value of %s%s", v.str, col.name, hint)
	}
	return nil, u.errorAt(v.node, "%q is not a value of %s (values: %s)", v.str, col.name, joinQuoted(col.values))
}

// intValue checks a whole number for an integer column.
func intValue(u *unit, col *column, v operand, bad func() error) (any, error) {
	switch v.kind {
	case oInt:
		if v.num < -1<<31 || v.num > 1<<31-1 {
			return nil, u.errorAt(v.node, "%d is out of range for %s", v.num, col.name)
		}
		return v.num, nil
	case oFloat:
		return nil, u.errorAt(v.node, "%s holds whole numbers; compare it with one, not %s", col.name, formatNumber(v.f))
	}
	return nil, bad()
}

func joinQuoted(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ", "
		}
		out += `"` + v + `"`
	}
	return out
}
