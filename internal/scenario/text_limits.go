package scenario

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/chathub/chathub/internal/crm"
)

// UnsupportedAction returns why tmpl may not be a message text, or "" when
// it may. Message texts (scenario texts, campaign texts) share these rules,
// which keep a text from running away when rendered: no {{define}},
// {{block}} or {{template}}, and no {{range}} over a number, whether a
// literal ({{range 1000000}}), a variable set from one ({{$n := 9}}{{range
// $n}}) or a numeric client field ({{range .client.age}}), nor over what a
// function returns ({{range len "…"}}, which nested would run for hours
// while writing nothing). texts names the
// kind of text in the message ("scenario texts"), list an example of a list
// to range over (".answer").
func UnsupportedAction(tmpl *template.Template, texts, list string) string {
	if len(tmpl.Templates()) > 1 {
		return "{{define}} and {{block}} are not supported in " + texts + "; write the text inline"
	}
	if tmpl.Tree == nil {
		return ""
	}
	a := actionCheck{texts: texts, list: list, numbers: map[string]bool{}}
	return a.walk(tmpl.Tree.Root)
}

// actionCheck walks a template in order, remembering the variables set from
// a number.
type actionCheck struct {
	texts, list string
	numbers     map[string]bool
}

func (a *actionCheck) walk(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, child := range n.Nodes {
			if msg := a.walk(child); msg != "" {
				return msg
			}
		}
	case *parse.TemplateNode:
		return "{{template}} is not supported in " + a.texts + "; write the text inline"
	case *parse.ActionNode:
		a.declare(n.Pipe)
	case *parse.RangeNode:
		if a.numeric(n.Pipe) || callsFunction(n.Pipe) {
			return "{{range}} over a number or a function's result is not supported in " + a.texts + "; range over a list such as " + a.list
		}
		return firstOf(a.walk(n.List), a.walk(n.ElseList))
	case *parse.IfNode:
		a.declare(n.Pipe)
		return firstOf(a.walk(n.List), a.walk(n.ElseList))
	case *parse.WithNode:
		a.declare(n.Pipe)
		return firstOf(a.walk(n.List), a.walk(n.ElseList))
	}
	return ""
}

// declare marks the variables p sets ({{$n := …}}, {{$n = …}}) as numbers
// when p has one or calls a function (which may return one: {{$n := len
// "…"}}).
func (a *actionCheck) declare(p *parse.PipeNode) {
	if p == nil || len(p.Decl) == 0 || !(a.numeric(p) || callsFunction(p)) {
		return
	}
	for _, v := range p.Decl {
		a.numbers[v.Ident[0]] = true
	}
}

// numeric reports whether p may yield a number: it holds a number literal,
// a variable set from one, or a numeric client field.
func (a *actionCheck) numeric(p *parse.PipeNode) bool {
	if p == nil {
		return false
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			switch x := arg.(type) {
			case *parse.NumberNode:
				return true
			case *parse.VariableNode:
				if a.numbers[x.Ident[0]] {
					return true
				}
			case *parse.FieldNode:
				if numericClientField(x.Ident) {
					return true
				}
			case *parse.PipeNode:
				if a.numeric(x) {
					return true
				}
			}
		}
	}
	return false
}

// callsFunction reports whether p calls a function or a builtin ({{range
// len "…"}}, {{range slice …}}): its result may be a number, so ranging
// over it is refused whatever the function; a list is ranged over as a
// field or a variable.
func callsFunction(p *parse.PipeNode) bool {
	if p == nil {
		return false
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			switch x := arg.(type) {
			case *parse.IdentifierNode:
				return true
			case *parse.PipeNode:
				if callsFunction(x) {
					return true
				}
			}
		}
	}
	return false
}

// numericClientField reports whether .client.<name> is a number on the card.
func numericClientField(ident []string) bool {
	if len(ident) != 2 || ident[0] != "client" {
		return false
	}
	f, ok := crm.LookupField(ident[1])
	return ok && f.Type == crm.TypeInt
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ErrTextTooLong: a text rendered longer than its cap (ExecuteCapped).
var ErrTextTooLong = errors.New("the text renders too long")

// cappedBuilder collects output up to a byte budget, failing beyond it, so a
// runaway text stops when it reaches its cap instead of filling memory.
type cappedBuilder struct {
	b    strings.Builder
	left int
}

// Write implements io.Writer.
func (w *cappedBuilder) Write(p []byte) (int, error) {
	if len(p) > w.left {
		w.left = -1
		return 0, ErrTextTooLong
	}
	w.left -= len(p)
	return w.b.Write(p)
}

// ExecuteCapped executes tmpl on data and returns its output, or an error
// wrapping ErrTextTooLong as soon as the output passes maxBytes.
func ExecuteCapped(tmpl *template.Template, data any, maxBytes int) (string, error) {
	w := &cappedBuilder{left: maxBytes}
	if err := tmpl.Execute(w, data); err != nil {
		if w.left < 0 {
			return "", fmt.Errorf("%w: more than %d bytes", ErrTextTooLong, maxBytes)
		}
		return "", err
	}
	return w.b.String(), nil
}
