package scenario

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/spelling"
)

// cardExtras are the keys of the client card besides the core fields
// (dialog.ClientCard builds the card; a test there checks both agree).
var cardExtras = []string{"id", "platform", "consent", "tags", "attributes", "profile_text"}

// CardFields lists, sorted, the names .client holds in texts: every core
// field, "id" (the platform user id), "platform", "consent", "tags",
// "attributes" and "profile_text" (everything stored, as /profile lists it).
func CardFields() []string {
	return slices.Sorted(slices.Values(append(crm.FieldNames(), cardExtras...)))
}

// NameScope says which names a text's data holds, for CheckTemplateNames.
// .client is always there.
type NameScope struct {
	// Answer makes .answer available (scenario texts).
	Answer bool
	// Vars lists the names .vars holds; nil makes .vars unavailable
	// (campaign texts have no conversation).
	Vars []string
	// Attributes lists attribute keys known to be saved, for hints: a
	// misplaced .client.interests suggests .client.attributes.interests.
	Attributes []string
}

// roots lists the top-level names of the scope.
func (s NameScope) roots() []string {
	out := []string{"client"}
	if s.Answer {
		out = append(out, "answer")
	}
	if s.Vars != nil {
		out = append(out, "vars")
	}
	return out
}

// NameError is a name a text uses that its data will not hold.
type NameError struct {
	// Offset is the byte offset of the name in the text.
	Offset int
	// Chain is the field chain as written up to and including the name
	// (".client.frist_name"), to find it in a file.
	Chain string
	// Msg says what is wrong and what to write instead.
	Msg string
}

// Error returns the message.
func (e NameError) Error() string { return e.Msg }

// CheckTemplateNames walks t's parse tree and reports every field chain
// whose names its data will not hold: an unknown top-level name (.answr),
// client field (.client.frist_name) or variable (.vars.gfit), and a field
// of a plain value (.answer.x). Keys of .client.attributes are free: a
// missing one renders empty. Inside {{with}} and {{range}} the dot is
// followed where it is a known part of the data (with .client) and not
// checked where it is not (range over a list).
//
// src is the text t was parsed from: offsets are found in it.
func CheckTemplateNames(src string, t *template.Template, scope NameScope) []NameError {
	if t == nil || t.Tree == nil {
		return nil
	}
	w := &nameWalker{src: src, scope: scope, cards: CardFields()}
	w.list(t.Tree.Root, dotRoot)
	return w.errs
}

// dotKind is what the dot (or a chain so far) stands for in the data.
type dotKind int

const (
	dotUnknown dotKind = iota // not followed: no checks
	dotRoot                   // the data: client, answer, vars
	dotClient                 // the client card
	dotAttrs                  // client.attributes: free keys
	dotVars                   // vars: the scenario's names
	dotValue                  // a plain value: text, number, list, yes/no
)

type nameWalker struct {
	src   string
	scope NameScope
	cards []string
	errs  []NameError
}

func (w *nameWalker) list(l *parse.ListNode, dot dotKind) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		w.node(n, dot)
	}
}

func (w *nameWalker) node(n parse.Node, dot dotKind) {
	switch n := n.(type) {
	case *parse.ActionNode:
		w.pipe(n.Pipe, dot)
	case *parse.IfNode:
		w.pipe(n.Pipe, dot)
		w.list(n.List, dot)
		w.list(n.ElseList, dot)
	case *parse.WithNode:
		inner := w.pipe(n.Pipe, dot)
		w.list(n.List, inner)
		w.list(n.ElseList, dot)
	case *parse.RangeNode:
		w.pipe(n.Pipe, dot)
		w.list(n.List, dotUnknown)
		w.list(n.ElseList, dot)
	case *parse.ListNode:
		w.list(n, dot)
	}
}

// pipe checks a pipeline and returns what it yields when it is a single
// chain (for {{with}}), else dotUnknown.
func (w *nameWalker) pipe(p *parse.PipeNode, dot dotKind) dotKind {
	if p == nil {
		return dotUnknown
	}
	result := dotUnknown
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			result = w.arg(arg, dot)
		}
	}
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 || len(p.Decl) > 0 {
		return dotUnknown
	}
	return result
}

// arg checks one argument and returns what it stands for.
func (w *nameWalker) arg(n parse.Node, dot dotKind) dotKind {
	switch n := n.(type) {
	case *parse.FieldNode:
		return w.chain(dot, n.Ident, w.chainStart(int(n.Pos), "", n.Ident), "")
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return w.chain(dotRoot, n.Ident[1:], w.chainStart(int(n.Pos), "$", n.Ident[1:]), "$")
		}
	case *parse.DotNode:
		return dot
	case *parse.ChainNode:
		base := dotUnknown
		switch inner := n.Node.(type) {
		case *parse.PipeNode:
			base = w.pipe(inner, dot)
		default:
			base = w.arg(inner, dot)
		}
		return w.chain(base, n.Field, -1, "")
	case *parse.PipeNode:
		w.pipe(n, dot)
	}
	return dotUnknown
}

// chainStart returns the byte offset of the first "." of a chain written
// prefix.ident0.ident1… whose node is at pos, or -1. The parser places a
// chain's node at one of its parts (the second, for .a.b), so the offset
// is that of the occurrence of the whole chain in the text around pos.
func (w *nameWalker) chainStart(pos int, prefix string, idents []string) int {
	full := prefix + "." + strings.Join(idents, ".")
	end := min(len(w.src), pos+len(full))
	if pos < 0 || pos > len(w.src) {
		return -1
	}
	i := strings.LastIndex(w.src[:end], full)
	if i < 0 || i+len(full) <= pos {
		return -1
	}
	return i + len(prefix)
}

// chain follows field names from what the dot stands for, reporting the
// first one the data will not hold. start is the byte offset of the
// chain's first "." (-1 when unknown); prefix is what is written before it
// ("$" of $.client).
func (w *nameWalker) chain(from dotKind, idents []string, start int, prefix string) dotKind {
	cur, off, written := from, start, prefix
	for _, name := range idents {
		written += "." + name
		next, msg := w.step(cur, written, name)
		if msg != "" {
			at := -1
			if start >= 0 {
				at = off + 1
			}
			w.errs = append(w.errs, NameError{Offset: at, Chain: written, Msg: msg})
			return dotUnknown
		}
		off += 1 + len(name)
		cur = next
	}
	return cur
}

// step follows one field name from cur; msg is set when the data will
// not hold it.
func (w *nameWalker) step(cur dotKind, written, name string) (dotKind, string) {
	switch cur {
	case dotRoot:
		switch {
		case name == "client":
			return dotClient, ""
		case name == "answer" && w.scope.Answer:
			return dotValue, ""
		case name == "vars" && w.scope.Vars != nil:
			return dotVars, ""
		}
		return dotUnknown, w.unknownRoot(name)
	case dotClient:
		switch {
		case name == "attributes":
			return dotAttrs, ""
		case slices.Contains(w.cards, name):
			return dotValue, ""
		}
		return dotUnknown, w.unknownField(name)
	case dotAttrs:
		return dotValue, ""
	case dotVars:
		if slices.Contains(w.scope.Vars, name) {
			return dotUnknown, "" // vars may be mappings: deeper names are not checked
		}
		return dotUnknown, unknownVar(name, w.scope.Vars)
	case dotValue:
		parent := strings.TrimSuffix(written, "."+name)
		return dotUnknown, fmt.Sprintf("%s is a value (text, number or list) and has no field %q; remove .%s", parent, name, name)
	}
	return dotUnknown, ""
}

func (w *nameWalker) unknownRoot(name string) string {
	roots := w.scope.roots()
	quoted := make([]string, len(roots))
	for i, r := range roots {
		quoted[i] = "." + r
	}
	msg := fmt.Sprintf("unknown name .%s; texts see %s", name, strings.Join(quoted, ", "))
	if m := spelling.Closest(name, roots); m != "" {
		return msg + fmt.Sprintf("; did you mean .%s?", m)
	}
	if m := spelling.Closest(name, w.cards); m != "" || slices.Contains(w.cards, name) {
		return msg + fmt.Sprintf("; did you mean .client.%s?", cmp.Or(m, name))
	}
	if m := spelling.Closest(name, w.scope.Vars); m != "" || slices.Contains(w.scope.Vars, name) {
		return msg + fmt.Sprintf("; did you mean .vars.%s?", cmp.Or(m, name))
	}
	return msg
}

func (w *nameWalker) unknownField(name string) string {
	msg := fmt.Sprintf("unknown client field %q", name)
	if m := spelling.Closest(name, w.cards); m != "" {
		return msg + fmt.Sprintf("; did you mean .client.%s?", m)
	}
	if m := spelling.Closest(name, w.scope.Attributes); m != "" || slices.Contains(w.scope.Attributes, name) {
		return msg + fmt.Sprintf("; answers saved to attributes are .client.attributes.%s", cmp.Or(m, name))
	}
	return msg + "; a core field (.client.first_name, .client.city, …) or .client.attributes.<key>"
}

func unknownVar(name string, vars []string) string {
	msg := fmt.Sprintf("unknown variable .vars.%s", name)
	if m := spelling.Closest(name, vars); m != "" {
		return msg + fmt.Sprintf("; did you mean .vars.%s?", m)
	}
	if len(vars) == 0 {
		return msg + "; the scenario has no vars: and no step saves to vars.<name>"
	}
	return msg + "; define it under vars: or save an answer to vars." + name
}

// nameScope is what the scenario's texts see: .answer, the vars it
// defines and saves, and (for hints) the attributes it saves.
func (c *compiler) nameScope() NameScope {
	s := NameScope{Answer: true, Vars: []string{}}
	for name := range c.g.Vars {
		s.Vars = append(s.Vars, name)
	}
	for _, id := range c.g.Order {
		st := c.g.Steps[id]
		switch st.Save.Kind {
		case SaveVar:
			s.Vars = append(s.Vars, st.Save.Name)
		case SaveAttribute:
			s.Attributes = append(s.Attributes, st.Save.Name)
		}
	}
	slices.Sort(s.Vars)
	return s
}

// checkNames reports the unknown names of r's text at their place in the
// file; it reports whether there were none.
func (c *compiler) checkNames(r textRef, scope NameScope) bool {
	errs := CheckTemplateNames(r.t.Raw, r.t.tmpl, scope)
	for _, e := range errs {
		line, col := c.textPos(r.node, r.t.Raw, e.Offset, e.Chain)
		c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: col,
			Msg: fmt.Sprintf("template %s: %s", r.where, e.Msg)})
	}
	return len(errs) == 0
}

// textPos finds the file position of the last name of chain, written at
// byte offset off of raw, the value of node n. The chain is looked up in
// the file from where the value starts (the same occurrence as in raw),
// which works for every scalar style; n's own position is the fallback.
func (c *compiler) textPos(n *yaml.Node, raw string, off int, chain string) (line, col int) {
	line, col = max(n.Line, 1), max(n.Column, 1)
	if off < 0 {
		return line, col
	}
	nameLen := len(chain) - strings.LastIndex(chain, ".") - 1
	chainStart := off + nameLen - len(chain)
	if chainStart < 0 || off > len(raw) {
		return line, col
	}
	nth := strings.Count(raw[:chainStart], chain)
	start := offsetOf(c.src, line, col)
	if start < 0 {
		return line, col
	}
	rest := string(c.src[start:])
	at := 0
	for i := 0; ; i++ {
		j := strings.Index(rest[at:], chain)
		if j < 0 {
			return line, col
		}
		if i == nth {
			return positionOf(c.src, start+at+j+len(chain)-nameLen)
		}
		at += j + len(chain)
	}
}

// offsetOf converts a 1-based line and column (in characters) of src into
// a byte offset; -1 when src has no such place.
func offsetOf(src []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(src) || src[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off
}

// positionOf converts a byte offset of src into a 1-based line and column
// (in characters, as the YAML parser counts them).
func positionOf(src []byte, off int) (line, col int) {
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return bytes.Count(src[:off], []byte{'\n'}) + 1, utf8.RuneCount(src[lineStart:off]) + 1
}

// undefinedFuncRe finds the name in text/template's error for a call of
// an unknown function.
var undefinedFuncRe = regexp.MustCompile(`function "([^"]+)" not defined`)

// builtinFuncs are text/template's own functions.
var builtinFuncs = []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}

// badFunction records a text that does not parse; a call of an unknown
// function is reported where it is written, with the closest function.
func (c *compiler) badFunction(n *yaml.Node, raw, where string, err error) {
	const hint = "fix the {{ }} action (functions: join, default, lower, upper and text/template's own)"
	m := undefinedFuncRe.FindStringSubmatch(err.Error())
	if m == nil {
		c.errorf(n, "bad template %s: %s; %s", where, cleanTemplateErr(err), hint)
		return
	}
	names := slices.Collect(maps.Keys(templateFuncs))
	msg := fmt.Sprintf("bad template %s: unknown function %q", where, m[1])
	if s := spelling.Closest(m[1], append(names, builtinFuncs...)); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; " + hint
	}
	line, col := max(n.Line, 1), max(n.Column, 1)
	if i := funcOffset(raw, m[1]); i >= 0 {
		line, col = c.textPos(n, raw, i, m[1])
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: col, Msg: msg})
}

// funcOffset is the byte offset of the first use of the function name in
// an action of raw, or -1.
func funcOffset(raw, name string) int {
	re := regexp.MustCompile(`\{\{[^}]*?[\s(|-]` + regexp.QuoteMeta(name) + `[\s)}]`)
	loc := re.FindStringIndex(raw)
	if loc == nil {
		return -1
	}
	return loc[0] + strings.LastIndex(raw[loc[0]:loc[1]], name)
}
