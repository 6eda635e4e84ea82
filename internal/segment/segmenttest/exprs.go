package segmenttest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// RandomExpr returns a random well-typed segment expression of at most
// depth levels of and/or/not over the fields and values the generated
// clients use, so that most atoms select some clients and miss others.
func RandomExpr(r *rand.Rand, depth int) string {
	if depth <= 0 || r.IntN(3) == 0 {
		return randomAtom(r)
	}
	switch r.IntN(5) {
	case 0:
		return "not (" + RandomExpr(r, depth-1) + ")"
	case 1:
		return "!(" + RandomExpr(r, depth-1) + ")"
	case 2:
		return "(" + RandomExpr(r, depth-1) + " or " + RandomExpr(r, depth-1) + ")"
	case 3:
		return "(" + RandomExpr(r, depth-1) + " || " + RandomExpr(r, depth-1) + ")"
	}
	return RandomExpr(r, depth-1) + pick(r, []string{" and ", " && "}) + RandomExpr(r, depth-1)
}

// atoms generate one condition each.
var atoms = []func(r *rand.Rand) string{
	textAtom, enumAtom, intAtom, dateAtom, timeAtom, boolAtom, tagAtom, attrAtom, activityAtom, botAtom, visitAtom,
}

// RandomVisitExpr is a random stuck(...) or dropped(...) over the
// generated clients' step visits, with some of the funnel's filters
// (period, version, platform, source).
func RandomVisitExpr(r *rand.Rand) string { return visitAtom(r) }

func visitAtom(r *rand.Rand) string {
	fn := pick(r, []string{"stuck", "dropped"})
	args := quote(pick(r, Scenarios)) + ", " + quote(pick(r, Steps))
	var filters []string
	if r.IntN(3) == 0 {
		if r.IntN(2) == 0 {
			args += ", " + randomTime(r)
		} else {
			filters = append(filters, "since: "+randomTime(r))
		}
	}
	if r.IntN(3) == 0 {
		filters = append(filters, "version: "+quote(pick(r, Versions)))
	}
	if r.IntN(4) == 0 {
		filters = append(filters, "platform: "+quote(string(pick(r, Platforms))))
	}
	if r.IntN(4) == 0 {
		filters = append(filters, "source: "+quote(pick(r, Sources)))
	}
	if len(filters) > 0 {
		r.Shuffle(len(filters), func(i, j int) { filters[i], filters[j] = filters[j], filters[i] })
		args += ", {" + strings.Join(filters, ", ") + "}"
	}
	return fn + "(" + args + ")"
}

// botAtom selects by bot, the config file's bot name (nil for the bot of
// the environment variables).
func botAtom(r *rand.Rand) string {
	named := Bots[1:]
	switch r.IntN(5) {
	case 0:
		return "bot != " + quote(pick(r, named))
	case 1:
		return "bot in " + quoteAll(some(r, named))
	case 2:
		return "bot not in " + quoteAll(some(r, named))
	case 3:
		return pick(r, []string{`bot == nil`, `bot != nil`})
	}
	return "bot == " + quote(pick(r, named))
}

func randomAtom(r *rand.Rand) string { return pick(r, atoms)(r) }

func quote(s string) string { return strconv.Quote(s) }

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// some returns 1 to 3 distinct values of vs.
func some(r *rand.Rand, vs []string) []string {
	p := r.Perm(len(vs))
	out := make([]string, 0, 3)
	for _, i := range p[:1+r.IntN(min(3, len(vs)))] {
		out = append(out, vs[i])
	}
	return out
}

func textAtom(r *rand.Rand) string {
	field := pick(r, []string{"city", "occupation"})
	vals := Cities
	if field == "occupation" {
		vals = Occupation[:len(Occupation)-1]
	}
	v := pick(r, vals)
	runes := []rune(v)
	switch r.IntN(8) {
	case 0:
		return field + " != " + quote(v)
	case 1:
		return field + pick(r, []string{" == nil", " != nil", ` == ""`, ` != ""`})
	case 2:
		return field + " in " + quoteAll(some(r, vals))
	case 3:
		return field + " not in " + quoteAll(some(r, vals))
	case 4:
		return field + " contains " + quote(string(runes[1:2+r.IntN(len(runes)-2)]))
	case 5:
		return field + " startsWith " + quote(string(runes[:1+r.IntN(len(runes))]))
	case 6:
		return field + " endsWith " + quote(string(runes[r.IntN(len(runes)):]))
	}
	return quote(v) + " == " + field
}

func enumAtom(r *rand.Rand) string {
	field, vals := "gender", Genders
	switch r.IntN(4) {
	case 0:
		field, vals = "income_level", Incomes
	case 1:
		field, vals = "family_status", Families
	case 2:
		field, vals = "platform", []string{"telegram", "vk"}
	}
	switch r.IntN(5) {
	case 0:
		return field + " != " + quote(pick(r, vals))
	case 1:
		return field + pick(r, []string{" == nil", " != nil"})
	case 2:
		return field + " in " + quoteAll(some(r, vals))
	}
	return field + " == " + quote(pick(r, vals))
}

func intAtom(r *rand.Rand) string {
	field := pick(r, []string{"age", "age", "children_count"})
	n := 14 + r.IntN(60)
	if field == "children_count" {
		n = r.IntN(4)
	}
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("%s %s %d", field, pick(r, []string{"==", "!="}), n)
	case 1:
		return field + pick(r, []string{" == nil", " != nil"})
	case 2:
		return fmt.Sprintf("%s in [%d, %d, %d]", field, n, n+1, n+5)
	case 3:
		return fmt.Sprintf("%s in %d..%d", field, n, n+r.IntN(15))
	case 4:
		return fmt.Sprintf("%d %s %s", n, pick(r, []string{"<", "<=", ">", ">="}), field)
	}
	return fmt.Sprintf("%s %s %d", field, pick(r, []string{"<", "<=", ">", ">="}), n)
}

func dateAtom(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return "birth_date" + pick(r, []string{" == nil", " != nil"})
	}
	return fmt.Sprintf(`birth_date %s date("%d-%02d-%02d")`, pick(r, []string{"<", "<=", ">", ">=", "==", "!="}),
		1950+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
}

func timeAtom(r *rand.Rand) string {
	field := pick(r, []string{"last_seen_at", "last_seen_at", "created_at", "updated_at", "consent_at", "unsubscribed_at", "blocked_at", "handoff_requested_at"})
	if r.IntN(4) == 0 {
		return field + pick(r, []string{" == nil", " != nil"})
	}
	return field + " " + pick(r, []string{"<", "<=", ">", ">="}) + " " + randomTime(r)
}

// randomTime is a time operand within the generated history.
func randomTime(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return "now()"
	case 1:
		return fmt.Sprintf(`ago("%dh")`, r.IntN(90*24))
	case 2:
		return fmt.Sprintf(`ago("%dw%dd")`, r.IntN(12), r.IntN(7))
	case 3:
		return fmt.Sprintf(`date("%s")`, Base.AddDate(0, 0, -r.IntN(90)).Format("2006-01-02"))
	}
	return fmt.Sprintf(`ago("%dd")`, r.IntN(90))
}

func boolAtom(r *rand.Rand) string {
	return pick(r, []string{"subscribed", "blocked", "subscribed == true", "subscribed != true", "blocked == false", "not subscribed"})
}

func tagAtom(r *rand.Rand) string {
	t := quote(pick(r, Tags))
	return pick(r, []string{t + " in tags", "not (" + t + " in tags)", t + " not in tags"})
}

func attrAtom(r *rand.Rand) string {
	switch r.IntN(11) {
	case 0:
		return quote(pick(r, Interests)) + " in attributes.interests"
	case 1:
		return quote(pick(r, Interests)) + " not in attributes.interests"
	case 2:
		return "attributes.role " + pick(r, []string{"==", "!="}) + " " + quote(pick(r, Roles))
	case 3:
		return fmt.Sprintf("attributes.csat %s %d", pick(r, []string{"<", "<=", ">", ">=", "==", "!="}), 1+r.IntN(5))
	case 4:
		return fmt.Sprintf(`attributes.csat == "%d"`, 1+r.IntN(5))
	case 5:
		return fmt.Sprintf("attributes.nps %s %g", pick(r, []string{"<", "<=", ">", ">=", "==", "!="}), float64(r.IntN(21))/2)
	case 6:
		return pick(r, []string{"attributes.b2b", "attributes.b2b == false", "attributes.b2b != true", "not attributes.b2b"})
	case 7:
		key := pick(r, []string{"note", "interests", "csat", "nps", "role", "b2b", "missing"})
		return "attributes." + key + pick(r, []string{" == nil", " != nil", ` == ""`, ` != ""`})
	case 8:
		return fmt.Sprintf(`attributes.csat in [%d, "%d"]`, 1+r.IntN(5), 1+r.IntN(5))
	case 9:
		return fmt.Sprintf("attributes.nps in %d..%d", r.IntN(6), 5+r.IntN(6))
	}
	return `attributes["note"] == ` + quote(pick(r, []string{"fitness", "позвонить вечером"}))
}

func activityAtom(r *rand.Rand) string {
	sc := quote(pick(r, Scenarios))
	step := quote(pick(r, Steps))
	switch r.IntN(6) {
	case 0:
		return "completed(" + sc + ")"
	case 1:
		return "completed(" + sc + ", " + quote(pick(r, []string{"thanks", "declined"})) + ")"
	case 2:
		return "completed(" + sc + ", " + randomTime(r) + ")"
	case 3:
		return "answered(" + sc + ")"
	case 4:
		return "answered(" + sc + ", " + pick(r, []string{step, quote("attributes." + pick(r, Steps))}) + ")"
	}
	return "answered(" + sc + ", " + step + ", " + randomTime(r) + ")"
}
