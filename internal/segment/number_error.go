package segment

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
)

// numberLiteralFault matches expr-lang's messages for a number literal Go
// cannot parse ("invalid integer literal: strconv.ParseInt: parsing "…":
// value out of range"): group 1 is the literal without underscores, group 2
// the cause.
var numberLiteralFault = regexp.MustCompile(
	`^invalid (?:integer|hex|float|binary|octal) literal: strconv\.Parse(?:Int|Float): parsing "((?:[^"\\]|\\.)*)": (value out of range|invalid syntax)`)

// numberError rewrites the parser's error about a number literal into one
// that names the number and points at its first character, without Go's
// strconv wording; ok is false for other errors.
func (u *unit) numberError(fe *file.Error) (err *Error, ok bool) {
	m := numberLiteralFault.FindStringSubmatch(fe.Message)
	if m == nil && fe.Message != "integer literal is too large" {
		return nil, false
	}
	off, lit := clampOffset(u.src, fe.From), ""
	if m != nil {
		lit = m[1]
	}
	if tok, found := numberToken(u.src, lit, off); found {
		off, lit = clampOffset(u.src, tok.From), tok.Value
	}
	msg := fmt.Sprintf("number %s is out of range", lit)
	if m != nil && m[2] == "invalid syntax" {
		msg = fmt.Sprintf("%s is not a valid number", lit)
	}
	return newError(u.name, u.src, off, msg), true
}

// numberToken finds the number literal the parser complained about: the
// last one starting at or before off whose value (without underscores) is
// lit, or just the last one before off when lit is empty.
func numberToken(src, lit string, off int) (lexer.Token, bool) {
	toks, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return lexer.Token{}, false
	}
	var best lexer.Token
	found := false
	for _, t := range toks {
		if t.Kind != lexer.Number || t.From > off {
			continue
		}
		if lit == "" || strings.ReplaceAll(t.Value, "_", "") == lit {
			best, found = t, true
		}
	}
	return best, found
}
