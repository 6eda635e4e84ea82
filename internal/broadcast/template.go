package broadcast

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/scenario"
)

// templateFuncs are the functions campaign texts may call: those of
// scenario texts, with a join that also takes the card's lists (attributes
// decoded from JSON are []any).
var templateFuncs = func() template.FuncMap {
	f := scenario.TemplateFuncs()
	f["join"] = join
	return f
}()

// join joins a list of strings; a missing value joins to "".
func join(sep string, v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, sep)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, sep)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// MaxTextRunes bounds a campaign text's source.
const MaxTextRunes = 3500

// MaxMessageLen bounds a rendered campaign text: one message on both
// platforms (Telegram allows 4096 UTF-16 units, VK 4096 characters; the
// text is counted in UTF-16 units, which is never less). Both adapters
// would split a longer text into several messages, but a broadcast is one
// message per recipient: a text that renders longer is refused when the
// campaign is created (rendered over an empty card) and fails the row
// (reason too_long) when a client's card makes it longer.
const MaxMessageLen = 4096

// maxRenderBytes caps the output of a rendering: MaxMessageLen UTF-16 units
// are at most 3 bytes of UTF-8 each, so a longer output is too long
// whatever it holds, and rendering stops there.
const maxRenderBytes = 3 * MaxMessageLen

// ErrTooLong: the text renders longer than one message (MaxMessageLen).
var ErrTooLong = errors.New("the text renders longer than one message")

// Template is a compiled campaign text.
type Template struct {
	src  string
	tmpl *template.Template
	// personal is true when the text mentions the client card, so each
	// recipient may get a different text.
	personal bool
}

// cardFields are the keys of the client card (dialog.ClientCard).
var cardFields = func() map[string]bool {
	m := map[string]bool{}
	for k := range dialog.ClientCard(&crm.Client{}) {
		m[k] = true
	}
	return m
}()

// ParseTemplate compiles a campaign text. It refuses a syntax error, a
// top-level name other than .client, and an unknown client field
// (.client.agee), and it executes the text once over an empty card so that
// errors of functions and types show now rather than at send time.
func ParseTemplate(src string) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, invalid("text", "is empty")
	}
	if n := len([]rune(src)); n > MaxTextRunes {
		return nil, invalid("text", "has %d characters, at most %d", n, MaxTextRunes)
	}
	tmpl, err := template.New("text").Funcs(templateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, invalid("text", "%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if msg := scenario.UnsupportedAction(tmpl, "campaign texts", ".client.tags"); msg != "" {
		return nil, invalid("text", "%s", msg)
	}
	t := &Template{src: src, tmpl: tmpl}
	if err := t.checkFields(tmpl.Tree.Root); err != nil {
		return nil, err
	}
	if _, err := t.execute(&crm.Client{}); err != nil {
		return nil, invalid("text", "%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

// Personal reports whether the text depends on the recipient.
func (t *Template) Personal() bool { return t.personal }

// Render executes the text over c's card. Values the client does not have
// render empty (use default for a fallback).
func (t *Template) Render(c *crm.Client) (string, error) {
	out, err := t.execute(c)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(out) == "" {
		return "", fmt.Errorf("render campaign text: the text is empty for this client")
	}
	return out, nil
}

// execute renders the text over c's card; an output longer than one
// message is an error wrapping ErrTooLong (rendering stops at
// maxRenderBytes).
func (t *Template) execute(c *crm.Client) (string, error) {
	data := map[string]any{"client": dialog.ClientCard(c)}
	out, err := scenario.ExecuteCapped(t.tmpl, data, maxRenderBytes)
	if errors.Is(err, scenario.ErrTextTooLong) {
		return "", fmt.Errorf("render campaign text: %w (%d characters)", ErrTooLong, MaxMessageLen)
	}
	if err != nil {
		return "", fmt.Errorf("render campaign text: %w", err)
	}
	out = strings.ReplaceAll(out, "<no value>", "")
	if n := utf16Len(out); n > MaxMessageLen {
		return "", fmt.Errorf("render campaign text: %w: %d characters, at most %d", ErrTooLong, n, MaxMessageLen)
	}
	return out, nil
}

// utf16Len counts s in UTF-16 units, as Telegram does.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// checkFields walks the parse tree for field chains.
func (t *Template) checkFields(n parse.Node) error {
	var err error
	walk(n, func(f *parse.FieldNode) {
		if err != nil {
			return
		}
		switch {
		case f.Ident[0] != "client":
			err = invalid("text", "unknown name .%s (texts see .client)", f.Ident[0])
		case len(f.Ident) > 1 && !cardFields[f.Ident[1]]:
			err = invalid("text", "unknown client field %q", f.Ident[1])
		default:
			t.personal = true
		}
	})
	return err
}

// walk calls fn for every field node under n.
func walk(n parse.Node, fn func(*parse.FieldNode)) {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(x.Pipe, fn)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *parse.FieldNode:
		fn(x)
	case *parse.ChainNode:
		walk(x.Node, fn)
	case *parse.IfNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(*parse.FieldNode)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	if b.ElseList != nil {
		walk(b.ElseList, fn)
	}
}
