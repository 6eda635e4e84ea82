package segment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Limits of a saved segment.
const (
	// MaxNameLength caps a saved segment's name, in bytes.
	MaxNameLength = 64
	// MaxDescriptionLength caps a saved segment's description, in characters.
	MaxDescriptionLength = 1000
)

// Definition is a saved, named segment.
type Definition struct {
	// Name is unique; latin letters, digits, _ and -, starting with a letter
	// or digit (ValidateName).
	Name string
	// Expression is the segment expression, as written.
	Expression string
	// Description says what the segment is for, for managers.
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ReservedNames cannot name a new saved segment: they are the fixed routes
// under /api/segments/ (POST count, sample) and the console's /segments/
// (new, count, save), and the `chathub segment` subcommands (and help),
// which a segment of that name would shadow or be confused with. Compared
// case-insensitively.
var ReservedNames = []string{"count", "sample", "explain", "save", "list", "delete", "help", "new"}

// ErrReservedName is wrapped by the error of a save under a reserved name.
var ErrReservedName = errors.New("reserved segment name")

// Validate checks the name (ValidateNewName) and the description (not the
// expression: that needs a Compiler with the other saved segments).
func (d *Definition) Validate() error {
	if err := ValidateNewName(d.Name); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(d.Description); n > MaxDescriptionLength || !utf8.ValidString(d.Description) {
		return fmt.Errorf("segment %q: the description must be UTF-8 text of at most %d characters", d.Name, MaxDescriptionLength)
	}
	return nil
}

// ValidateNewName checks the name a segment is saved under: ValidateName,
// and not one of ReservedNames (an error wrapping ErrReservedName).
func ValidateNewName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	for _, r := range ReservedNames {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("segment name %q: %w: it is an API route or a `chathub segment` subcommand (%s); choose another name",
				name, ErrReservedName, strings.Join(ReservedNames, ", "))
		}
	}
	return nil
}

// ValidateName checks the form of a saved segment's name (a segment saved
// before a name was reserved can still be referenced and deleted).
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("a segment name must not be empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("a segment name has at most %d characters", MaxNameLength)
	case !idRe.MatchString(name) || name[0] == '-' || name[0] == '_':
		return fmt.Errorf("segment name %q: use latin letters, digits, _ and -, starting with a letter or digit", name)
	}
	return nil
}

// References lists, sorted, the saved segments src names directly with
// segment("name"), without resolving them. An expression that does not
// parse references nothing.
func References(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &refVisitor{names: map[string]bool{}}
	ast.Walk(&tree.Node, v)
	return slices.Sorted(maps.Keys(v.names))
}

// refVisitor collects segment("name") calls.
type refVisitor struct{ names map[string]bool }

// Visit implements ast.Visitor.
func (v *refVisitor) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "segment" {
		return
	}
	if s, ok := call.Arguments[0].(*ast.StringNode); ok {
		v.names[s.Value] = true
	}
}

// Overlay is a Library that answers name with expr and everything else
// from Base: a store compiles a segment it is about to save through it, so
// that references back to the new version are seen (and cycles caught).
type Overlay struct {
	Name, Expr string
	Base       Library
}

// SegmentExpression implements Library.
func (o Overlay) SegmentExpression(ctx context.Context, name string) (string, bool, error) {
	if name == o.Name {
		return o.Expr, true, nil
	}
	if o.Base == nil {
		return "", false, nil
	}
	return o.Base.SegmentExpression(ctx, name)
}
