package segment

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// sqlOps maps comparison operators to SQL.
var sqlOps = map[string]string{"==": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

// holds reports whether c (the sign of a comparison of a value with the
// operand) satisfies op.
func holds(c int, op string) bool {
	switch op {
	case "==":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// colCmp compares a column with a value: a string (text, enum; == only), an
// int64 (integers), a civil date (dates) or a timeVal (timestamps). An
// unknown value satisfies no comparison.
type colCmp struct {
	col *column
	op  string
	val any
}

func (p colCmp) sql(w *sqlWriter) {
	w.str("(")
	if p.col.nullable {
		w.str(p.col.sql, " IS NOT NULL AND ")
	}
	w.str(p.col.sql, " ", sqlOps[p.op], " ")
	writeColumnValue(w, p.val)
	w.str(")")
}

// writeColumnValue writes one column comparison operand.
func writeColumnValue(w *sqlWriter, v any) {
	switch x := v.(type) {
	case timeVal:
		w.arg(x.at(w.now))
	case time.Time: // a civil date; SQLite keeps dates as "2006-01-02" text
		if w.pg() {
			w.str("CAST(")
			w.arg(x.Format(time.DateOnly))
			w.str(" AS DATE)")
			return
		}
		w.arg(x.Format(time.DateOnly))
	default:
		w.arg(v)
	}
}

func (p colCmp) eval(e *env) bool {
	c, ok := compareColumn(p.col, e, p.val)
	return ok && holds(c, p.op)
}

// compareColumn compares the client's value of col with v; ok is false when
// the value is unknown.
func compareColumn(col *column, e *env, v any) (c int, ok bool) {
	switch col.kind {
	case kText, kEnum:
		s := col.text(e.c)
		return strings.Compare(s, v.(string)), s != ""
	case kInt:
		n := col.num(e.c)
		if n == nil {
			return 0, false
		}
		return cmp.Compare(int64(*n), v.(int64)), true
	case kDate:
		d := col.when(e.c)
		if d == nil {
			return 0, false
		}
		return civil(*d).Compare(v.(time.Time)), true
	case kTime:
		t := col.when(e.c)
		if t == nil {
			return 0, false
		}
		return t.Compare(v.(timeVal).at(e.now)), true
	}
	return 0, false
}

// civil is t's calendar date at midnight UTC.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// colUnknown holds when the client has no value for col ("" for text,
// NULL otherwise): field == nil.
type colUnknown struct{ col *column }

func (p colUnknown) sql(w *sqlWriter) {
	if p.col.kind == kText || p.col.kind == kEnum {
		w.str("(", p.col.sql, " = '')")
		return
	}
	w.str("(", p.col.sql, " IS NULL)")
}

func (p colUnknown) eval(e *env) bool {
	switch p.col.kind {
	case kText, kEnum:
		return p.col.text(e.c) == ""
	case kInt:
		return p.col.num(e.c) == nil
	case kDate, kTime:
		return p.col.when(e.c) == nil
	}
	return false
}

// colIn holds when a text, enum or integer column equals one of vals
// (strings or int64s; never empty).
type colIn struct {
	col  *column
	vals []any
}

func (p colIn) sql(w *sqlWriter) {
	w.str("(")
	if p.col.nullable {
		w.str(p.col.sql, " IS NOT NULL AND ")
	}
	w.str(p.col.sql, " IN (")
	for i, v := range p.vals {
		if i > 0 {
			w.str(", ")
		}
		w.arg(v)
	}
	w.str("))")
}

func (p colIn) eval(e *env) bool {
	return slices.ContainsFunc(p.vals, func(v any) bool {
		c, ok := compareColumn(p.col, e, v)
		return ok && c == 0
	})
}

// boolPred holds when a yes/no column (subscribed, blocked) is true.
type boolPred struct{ col *column }

func (p boolPred) sql(w *sqlWriter) { w.str("(", p.col.sql, ")") }

func (p boolPred) eval(e *env) bool { return p.col.flag(e.c) }

// textOp is contains, startsWith or endsWith on a text column, with a
// non-empty needle: exact and case-sensitive, false for an unknown value.
type textOp struct {
	col *column
	op  string
	s   string
}

func (p textOp) sql(w *sqlWriter) {
	c := p.col.sql
	switch {
	case p.op == "contains" && w.pg():
		w.str("(strpos(", c, ", ")
		w.arg(p.s)
		w.str(") > 0)")
	case p.op == "contains":
		w.str("(instr(", c, ", ")
		w.arg(p.s)
		w.str(") > 0)")
	case p.op == "startsWith" && w.pg():
		w.str("(starts_with(", c, ", ")
		w.arg(p.s)
		w.str("))")
	case p.op == "startsWith":
		w.str("(substr(", c, ", 1, length(")
		w.arg(p.s)
		w.str(")) = ")
		w.arg(p.s)
		w.str(")")
	case w.pg(): // endsWith
		w.str("(right(", c, ", char_length(CAST(")
		w.arg(p.s)
		w.str(" AS TEXT))) = ")
		w.arg(p.s)
		w.str(")")
	default:
		w.str("(substr(", c, ", -length(")
		w.arg(p.s)
		w.str(")) = ")
		w.arg(p.s)
		w.str(")")
	}
}

func (p textOp) eval(e *env) bool {
	v := p.col.text(e.c)
	switch p.op {
	case "contains":
		return strings.Contains(v, p.s)
	case "startsWith":
		return strings.HasPrefix(v, p.s)
	}
	return strings.HasSuffix(v, p.s)
}
