package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"text/template/parse"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/crm"
)

// textRef is a compiled text to try against sample data.
type textRef struct {
	t     *Text
	node  *yaml.Node
	where string // `in say: of step "name"`
	step  *Step
}

var (
	tmplPrefixRe = regexp.MustCompile(`^template: [^:]*:`)
	tmplExecRe   = regexp.MustCompile(`executing "[^"]*" `)
)

// template compiles a text of a step, checking its structure; it returns
// nil after recording an error.
func (c *compiler) template(n *yaml.Node, raw, what string, b *stepBuild) *Text {
	where := fmt.Sprintf("in %s: of step %q", what, b.s.ID)
	t, err := NewText(c.g.ID+"/"+b.s.ID+"/"+what, raw)
	if err != nil {
		c.badFunction(n, raw, where, err)
		return nil
	}
	if t.static {
		return t
	}
	if msg := unsupportedAction(t); msg != "" {
		c.errorf(n, "bad template %s: %s", where, msg)
		return nil
	}
	c.texts = append(c.texts, textRef{t: t, node: n, where: where, step: b.s})
	return t
}

// cleanTemplateErr drops the template name from a text/template error.
func cleanTemplateErr(err error) string {
	msg := tmplPrefixRe.ReplaceAllString(err.Error(), "text line ")
	return tmplExecRe.ReplaceAllString(msg, "")
}

// unsupportedAction rejects template features a message text has no use for
// and that could make rendering run away: {{define}}, {{block}},
// {{template}} and ranging over a number.
func unsupportedAction(t *Text) string {
	if len(t.tmpl.Templates()) > 1 {
		return "{{define}} and {{block}} are not supported in scenario texts; write the text inline"
	}
	if t.tmpl.Tree == nil {
		return ""
	}
	return walkActions(t.tmpl.Tree.Root)
}

func walkActions(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, child := range n.Nodes {
			if msg := walkActions(child); msg != "" {
				return msg
			}
		}
	case *parse.TemplateNode:
		return "{{template}} is not supported in scenario texts; write the text inline"
	case *parse.RangeNode:
		if pipeHasNumber(n.Pipe) {
			return "{{range}} over a number is not supported in scenario texts; range over a list such as .answer"
		}
		return firstOf(walkActions(n.List), walkActions(n.ElseList))
	case *parse.IfNode:
		return firstOf(walkActions(n.List), walkActions(n.ElseList))
	case *parse.WithNode:
		return firstOf(walkActions(n.List), walkActions(n.ElseList))
	}
	return ""
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pipeHasNumber(p *parse.PipeNode) bool {
	if p == nil {
		return false
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.NumberNode:
				return true
			case *parse.PipeNode:
				if pipeHasNumber(a) {
					return true
				}
			}
		}
	}
	return false
}

// checkTexts renders every template against sample data, reporting those
// that fail whatever the answer is (a wrong function call, a bad field).
func (c *compiler) checkTexts() {
	scope := c.nameScope()
	c.checkConditionNames(scope)
	if len(c.texts) == 0 {
		return
	}
	client, vars := c.sampleClient(), c.sampleVars()
	answers := []any{"Анна", float64(30), []string{"Фитнес"}, nil}
	for _, r := range c.texts {
		if !c.checkNames(r, scope) {
			continue
		}
		var first error
		for _, a := range answers {
			err := renderSample(r.t, Data{"client": client, "answer": a, "vars": vars})
			if err == nil {
				first = nil
				break
			}
			if first == nil {
				first = err
			}
		}
		if first != nil {
			c.errorf(r.node, "template %s fails when rendered: %s; fix the {{ }} action", r.where, cleanTemplateErr(first))
		}
	}
}

// maxSampleOutput bounds the output of a sample rendering.
const maxSampleOutput = 64 << 10

var errTooLong = errors.New("the text renders longer than 64 KiB")

// limitWriter fails once more than its budget is written.
type limitWriter struct{ left int }

// Write counts p against the budget.
func (w *limitWriter) Write(p []byte) (int, error) {
	w.left -= len(p)
	if w.left < 0 {
		return 0, errTooLong
	}
	return len(p), nil
}

func renderSample(t *Text, data Data) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendering failed: %v", r)
		}
	}()
	return t.tmpl.Execute(&limitWriter{left: maxSampleOutput}, data)
}

// sampleClient is a client card with every core field set, and the
// attributes the scenario saves.
func (c *compiler) sampleClient() map[string]any {
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	// The keys are those of the card the engine passes (CardFields).
	client := map[string]any{
		"id": "1", "platform": "telegram", "consent": true, "tags": []string{"survey"},
	}
	for _, name := range crm.FieldNames() {
		f, _ := crm.LookupField(name)
		client[name] = sampleFieldValue(f, now)
	}
	attrs := map[string]any{}
	for _, id := range c.g.Order {
		if s := c.g.Steps[id]; s.Save.Kind == SaveAttribute {
			attrs[s.Save.Name] = sampleAnswer(s)
		}
	}
	client["attributes"] = attrs
	return client
}

func sampleFieldValue(f crm.Field, now time.Time) any {
	switch {
	case f.Type == crm.TypeInt:
		return 30
	case f.Type == crm.TypeDate:
		return now
	case f.Type == crm.TypeBool:
		return true
	case f.Type == crm.TypeEnum:
		return f.Values[0]
	case f.Format == "phone":
		return "+79990000000"
	case f.Format == "email":
		return "anna@example.com"
	}
	return "Анна"
}

// sampleVars are the scenario's vars plus those its steps save.
func (c *compiler) sampleVars() map[string]any {
	vars := make(map[string]any, len(c.g.Vars))
	for k, v := range c.g.Vars {
		vars[k] = v
	}
	for _, id := range c.g.Order {
		if s := c.g.Steps[id]; s.Save.Kind == SaveVar {
			vars[s.Save.Name] = sampleAnswer(s)
		}
	}
	return vars
}

// sampleAnswer is a typical answer to s.
func sampleAnswer(s *Step) any {
	switch {
	case s.Input == InputNumber:
		return float64(30)
	case s.Multiple && len(s.Options) > 0:
		return []string{s.Options[0].Value}
	case s.Input == InputChoice && len(s.Options) > 0:
		return s.Options[0].Value
	case s.Input == InputDate:
		return "1990-05-17"
	case s.Input == InputPhone || s.Input == InputContact:
		return "+79990000000"
	case s.Input == InputEmail:
		return "anna@example.com"
	}
	return "Анна"
}
