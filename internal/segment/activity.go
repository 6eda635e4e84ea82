package segment

import (
	"slices"

	"github.com/chathub/chathub/internal/crm"
)

// Activity is the part of a client's history that answered(...) and
// completed(...) read. Only answers and completions of the scenarios a
// segment names matter (Segment.Scenarios), so a store may load just those.
type Activity struct {
	// Answers are accepted answers (Scenario, Step, Field and CreatedAt are read).
	Answers []crm.Answer
	// Completions are conversations that reached an end step.
	Completions []crm.Completion
	// Waiting are the unanswered step visits (stuck(...), dropped(...)).
	Waiting []Waiting
}

// hasTag holds when the client carries tag: "vip" in tags.
type hasTag struct{ tag string }

func (p hasTag) sql(w *sqlWriter) {
	w.str("(EXISTS (SELECT 1 FROM client_tags WHERE client_tags.client_id = clients.id AND client_tags.tag = ")
	w.arg(p.tag)
	w.str("))")
}

func (p hasTag) eval(e *env) bool { return slices.Contains(e.c.Tags, p.tag) }

// answered holds when the client gave an accepted answer in scenario: at
// any step, or (key set) at the step called key or saved to the field key
// (a core column, or attributes.<key>); since limits it to answers given at
// or after that time.
type answered struct {
	scenario string
	key      string
	since    *timeVal
}

func (p answered) sql(w *sqlWriter) {
	w.str("(EXISTS (SELECT 1 FROM answers WHERE answers.client_id = clients.id AND answers.scenario = ")
	w.arg(p.scenario)
	if p.key != "" {
		w.str(" AND (answers.step = ")
		w.arg(p.key)
		w.str(" OR answers.field = ")
		w.arg(p.key)
		w.str(" OR answers.field = ")
		w.arg(crm.AttributesPrefix + p.key)
		w.str(")")
	}
	if p.since != nil {
		w.str(" AND answers.created_at >= ")
		w.arg(p.since.at(w.now))
	}
	w.str("))")
}

func (p answered) eval(e *env) bool {
	return slices.ContainsFunc(e.act.Answers, func(a crm.Answer) bool {
		if a.Scenario != p.scenario {
			return false
		}
		if p.key != "" && a.Step != p.key && a.Field != p.key && a.Field != crm.AttributesPrefix+p.key {
			return false
		}
		return p.since == nil || !a.CreatedAt.Before(p.since.at(e.now))
	})
}

// completed holds when a conversation of scenario reached an end step (the
// end step called step, when set), at or after since when set.
type completed struct {
	scenario string
	step     string
	since    *timeVal
}

func (p completed) sql(w *sqlWriter) {
	w.str("(EXISTS (SELECT 1 FROM completions WHERE completions.client_id = clients.id AND completions.scenario = ")
	w.arg(p.scenario)
	if p.step != "" {
		w.str(" AND completions.step = ")
		w.arg(p.step)
	}
	if p.since != nil {
		w.str(" AND completions.created_at >= ")
		w.arg(p.since.at(w.now))
	}
	w.str("))")
}

func (p completed) eval(e *env) bool {
	return slices.ContainsFunc(e.act.Completions, func(c crm.Completion) bool {
		return c.Scenario == p.scenario && (p.step == "" || c.Step == p.step) &&
			(p.since == nil || !c.CreatedAt.Before(p.since.at(e.now)))
	})
}

// tagIDs is a hasTag rendered for counting (Segment.CountSQL on
// PostgreSQL): the ids of the tag's clients are read once from
// client_tags' tag index and the clients looked up by primary key. It
// means the same as hasTag (client_id is never NULL), but PostgreSQL
// searches the array linearly when it is a filter rather than the index
// condition, so it is used only where it drives the query: the first tag
// test of the condition's top-level AND.
type tagIDs struct{ hasTag }

func (p tagIDs) sql(w *sqlWriter) {
	w.str("(clients.id = ANY (ARRAY(SELECT client_tags.client_id FROM client_tags WHERE client_tags.tag = ")
	w.arg(p.tag)
	w.str(")))")
}

// driveByTag returns p with its first top-level tag test (p itself, or
// a part of p's AND) as a tagIDs; p as is when it has none.
func driveByTag(p pred) pred {
	switch q := p.(type) {
	case hasTag:
		return tagIDs{q}
	case andPred:
		for i, part := range q.ps {
			if t, ok := part.(hasTag); ok {
				ps := slices.Clone(q.ps)
				ps[i] = tagIDs{t}
				return andPred{ps}
			}
		}
	}
	return p
}
