package segment

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// DefaultSource is Error.Source for an expression that is not a saved segment.
const DefaultSource = "segment"

// ErrUnknownSegment is wrapped by the Error for segment("name") when no
// segment is saved under that name.
var ErrUnknownSegment = errors.New("unknown saved segment")

// Error is a compile error with its position in the expression. It prints
// as "segment:1:12: unknown field "agee" (did you mean "age"?)".
type Error struct {
	// Source names the expression: DefaultSource, or the name of the saved
	// segment the error is in.
	Source string
	// Line and Column are 1-based; Column counts characters, not bytes.
	Line, Column int
	// Offset is the 0-based character offset of the position.
	Offset int
	// Msg says what is wrong and, where it can, what to write instead.
	Msg string
	// Err is the cause: the inner *Error of a saved segment that does not
	// compile, or ErrUnknownSegment. Nil otherwise.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Source, e.Line, e.Column, e.Msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// newError returns an Error at character offset off of src.
func newError(source, src string, off int, msg string) *Error {
	line, col := position(src, off)
	return &Error{Source: source, Line: line, Column: col, Offset: off, Msg: msg}
}

// position converts a character offset into a 1-based line and column. An
// offset past the end points just after the last character.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// clampOffset keeps a parser offset inside [0, length of src].
func clampOffset(src string, off int) int {
	n := utf8.RuneCountInString(src)
	return max(0, min(off, n))
}
