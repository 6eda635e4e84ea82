package segment

import (
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// pred is a compiled condition. Both renderings of a pred follow two-valued
// logic: sql never yields NULL (every atom guards its unknowns), so NOT and
// the connectives mean exactly what eval computes.
type pred interface {
	// sql writes the condition as one parenthesised SQL expression.
	sql(w *sqlWriter)
	// eval computes the condition for one client.
	eval(e *env) bool
}

// env is the input of an in-memory evaluation.
type env struct {
	c   *crm.Client
	act *Activity
	now time.Time
}

// andPred holds when every part holds.
type andPred struct{ ps []pred }

func (p andPred) sql(w *sqlWriter) { joinSQL(w, p.ps, " AND ") }

func (p andPred) eval(e *env) bool {
	for _, q := range p.ps {
		if !q.eval(e) {
			return false
		}
	}
	return true
}

// orPred holds when some part holds.
type orPred struct{ ps []pred }

func (p orPred) sql(w *sqlWriter) { joinSQL(w, p.ps, " OR ") }

func (p orPred) eval(e *env) bool {
	for _, q := range p.ps {
		if q.eval(e) {
			return true
		}
	}
	return false
}

// maxFlatTerms bounds the terms of one flat AND/OR chain in SQL.
const maxFlatTerms = 64

// joinSQL writes ps joined by op. SQLite parses a chain of one operator
// one tree level per term and refuses more than 1000 levels, so a longer
// list (a chain of saved segments of hundreds of terms each) is split in
// balanced halves: the same condition, as AND and OR are associative and
// no part is ever NULL, at a depth that grows with the log of its length.
func joinSQL(w *sqlWriter, ps []pred, op string) {
	if len(ps) > maxFlatTerms {
		mid := len(ps) / 2
		w.str("(")
		joinSQL(w, ps[:mid], op)
		w.str(op)
		joinSQL(w, ps[mid:], op)
		w.str(")")
		return
	}
	w.str("(")
	for i, q := range ps {
		if i > 0 {
			w.str(op)
		}
		q.sql(w)
	}
	w.str(")")
}

// notPred negates its part.
type notPred struct{ p pred }

func (p notPred) sql(w *sqlWriter) {
	w.str("(NOT ")
	p.p.sql(w)
	w.str(")")
}

func (p notPred) eval(e *env) bool { return !p.p.eval(e) }

// constPred is true or false for everyone.
type constPred struct{ v bool }

func (p constPred) sql(w *sqlWriter) {
	if p.v {
		w.str("(1 = 1)")
	} else {
		w.str("(1 = 0)")
	}
}

func (p constPred) eval(*env) bool { return p.v }

// negate returns not p, removing a double negation.
func negate(p pred) pred {
	if n, ok := p.(notPred); ok {
		return n.p
	}
	return notPred{p}
}

// flatten builds an and/or of ps, merging nested parts of the same kind.
func flatten(and bool, ps ...pred) pred {
	var out []pred
	for _, p := range ps {
		switch q := p.(type) {
		case andPred:
			if and {
				out = append(out, q.ps...)
				continue
			}
		case orPred:
			if !and {
				out = append(out, q.ps...)
				continue
			}
		}
		out = append(out, p)
	}
	if len(out) == 1 {
		return out[0]
	}
	if and {
		return andPred{out}
	}
	return orPred{out}
}
