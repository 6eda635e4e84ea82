package scenario

import (
	"errors"
	"fmt"
	"regexp"
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
// and that could make rendering run away (UnsupportedAction: the rules
// campaign texts share).
func unsupportedAction(t *Text) string {
	return UnsupportedAction(t.tmpl, "scenario texts", ".answer")
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
		"profile_text": "Имя: Анна",
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
