package segment

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// maxList caps the elements of a [list] literal.
const maxList = 1000

// opKind is what an operand is.
type opKind int

const (
	oField  opKind = iota // a column
	oTags                 // tags
	oAttr                 // attributes.<key>
	oAttrs                // attributes without a key
	oString               // "text"
	oInt                  // 25
	oFloat                // 2.5
	oBool                 // true, false
	oNil                  // nil
	oList                 // ["a", "b"]
	oRange                // 18..25
	oTime                 // now(), ago("30d"), date("2026-01-01T09:00:00Z")
	oDate                 // date("2026-01-01"): a date, or midnight UTC as a timestamp
)

// operand is a resolved operand of a comparison.
type operand struct {
	kind opKind
	node ast.Node
	col  *column
	key  string
	str  string
	num  int64   // oInt; oRange low end
	hi   int64   // oRange high end
	f    float64 // oInt and oFloat
	b    bool
	list []operand
	tv   timeVal
	date time.Time
}

// subject reports whether o is something of the client (a field, tags,
// an attribute) rather than a value.
func (o operand) subject() bool { return o.kind <= oAttrs }

// describe names o for error messages.
func (o operand) describe() string {
	switch o.kind {
	case oField:
		return fmt.Sprintf("the %s field %s", o.col.kind, o.col.name)
	case oTags:
		return "tags"
	case oAttr:
		return "attributes." + o.key
	case oAttrs:
		return "attributes"
	case oString:
		return fmt.Sprintf("the string %q", o.str)
	case oInt, oFloat:
		return "the number " + formatNumber(o.f)
	case oBool:
		return fmt.Sprintf("%t", o.b)
	case oNil:
		return "nil"
	case oList:
		return "a list"
	case oRange:
		return "a range"
	case oTime:
		return "a timestamp"
	}
	return "a date"
}

func formatNumber(f float64) string { return fmt.Sprintf("%g", f) }

// functionNames are the functions expressions may call.
var functionNames = []string{"ago", "now", "date", "completed", "answered", "stuck", "dropped", "segment"}

// operand resolves n as a field or a value.
func (k *compilation) operand(u *unit, n ast.Node) (operand, error) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return k.identifier(u, n)
	case *ast.MemberNode:
		return k.member(u, n)
	case *ast.ChainNode:
		return k.operand(u, n.Node)
	case *ast.StringNode:
		if err := checkString(u, n, n.Value); err != nil {
			return operand{}, err
		}
		return operand{kind: oString, node: n, str: n.Value}, nil
	case *ast.IntegerNode:
		return operand{kind: oInt, node: n, num: int64(n.Value), f: float64(n.Value)}, nil
	case *ast.FloatNode:
		if math.IsInf(n.Value, 0) || math.IsNaN(n.Value) {
			return operand{}, u.errorAt(n, "number out of range")
		}
		return operand{kind: oFloat, node: n, f: n.Value}, nil
	case *ast.BoolNode:
		return operand{kind: oBool, node: n, b: n.Value}, nil
	case *ast.NilNode:
		return operand{kind: oNil, node: n}, nil
	case *ast.UnaryNode:
		return k.signed(u, n)
	case *ast.ArrayNode:
		return k.list(u, n)
	case *ast.BinaryNode:
		if n.Operator == ".." {
			return k.rangeOf(u, n)
		}
	case *ast.BuiltinNode:
		return k.timeFunc(u, n, n.Name, n.Arguments)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			return k.timeFunc(u, n, id.Value, n.Arguments)
		}
	}
	return operand{}, u.errorAt(n, "expected a field or a value here, e.g. age, attributes.csat, \"Москва\", 25 or ago(\"30d\")")
}

// checkString rejects text no database keeps as given.
func checkString(u *unit, n ast.Node, s string) error {
	if strings.ContainsRune(s, 0) {
		return u.errorAt(n, "a string must not contain the NUL character")
	}
	return nil
}

// identifier resolves a field name.
func (k *compilation) identifier(u *unit, n *ast.IdentifierNode) (operand, error) {
	switch name := n.Value; {
	case catalogue[name] != nil:
		return operand{kind: oField, node: n, col: catalogue[name]}, nil
	case name == nameTags:
		return operand{kind: oTags, node: n}, nil
	case name == nameAttributes:
		return operand{kind: oAttrs, node: n}, nil
	case name == "now" || name == "ago" || name == "date":
		return operand{}, u.errorAt(n, "%s is a function; call it: %s", name, map[string]string{
			"now": "now()", "ago": `ago("30d")`, "date": `date("2026-01-01")`}[name])
	default:
		return operand{}, unknownField(u, n, name)
	}
}

// unknownField reports a name that is not in the catalogue.
func unknownField(u *unit, n ast.Node, name string) error {
	if hint := didYouMean(name, FieldNames()); hint != "" {
		return u.errorAt(n, "unknown field %q%s", name, hint)
	}
	if attrKeyRe.MatchString(name) {
		return u.errorAt(n, "unknown field %q; for a value scenarios save, write attributes.%s (fields: %s)",
			name, name, strings.Join(FieldNames(), ", "))
	}
	return u.errorAt(n, "unknown field %q (fields: %s)", name, strings.Join(FieldNames(), ", "))
}

// member resolves attributes.<key> and attributes["key"].
func (k *compilation) member(u *unit, n *ast.MemberNode) (operand, error) {
	base, ok := n.Node.(*ast.IdentifierNode)
	if !ok {
		if _, nested := n.Node.(*ast.MemberNode); nested {
			return operand{}, u.errorAt(n.Property, "attributes have one level: write attributes.<key>")
		}
		return operand{}, u.errorAt(n, "expected a field or a value here")
	}
	if base.Value != nameAttributes {
		if catalogue[base.Value] != nil || base.Value == nameTags {
			return operand{}, u.errorAt(n.Property, "%s has no parts; only attributes.<key> does", base.Value)
		}
		return operand{}, unknownField(u, base, base.Value)
	}
	key, ok := n.Property.(*ast.StringNode)
	if !ok || n.Method {
		return operand{}, u.errorAt(n.Property, "name an attribute: attributes.<key> or attributes[\"key\"]")
	}
	if !attrKeyRe.MatchString(key.Value) {
		return operand{}, u.errorAt(n.Property, "attribute %q: keys are latin letters, digits, _ and -, as in scenario save: targets", key.Value)
	}
	return operand{kind: oAttr, node: n, key: key.Value}, nil
}

// signed resolves -25 and +2.5.
func (k *compilation) signed(u *unit, n *ast.UnaryNode) (operand, error) {
	if n.Operator == "-" || n.Operator == "+" {
		o, err := k.operand(u, n.Node)
		if err == nil && (o.kind == oInt || o.kind == oFloat) {
			if n.Operator == "-" {
				o.num, o.f = -o.num, -o.f
			}
			o.node = n
			return o, nil
		}
	}
	return operand{}, u.errorAt(n, "expected a field or a value here, e.g. age or 25")
}

// list resolves a [list] of literal strings, numbers or booleans.
func (k *compilation) list(u *unit, n *ast.ArrayNode) (operand, error) {
	if len(n.Nodes) > maxList {
		return operand{}, u.errorAt(n, "a list may hold at most %d values", maxList)
	}
	o := operand{kind: oList, node: n}
	for _, e := range n.Nodes {
		v, err := k.operand(u, e)
		if err != nil {
			return operand{}, err
		}
		switch v.kind {
		case oString, oInt, oFloat, oBool:
		case oNil:
			return operand{}, u.errorAt(e, "nil in a list matches nothing; test for a missing value with == nil")
		default:
			return operand{}, u.errorAt(e, "a list holds strings, numbers or true/false, not %s", v.describe())
		}
		o.list = append(o.list, v)
	}
	return o, nil
}

// rangeOf resolves lo..hi of whole numbers.
func (k *compilation) rangeOf(u *unit, n *ast.BinaryNode) (operand, error) {
	lo, err := k.operand(u, n.Left)
	if err != nil {
		return operand{}, err
	}
	hi, err := k.operand(u, n.Right)
	if err != nil {
		return operand{}, err
	}
	if lo.kind != oInt || hi.kind != oInt {
		return operand{}, u.errorAt(n, "a range is two whole numbers, e.g. age in 25..40")
	}
	if lo.num > hi.num {
		return operand{}, u.errorAt(n, "empty range %d..%d: the first number must not exceed the second", lo.num, hi.num)
	}
	return operand{kind: oRange, node: n, num: lo.num, hi: hi.num}, nil
}

// timeFunc resolves now(), ago("30d") and date("2026-01-01").
func (k *compilation) timeFunc(u *unit, n ast.Node, name string, args []ast.Node) (operand, error) {
	switch name {
	case "now":
		if len(args) != 0 {
			return operand{}, u.errorAt(n, "now() takes no arguments")
		}
		return operand{kind: oTime, node: n, tv: timeVal{kind: tvNow}}, nil
	case "ago":
		s, err := stringArg(u, n, name, args, `ago("30d")`)
		if err != nil {
			return operand{}, err
		}
		d, perr := ParseDuration(s)
		if perr != nil {
			return operand{}, u.errorAt(args[0], "ago(%q): %v", s, perr)
		}
		return operand{kind: oTime, node: n, tv: timeVal{kind: tvAgo, d: d}}, nil
	case "date":
		s, err := stringArg(u, n, name, args, `date("2026-01-31")`)
		if err != nil {
			return operand{}, err
		}
		t, dateOnly, perr := parseDate(s)
		if perr != nil {
			return operand{}, u.errorAt(args[0], "date(%q): %v", s, perr)
		}
		if dateOnly {
			return operand{kind: oDate, node: n, date: t}, nil
		}
		return operand{kind: oTime, node: n, tv: timeVal{kind: tvAbs, t: t}}, nil
	case "completed", "answered", "stuck", "dropped", "segment":
		return operand{}, u.errorAt(n, "%s(...) is a condition; use it on its own, e.g. %s(...) and subscribed", name, name)
	}
	return operand{}, unknownFunction(u, n, name)
}

// unknownFunction reports a call of a function the language lacks.
func unknownFunction(u *unit, n ast.Node, name string) error {
	hint := didYouMean(name, functionNames)
	if hint == "" {
		hint = " (functions: " + strings.Join(functionNames, ", ") + ")"
	}
	return u.errorAt(n, "unknown function %q%s", name, hint)
}

// stringArg returns the single string-literal argument of a call.
func stringArg(u *unit, n ast.Node, name string, args []ast.Node, example string) (string, error) {
	if len(args) != 1 {
		return "", u.errorAt(n, "%s takes one string, e.g. %s", name, example)
	}
	s, ok := args[0].(*ast.StringNode)
	if !ok {
		return "", u.errorAt(args[0], "%s takes a string literal, e.g. %s", name, example)
	}
	return s.Value, checkString(u, s, s.Value)
}
