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
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// Defaults of Config.
const (
	// DefaultMaxLength is Config.MaxLength when zero.
	DefaultMaxLength = 4096
	// DefaultMaxDepth is Config.MaxDepth when zero.
	DefaultMaxDepth = 32
)

// maxSavedDepth caps how deep saved segments may refer to each other.
const maxSavedDepth = 8

// Library resolves segment("name") to a saved expression.
type Library interface {
	// SegmentExpression returns the expression saved under name; found is
	// false when there is none. An error is a failure to look it up.
	SegmentExpression(ctx context.Context, name string) (expr string, found bool, err error)
}

// Config configures a Compiler.
type Config struct {
	// Library resolves segment("name"). Nil (the default) makes every
	// segment(...) a compile error.
	Library Library
	// Scenarios checks the scenario, step and field names completed(...)
	// and answered(...) use. Nil (the default) leaves them unchecked.
	Scenarios Scenarios
	// MaxLength caps an expression's length in bytes, saved segments each
	// on their own. Default DefaultMaxLength (4096); must not be negative.
	MaxLength int
	// MaxDepth caps how deeply conditions nest (parentheses, not, saved
	// segments), which keeps the SQL within what databases parse. Default
	// DefaultMaxDepth (32); must not be negative.
	MaxDepth int
	// OpenFor is how long a conversation waiting at a step counts as stuck
	// there for stuck(...) (after that dropped(...) counts it): the
	// conversation state's lifetime, STATE_TTL. Default OpenFor (30 days,
	// STATE_TTL's default); must not be negative.
	OpenFor time.Duration
}

// validate checks c and fills its defaults.
func (c *Config) validate() error {
	if c.MaxLength < 0 {
		return fmt.Errorf("segment config: max length must not be negative, got %d", c.MaxLength)
	}
	if c.OpenFor < 0 {
		return fmt.Errorf("segment config: open-for must not be negative, got %s", c.OpenFor)
	}
	if c.OpenFor == 0 {
		c.OpenFor = OpenFor
	}
	if c.MaxDepth < 0 {
		return fmt.Errorf("segment config: max depth must not be negative, got %d", c.MaxDepth)
	}
	if c.MaxLength == 0 {
		c.MaxLength = DefaultMaxLength
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	return nil
}

// Compiler compiles segment expressions. It is safe for concurrent use.
type Compiler struct{ cfg Config }

// NewCompiler returns a Compiler; zero Config fields take their defaults.
func NewCompiler(cfg Config) (*Compiler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Compiler{cfg: cfg}, nil
}

// Compile compiles src without saved segments (segment(...) is an error).
// A bad expression gives an *Error.
func Compile(src string) (*Segment, error) {
	c, _ := NewCompiler(Config{})
	return c.Compile(context.Background(), src)
}

// Compile parses and checks src and returns the compiled Segment. A bad
// expression (or saved segment it uses) gives an *Error with the position;
// any other error is a failure of the Library.
func (c *Compiler) Compile(ctx context.Context, src string) (*Segment, error) {
	k := &compilation{ctx: ctx, cfg: &c.cfg, refs: map[string]bool{}, scenarios: map[string]bool{}}
	root, err := k.unit(&unit{name: DefaultSource, src: src}, 0)
	if err != nil {
		return nil, err
	}
	return &Segment{
		src: src, root: root,
		refs:      slices.Sorted(maps.Keys(k.refs)),
		scenarios: slices.Sorted(maps.Keys(k.scenarios)),
	}, nil
}

// compilation is the working set of one Compile.
type compilation struct {
	ctx       context.Context
	cfg       *Config
	stack     []string // saved segments being expanded, outermost first
	refs      map[string]bool
	scenarios map[string]bool
}

// unit is one expression being compiled: the one given or a saved one.
type unit struct {
	name string // DefaultSource or the saved segment's name
	src  string
}

// errorAt returns an *Error at node n of u.
func (u *unit) errorAt(n ast.Node, format string, args ...any) error {
	return newError(u.name, u.src, clampOffset(u.src, n.Location().From), fmt.Sprintf(format, args...))
}

// unit parses u and compiles its condition at nesting depth.
func (k *compilation) unit(u *unit, depth int) (pred, error) {
	n, err := k.parse(u)
	if err != nil {
		return nil, err
	}
	return k.cond(u, n, depth)
}

// parse checks u's size and text and parses it with expr-lang's parser.
func (k *compilation) parse(u *unit) (ast.Node, error) {
	switch {
	case len(u.src) > k.cfg.MaxLength:
		return nil, newError(u.name, u.src, 0, fmt.Sprintf("expression is %d bytes long; the limit is %d", len(u.src), k.cfg.MaxLength))
	case !utf8.ValidString(u.src):
		return nil, newError(u.name, u.src, invalidUTF8Offset(u.src), "expression is not valid UTF-8 text")
	case strings.TrimSpace(u.src) == "":
		return nil, newError(u.name, u.src, 0, `empty expression; write a condition, e.g. subscribed and city == "Москва"`)
	}
	tree, err := parser.Parse(u.src)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			if ne, ok := u.numberError(fe); ok {
				return nil, ne
			}
			return nil, newError(u.name, u.src, clampOffset(u.src, fe.From), "syntax error: "+fe.Message)
		}
		return nil, newError(u.name, u.src, 0, "syntax error: "+err.Error())
	}
	return tree.Node, nil
}

// invalidUTF8Offset is the character offset of the first invalid byte.
func invalidUTF8Offset(s string) int {
	n := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return n
			}
		}
		n++
	}
	return n
}
