package segment

import (
	"github.com/expr-lang/expr/ast"
)

// in compiles x in tags, x in attributes.key, field in [list] and
// field in lo..hi.
func (k *compilation) in(u *unit, n *ast.BinaryNode) (pred, error) {
	l, err := k.operand(u, n.Left)
	if err != nil {
		return nil, err
	}
	r, err := k.operand(u, n.Right)
	if err != nil {
		return nil, err
	}
	switch r.kind {
	case oTags:
		s, err := inLeft(u, l, "tags", `"vip" in tags`)
		if err != nil {
			return nil, err
		}
		return hasTag{s}, nil
	case oAttr:
		s, err := inLeft(u, l, "attributes."+r.key, `"fitness" in attributes.`+r.key)
		if err != nil {
			return nil, err
		}
		return attrHas{key: r.key, s: s}, nil
	case oList:
		return inList(u, l, r)
	case oRange:
		return inRange(u, l, r)
	}
	return nil, u.errorAt(r.node, `in needs tags, a list attribute, [a list] or a range on the right, e.g. "vip" in tags, city in ["Москва", "Самара"], age in 25..40`)
}

// inLeft checks the left side of "x" in tags / attributes.key.
func inLeft(u *unit, l operand, what, example string) (string, error) {
	switch {
	case l.kind == oString && l.str != "":
		return l.str, nil
	case l.kind == oList:
		return "", u.errorAt(l.node, "test one value at a time: %s or ...", example)
	}
	return "", u.errorAt(l.node, "in %s needs a non-empty string on the left, e.g. %s", what, example)
}

// inList compiles field in [list] and attributes.key in [list].
func inList(u *unit, l operand, r operand) (pred, error) {
	if len(r.list) == 0 {
		if !l.subject() {
			return nil, u.errorAt(l.node, "in [...] needs a field on the left, e.g. city in [\"Москва\", \"Самара\"]")
		}
		return constPred{false}, nil
	}
	switch l.kind {
	case oField:
		return fieldInList(u, l.col, r)
	case oAttr:
		ps := make([]pred, 0, len(r.list))
		for _, v := range r.list {
			if v.kind == oString && v.str == "" {
				return nil, u.errorAt(v.node, "an empty string matches nothing; test for a missing value with == nil")
			}
			p, err := compareAttr(u, l.key, "==", v)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return flatten(false, ps...), nil
	case oTags:
		return nil, u.errorAt(l.node, `test tags one at a time: "a" in tags or "b" in tags`)
	}
	return nil, u.errorAt(l.node, "in [...] needs a field on the left, e.g. city in [\"Москва\", \"Самара\"]")
}

// fieldInList compiles a text, enum or integer column in [list].
func fieldInList(u *unit, col *column, r operand) (pred, error) {
	if col.kind != kText && col.kind != kEnum && col.kind != kInt {
		return nil, u.errorAt(r.node, "in [...] works with text, choice and whole-number fields; compare %s with <, <=, >, >=", col.name)
	}
	vals := make([]any, 0, len(r.list))
	for _, v := range r.list {
		if v.kind == oString && v.str == "" {
			return nil, u.errorAt(v.node, "an empty string matches nothing; test for a missing value with %s == nil", col.name)
		}
		val, err := fieldValue(u, col, v)
		if err != nil {
			return nil, err
		}
		vals = append(vals, val)
	}
	return colIn{col: col, vals: vals}, nil
}

// inRange compiles field in lo..hi (inclusive) for integers and attributes.
func inRange(u *unit, l operand, r operand) (pred, error) {
	switch {
	case l.kind == oField && l.col.kind == kInt:
		lo, err := intValue(u, l.col, operand{kind: oInt, node: r.node, num: r.num}, nil)
		if err != nil {
			return nil, err
		}
		hi, err := intValue(u, l.col, operand{kind: oInt, node: r.node, num: r.hi}, nil)
		if err != nil {
			return nil, err
		}
		return andPred{[]pred{colCmp{col: l.col, op: ">=", val: lo}, colCmp{col: l.col, op: "<=", val: hi}}}, nil
	case l.kind == oAttr:
		return andPred{[]pred{attrCmp{key: l.key, op: ">=", num: float64(r.num)}, attrCmp{key: l.key, op: "<=", num: float64(r.hi)}}}, nil
	}
	return nil, u.errorAt(l.node, "a range needs a whole-number field or an attribute on the left, e.g. age in 25..40")
}
