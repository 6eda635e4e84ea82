package postgres

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSearchLength caps ListOptions.Search, in characters.
const MaxSearchLength = 100

// ErrBadSearch is wrapped by the error of a search that cannot be run.
var ErrBadSearch = errors.New("bad client search")

// searchWhere returns the condition and arguments of a client search
// (ListOptions.Search).
func (s *Store) searchWhere(raw string) (string, []any, error) {
	q := strings.TrimSpace(raw)
	switch {
	case utf8.RuneCountInString(q) > MaxSearchLength:
		return "", nil, fmt.Errorf("%w: at most %d characters", ErrBadSearch, MaxSearchLength)
	case !strings.ContainsFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }):
		return "", nil, fmt.Errorf("%w: %q has no letter or digit; search by phone, @username or name", ErrBadSearch, q)
	}
	if phone, ok := searchPhone(q); ok {
		return "phone = ?", []any{phone}, nil
	}
	if name, ok := strings.CutPrefix(q, "@"); ok && !strings.ContainsFunc(name, unicode.IsSpace) {
		return "lower(username) = ?", []any{strings.ToLower(name)}, nil
	}
	var conds []string
	var args []any
	for _, w := range strings.Fields(q) {
		c, a := s.prefixAny(w, "first_name", "last_name", "username")
		conds = append(conds, c)
		args = append(args, a...)
	}
	return "(" + strings.Join(conds, " AND ") + ")", args, nil
}

// prefixAny matches columns beginning with word, ignoring case. PostgreSQL
// lowers both sides; SQLite's lower() and LIKE fold only ASCII, so the
// word is tried as typed, lower-case, upper-case and capitalised (Анна,
// анна, АННА) — how names are written.
func (s *Store) prefixAny(word string, cols ...string) (string, []any) {
	var conds []string
	var args []any
	if s.pg() {
		p := likeEscape(strings.ToLower(word)) + "%"
		for _, c := range cols {
			conds = append(conds, "lower("+c+") LIKE ? ESCAPE '\\'")
			args = append(args, p)
		}
		return "(" + strings.Join(conds, " OR ") + ")", args
	}
	var forms []string
	lower := strings.ToLower(word)
	for _, f := range []string{word, lower, strings.ToUpper(word), capitalise(lower)} {
		if !contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for _, c := range cols {
		for _, f := range forms {
			conds = append(conds, c+" LIKE ? ESCAPE '\\'")
			args = append(args, likeEscape(f)+"%")
		}
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// searchPhone reads q as a phone number in E.164 (Russian 8… and 10-digit
// numbers get +7), as the dialog stores phones.
func searchPhone(q string) (string, bool) {
	var digits []byte
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' || r == '(' || r == ')' || r == '-' || r == ' ':
		default:
			return "", false
		}
	}
	switch {
	case len(digits) == 11 && digits[0] == '8':
		digits[0] = '7'
	case len(digits) == 10 && !strings.HasPrefix(q, "+"):
		digits = append([]byte{'7'}, digits...)
	}
	if len(digits) < 10 || len(digits) > 15 {
		return "", false
	}
	return "+" + string(digits), true
}

// likeEscape escapes LIKE's wildcards and its escape character.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
