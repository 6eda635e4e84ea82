package scenario

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/expr-lang/expr"
)

// Data is what texts and conditions see: "client" (the client card as a map of
// core fields plus "tags" and "attributes"), "answer" (the current answer:
// string, float64 or []string; nil before one is given or when skipped) and
// "vars" (scenario vars merged with conversation vars).
type Data = map[string]any

// TemplateFuncs returns a copy of the functions scenario texts may call, for
// other texts that offer the same (broadcast campaigns).
func TemplateFuncs() template.FuncMap {
	out := make(template.FuncMap, len(templateFuncs))
	for k, v := range templateFuncs {
		out[k] = v
	}
	return out
}

// templateFuncs are the functions scenario texts may call.
var templateFuncs = template.FuncMap{
	"join":    func(sep string, v []string) string { return strings.Join(v, sep) },
	"default": defaultValue,
	"lower":   strings.ToLower,
	"upper":   strings.ToUpper,
}

func defaultValue(def, v any) any {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		if x == "" {
			return def
		}
	}
	return v
}

// NewText compiles raw as a text/template called name. A text without "{{" is
// static and renders without executing a template.
func NewText(name, raw string) (*Text, error) {
	t := &Text{Raw: raw}
	if !strings.Contains(raw, "{{") {
		t.static = true
		return t, nil
	}
	tmpl, err := template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(raw)
	if err != nil {
		return nil, err
	}
	EmptyForMissing(tmpl)
	t.tmpl = tmpl
	return t, nil
}

// Static reports whether the text has no template actions.
func (t *Text) Static() bool { return t.static }

// Render executes the text with data.
func (t *Text) Render(data Data) (string, error) {
	if t.static {
		return t.Raw, nil
	}
	var b strings.Builder
	b.Grow(len(t.Raw) + 32)
	if err := t.tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %s: %w", t.tmpl.Name(), err)
	}
	return b.String(), nil
}

// conditionEnv is the compile-time environment of a condition for a step of
// the given kind: answer has the type that kind's answers have.
func conditionEnv(kind InputKind, multiple bool) map[string]any {
	var answer any
	switch {
	case kind == InputNumber:
		answer = float64(0)
	case kind == InputChoice && multiple:
		answer = []string{}
	case kind == InputNone:
		answer = nil
	default:
		answer = ""
	}
	return map[string]any{
		"answer": answer,
		"client": map[string]any{},
		"vars":   map[string]any{},
	}
}

// CompileCondition compiles a `next: [{if: ...}]` condition for a step of the
// given kind. Conditions must yield a boolean.
func CompileCondition(src string, kind InputKind, multiple bool) (*Branch, error) {
	prog, err := expr.Compile(src, expr.Env(conditionEnv(kind, multiple)), expr.AsBool())
	if err != nil {
		return nil, err
	}
	return &Branch{Cond: prog, Source: src}, nil
}

// Match evaluates the branch against env; a nil condition always matches and
// an evaluation error counts as no match (returned for logging).
func (b *Branch) Match(env Data) (bool, error) {
	if b.Cond == nil {
		return true, nil
	}
	out, err := expr.Run(b.Cond, env)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", b.Source, err)
	}
	ok, _ := out.(bool)
	return ok, nil
}
