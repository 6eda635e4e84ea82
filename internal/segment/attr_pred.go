package segment

import (
	"encoding/json"
	"regexp"
	"strconv"
)

// Attribute values as clients store them: strings, numbers, true/false and
// lists of strings (multi-select answers). A string that is a whole number
// written plainly ("3", "-12", at most 15 digits, no leading zeros) also
// counts as that number, since buttons save their values as text; that is
// what numericText, pgNumericText and sqliteNumericText agree on.
var numericText = regexp.MustCompile(`^(0|-?[1-9][0-9]{0,14})$`)

// pgNumericText is numericText as a PostgreSQL regular expression (no "?",
// which the placeholder syntax reserves).
const pgNumericText = `'^(0|-{0,1}[1-9][0-9]{0,14})$'`

// attrKeyRe is the form of attribute keys, the same as scenario save
// targets (attributes.<key>).
var attrKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// jsonPath is the SQLite JSON path of attribute key (checked by attrKeyRe,
// so it needs no escaping); it is passed as an argument, never spliced.
func jsonPath(key string) string { return `$."` + key + `"` }

// jsonDoc encodes {key: v} for PostgreSQL's containment operator.
func jsonDoc(key string, v any) string {
	b, _ := json.Marshal(map[string]any{key: v}) // strings, numbers, bools and []string always encode
	return string(b)
}

// pgAttr writes `clients.attributes -> 'key'` (or ->> for text).
func pgAttr(w *sqlWriter, op, key string) {
	w.str("(clients.attributes ", op, " CAST(")
	w.arg(key)
	w.str(" AS TEXT))")
}

// sqliteAttr writes `json_fn(clients.attributes, '$."key"')`.
func sqliteAttr(w *sqlWriter, fn, key string) {
	w.str(fn, "(clients.attributes, ")
	w.arg(jsonPath(key))
	w.str(")")
}

// pgContains writes `clients.attributes @> '{"key": v}'`.
func pgContains(w *sqlWriter, key string, v any) {
	w.str("clients.attributes @> CAST(")
	w.arg(jsonDoc(key, v))
	w.str(" AS JSONB)")
}

// writeNumber writes the attribute as a DOUBLE PRECISION / REAL, or NULL
// when it is not a number or numeric text.
func writeNumber(w *sqlWriter, key string) {
	if w.pg() {
		w.str("CASE jsonb_typeof")
		pgAttr(w, "->", key)
		w.str(" WHEN 'number' THEN CAST(")
		pgAttr(w, "->>", key)
		w.str(" AS DOUBLE PRECISION) WHEN 'string' THEN CASE WHEN ")
		pgAttr(w, "->>", key)
		w.str(" ~ " + pgNumericText + " THEN CAST(")
		pgAttr(w, "->>", key)
		w.str(" AS DOUBLE PRECISION) END END")
		return
	}
	w.str("(SELECT CASE WHEN x.t IN ('integer', 'real') THEN x.v WHEN x.t = 'text' AND (" +
		"x.v = '0' OR (x.v GLOB '[1-9]*' AND length(x.v) <= 15 AND x.v NOT GLOB '*[^0-9]*') OR " +
		"(x.v GLOB '-[1-9]*' AND length(x.v) <= 16 AND substr(x.v, 2) NOT GLOB '*[^0-9]*')) " +
		"THEN CAST(x.v AS REAL) END FROM (SELECT ")
	sqliteAttr(w, "json_type", key)
	w.str(" AS t, ")
	sqliteAttr(w, "json_extract", key)
	w.str(" AS v) AS x)")
}

// numberOf reads an attribute value as a number (see numericText).
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case string:
		if !numericText.MatchString(x) {
			return 0, false
		}
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// attrEq holds when attribute key equals val: the same string, the same
// true/false, or (for a number) a number or numeric text of that value.
type attrEq struct {
	key string
	val any // string, float64 or bool
}

func (p attrEq) sql(w *sqlWriter) {
	switch v := p.val.(type) {
	case float64:
		attrCmp{key: p.key, op: "==", num: v}.sql(w)
	case string:
		if w.pg() {
			w.str("(")
			pgContains(w, p.key, v)
			w.str(")")
			return
		}
		w.str("(COALESCE(")
		sqliteAttr(w, "json_type", p.key)
		w.str(" = 'text' AND ")
		sqliteAttr(w, "json_extract", p.key)
		w.str(" = ")
		w.arg(v)
		w.str(", FALSE))")
	case bool:
		if w.pg() {
			w.str("(")
			pgContains(w, p.key, v)
			w.str(")")
			return
		}
		w.str("(COALESCE(")
		sqliteAttr(w, "json_type", p.key)
		w.str(" = '" + strconv.FormatBool(v) + "', FALSE))")
	}
}

func (p attrEq) eval(e *env) bool {
	v, ok := e.c.Attributes[p.key]
	if !ok {
		return false
	}
	switch want := p.val.(type) {
	case float64:
		n, ok := numberOf(v)
		return ok && n == want
	case string:
		s, ok := v.(string)
		return ok && s == want
	case bool:
		b, ok := v.(bool)
		return ok && b == want
	}
	return false
}

// attrCmp compares attribute key, read as a number, with num; false when
// the attribute is not a number.
type attrCmp struct {
	key string
	op  string
	num float64
}

func (p attrCmp) sql(w *sqlWriter) {
	w.str("(COALESCE(")
	writeNumber(w, p.key)
	w.str(" " + sqlOps[p.op] + " ")
	if w.pg() {
		w.str("CAST(")
		w.arg(p.num)
		w.str(" AS DOUBLE PRECISION)")
	} else {
		w.arg(p.num)
	}
	w.str(", FALSE))")
}

func (p attrCmp) eval(e *env) bool {
	n, ok := numberOf(e.c.Attributes[p.key])
	if !ok {
		return false
	}
	switch {
	case n < p.num:
		return holds(-1, p.op)
	case n > p.num:
		return holds(1, p.op)
	}
	return holds(0, p.op)
}

// attrHas holds when attribute key is a list containing the string s or is
// the string s itself: "fitness" in attributes.interests.
type attrHas struct {
	key string
	s   string
}

func (p attrHas) sql(w *sqlWriter) {
	if w.pg() {
		w.str("(")
		pgContains(w, p.key, p.s)
		w.str(" OR ")
		pgContains(w, p.key, []string{p.s})
		w.str(")")
		return
	}
	w.str("(COALESCE(")
	sqliteAttr(w, "json_type", p.key)
	w.str(" IN ('text', 'array') AND EXISTS (SELECT 1 FROM ")
	sqliteAttr(w, "json_each", p.key)
	w.str(" AS e WHERE e.type = 'text' AND e.value = ")
	w.arg(p.s)
	w.str("), FALSE))")
}

func (p attrHas) eval(e *env) bool {
	switch v := e.c.Attributes[p.key].(type) {
	case string:
		return v == p.s
	case []string:
		for _, x := range v {
			if x == p.s {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s == p.s {
				return true
			}
		}
	}
	return false
}

// attrKnown holds when attribute key has a value: present and not null,
// "" or an empty list (attributes.key != nil).
type attrKnown struct{ key string }

func (p attrKnown) sql(w *sqlWriter) {
	if w.pg() {
		w.str("(COALESCE(")
		pgAttr(w, "->", p.key)
		w.str(" NOT IN (CAST('null' AS JSONB), CAST('\"\"' AS JSONB), CAST('[]' AS JSONB)), FALSE))")
		return
	}
	w.str("(COALESCE(")
	sqliteAttr(w, "json_type", p.key)
	w.str(" NOT IN ('null', 'text', 'array'), FALSE) OR COALESCE(")
	sqliteAttr(w, "json_type", p.key)
	w.str(" = 'text' AND ")
	sqliteAttr(w, "json_extract", p.key)
	w.str(" <> '', FALSE) OR COALESCE(")
	sqliteAttr(w, "json_type", p.key)
	w.str(" = 'array' AND ")
	sqliteAttr(w, "json_array_length", p.key)
	w.str(" > 0, FALSE))")
}

func (p attrKnown) eval(e *env) bool {
	v, ok := e.c.Attributes[p.key]
	if !ok || v == nil {
		return false
	}
	switch x := v.(type) {
	case string:
		return x != ""
	case []string:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}
