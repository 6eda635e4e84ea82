package scenario

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxButtonText is VK's limit on a button caption, in characters.
const maxButtonText = 40

// Bounds of a say: text. A message longer than maxMessageLen goes out as
// several; a say may fill at most maxSayMessages of them (MaxSayLen
// characters), which is already more than a chat reader scrolls through and
// keeps one step's sending to seconds.
const (
	// maxMessageLen is Telegram's and VK's limit on one message, 4096
	// characters (Telegram counts UTF-16 units: an emoji such as 😀 is 2).
	maxMessageLen  = 4096
	maxSayMessages = 20
	// MaxSayLen is the longest say: text, in characters counted as
	// Telegram counts them: 81,920.
	MaxSayLen = maxSayMessages * maxMessageLen
)

// stepBuild is a step being compiled with the nodes its checks point at.
type stepBuild struct {
	s     *Step
	key   *yaml.Node // the step id in steps:
	f     fieldSet
	where string // `in step "name"`
	// optNodes[i] is the node of s.Options[i]; optNext[i] its next: value.
	optNodes []*yaml.Node
	optNext  []*yaml.Node
	// optKind is "button" or "choice", for messages.
	optKind string
	// endOK is false when end: is present but not true/false.
	endOK bool
}

// step compiles one step.
func (c *compiler) step(id string, key, n *yaml.Node) *Step {
	s := &Step{ID: id, Pos: Pos{Line: key.Line, Col: key.Column}, DoneText: DefaultDoneText}
	if isNull(n) {
		c.errorf(key, "step %q is empty; give it say: and next: <step id> or end: true", id)
		return s
	}
	if !c.isMapping(n, fmt.Sprintf("step %q", id)) {
		return s
	}
	b := &stepBuild{s: s, key: key, where: fmt.Sprintf("in step %q", id), endOK: true}
	b.f = c.fields(n, b.where, stepKeys)
	c.say(b)
	c.input(b)
	c.options(b)
	c.choiceFlags(b)
	c.validation(b)
	c.save(b)
	c.stepTags(b)
	c.next(b)
	c.flags(b)
	c.remind(b)
	c.routing(b)
	return s
}

// say compiles `say:` and requires it on a question.
func (c *compiler) say(b *stepBuild) {
	n := b.f.get("say")
	if n == nil {
		return
	}
	what := label("say", b.where)
	raw, ok := c.nonEmpty(n, what)
	if !ok {
		return
	}
	if l := textLen(raw); l > MaxSayLen {
		c.errorf(n, "%s is %d characters long, at most %d (%d messages of %d); shorten it or spread it over several steps",
			what, l, MaxSayLen, maxSayMessages, maxMessageLen)
		return
	}
	b.s.Say = c.template(n, raw, "say", b)
}

// textLen is the length of s as Telegram counts it: UTF-16 code units.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// input reads `input:`.
func (c *compiler) input(b *stepBuild) {
	n := b.f.get("input")
	if n == nil {
		return
	}
	name, ok := c.text(n, label("input", b.where))
	if !ok {
		return
	}
	kinds := inputNames[1:]
	i := slices.Index(kinds, name)
	if i < 0 {
		if hint := didYouMean(name, kinds); hint != "" {
			c.errorf(n, "unknown input %q %s%s", name, b.where, hint)
			return
		}
		c.errorf(n, "unknown input %q %s; use one of %s, or remove input: for a message without an answer",
			name, b.where, strings.Join(kinds, ", "))
		return
	}
	b.s.Input = InputKind(i + 1)
}

// options compiles `buttons:` or `choices:` and infers input: choice.
func (c *compiler) options(b *stepBuild) {
	buttons, choices := b.f.get("buttons"), b.f.get("choices")
	explicit := b.f.get("input") != nil
	switch {
	case buttons != nil && choices != nil:
		c.errorf(b.f.keyNode("choices"), "step %q has both buttons: and choices:; keep buttons: when options need next/tag/untag, else choices:", b.s.ID)
		fallthrough
	case buttons != nil:
		b.optKind = "button"
		c.optionList(b, buttons, buttonKeys)
	case choices != nil:
		b.optKind = "choice"
		c.optionList(b, choices, choiceKeys)
	default:
		if b.s.Input == InputChoice {
			c.errorf(b.f.get("input"), "step %q has input: choice but no options; add buttons: or choices:", b.s.ID)
		}
		return
	}
	if explicit && b.s.Input != InputChoice && b.s.Input != InputNone {
		c.errorf(b.f.get("input"), "step %q has %ss but input: %s; remove input: (options imply choice) or the %ss",
			b.s.ID, b.optKind, b.s.Input, b.optKind)
	}
	b.s.Input = InputChoice
}

// optionList compiles the options of a step.
func (c *compiler) optionList(b *stepBuild, n *yaml.Node, known []string) {
	key := b.optKind + "s"
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		c.errorf(n, "%s must be a list of at least one option, got %s", label(key, b.where), describe(n))
		return
	}
	texts, values := map[string]int{}, map[string]int{}
	for i, item := range n.Content {
		item = resolve(item)
		where := fmt.Sprintf("in %s %d of step %q", b.optKind, i+1, b.s.ID)
		o, next := c.option(b, item, where, known)
		if o == nil {
			continue
		}
		if first, dup := texts[o.Text]; dup {
			c.errorf(item, "%s %d of step %q repeats the text %q of %s %d; make each caption unique", b.optKind, i+1, b.s.ID, o.Text, b.optKind, first)
		} else if first, dup := values[o.Value]; dup {
			c.errorf(item, "%s %d of step %q repeats the value %q of %s %d; make each value unique", b.optKind, i+1, b.s.ID, o.Value, b.optKind, first)
		}
		texts[o.Text], values[o.Value] = i+1, i+1
		b.s.Options = append(b.s.Options, *o)
		b.optNodes = append(b.optNodes, item)
		b.optNext = append(b.optNext, next)
	}
}

// option compiles one option: a plain text or a mapping. It returns the
// option and its next: node (nil when none).
func (c *compiler) option(b *stepBuild, n *yaml.Node, where string, known []string) (*Option, *yaml.Node) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		c.commandValue(n, n.Value, where)
		return c.optionText(&Option{Text: n.Value, Value: n.Value}, n, where), nil
	}
	if n.Kind != yaml.MappingNode {
		c.errorf(n, "%s of step %q must be a text or a mapping like {text: Да, value: yes}, got %s",
			b.optKind, b.s.ID, describe(n))
		return nil, nil
	}
	f := c.optionFields(n, where, known)
	o := &Option{}
	if t := f.get("text"); t == nil {
		c.errorf(n, "%s has no text:; add the caption the client sees", strings.TrimPrefix(where, "in "))
		return nil, nil
	} else if s, ok := c.nonEmpty(t, label("text", where)); ok {
		o.Text = s
	}
	o.Value = o.Text
	if v := f.get("value"); v != nil {
		if s, ok := c.nonEmpty(v, label("value", where)); ok {
			o.Value = s
			c.commandValue(v, s, where)
		}
	}
	next := f.get("next")
	if next != nil {
		o.Next = c.stepName(next, label("next", where), where)
	}
	o.Tags = c.tagList(f.get("tag"), label("tag", where))
	o.Untags = c.tagList(f.get("untag"), label("untag", where))
	c.tagOverlap(n, o.Tags, o.Untags, where)
	return c.optionText(o, n, where), next
}

// commandValue rejects an option value with the cmd: prefix that names
// no command the engine handles (a typo would be saved as the answer).
func (c *compiler) commandValue(n *yaml.Node, v, where string) {
	if !strings.HasPrefix(v, CommandValuePrefix) {
		return
	}
	if problem := commandValueProblem(v); problem != "" {
		c.errorf(n, "the value %q %s %s", v, where, problem)
	}
}

// optionFields reads an option mapping; a choice using a button-only key
// is told to use buttons:.
func (c *compiler) optionFields(n *yaml.Node, where string, known []string) fieldSet {
	if slices.Equal(known, buttonKeys) {
		return c.fields(n, where, known)
	}
	f := fieldSet{}
	for _, p := range c.pairs(n, where, "key") {
		name := p.key.Value
		switch {
		case slices.Contains(known, name):
			f[name] = p
		case slices.Contains(buttonKeys, name):
			c.errorf(p.key, "choices cannot have %q (%s); use buttons: for options with their own next/tag/untag", name, where)
		default:
			c.unknownKey(p.key, name, where, known)
		}
	}
	return f
}

// optionText checks a caption against the platforms' limits.
func (c *compiler) optionText(o *Option, n *yaml.Node, where string) *Option {
	if utf8.RuneCountInString(o.Text) > maxButtonText {
		c.errorf(n, "the caption %q %s is longer than %d characters (VK's limit for a button); shorten it",
			o.Text, where, maxButtonText)
	}
	return o
}

// stepName reads a reference to a step and queues it for checking.
func (c *compiler) stepName(n *yaml.Node, lbl, where string) string {
	id, ok := c.nonEmpty(n, lbl)
	if !ok {
		return ""
	}
	c.refs = append(c.refs, stepRef{node: n, target: id, where: where})
	return id
}

// choiceFlags reads multiple:, done: and free_text:.
func (c *compiler) choiceFlags(b *stepBuild) {
	s := b.s
	for _, key := range []string{"multiple", "free_text"} {
		n := b.f.get(key)
		if n == nil {
			continue
		}
		v, ok := c.boolean(n, label(key, b.where))
		if v && ok && s.Input != InputChoice {
			c.errorf(n, "%s: true in step %q needs options; add buttons: or choices:, or remove %s:", key, s.ID, key)
		}
		if key == "multiple" {
			s.Multiple = v && ok
		} else {
			s.FreeText = v && ok
		}
	}
	if s.Multiple && s.FreeText {
		c.errorf(b.f.get("free_text"), "step %q cannot have both multiple: true and free_text: true; remove one", s.ID)
	}
	c.doneText(b)
	c.multiOptions(b)
}

func (c *compiler) doneText(b *stepBuild) {
	n := b.f.get("done")
	if n == nil {
		return
	}
	if !b.s.Multiple {
		c.errorf(n, "done: in step %q is the finish button of a multi-select; add multiple: true or remove done:", b.s.ID)
	}
	if s, ok := c.nonEmpty(n, label("done", b.where)); ok {
		b.s.DoneText = strings.TrimSpace(s)
	}
}

// multiOptions checks options against the done and skip captions, and a
// multi-select's options for next:.
func (c *compiler) multiOptions(b *stepBuild) {
	for i, o := range b.s.Options {
		if b.s.Multiple && o.Text == b.s.DoneText {
			c.errorf(b.optNodes[i], "%s %q of step %q has the caption of the finish button; rename it or set done: to another text", b.optKind, o.Text, b.s.ID)
		}
		if b.s.Multiple && b.optNext[i] != nil {
			c.errorf(b.optNext[i], "button %q of step %q cannot have next: because several options may be chosen; route with next: on the step, e.g. {if: '%q in answer', goto: ...}", o.Text, b.s.ID, o.Value)
		}
	}
}

// stepTags reads tag: and untag:.
func (c *compiler) stepTags(b *stepBuild) {
	b.s.Tags = c.tagList(b.f.get("tag"), label("tag", b.where))
	b.s.Untags = c.tagList(b.f.get("untag"), label("untag", b.where))
	c.tagOverlap(b.key, b.s.Tags, b.s.Untags, b.where)
}

// tagList reads a tag or a list of tags.
func (c *compiler) tagList(n *yaml.Node, lbl string) []string {
	if n == nil {
		return nil
	}
	items, _ := c.strList(n, lbl)
	var out []string
	for _, item := range items {
		tag := strings.TrimSpace(item.Value)
		switch {
		case tag == "":
			c.errorf(item, "%s has an empty tag; write a tag name or remove it", lbl)
		case slices.Contains(out, tag):
			c.errorf(item, "%s lists %q twice; remove one", lbl, tag)
		default:
			out = append(out, tag)
		}
	}
	return out
}

func (c *compiler) tagOverlap(n *yaml.Node, tags, untags []string, where string) {
	for _, t := range tags {
		if slices.Contains(untags, t) {
			c.errorf(n, "tag %q is both in tag: and untag: %s; keep it in one of them", t, where)
		}
	}
}

// flags reads end:, handoff: and skip:.
func (c *compiler) flags(b *stepBuild) {
	s := b.s
	if n := b.f.get("end"); n != nil {
		s.End, b.endOK = c.boolean(n, label("end", b.where))
	}
	c.handoff(b)
	if n := b.f.get("skip"); n != nil {
		s.Skip, _ = c.boolean(n, label("skip", b.where))
		if s.Skip && s.Input == InputNone {
			c.errorf(n, "skip: true in step %q has nothing to skip: the step asks for no answer; remove skip:", s.ID)
		}
	}
	for i, o := range s.Options {
		if s.Skip && strings.EqualFold(o.Text, c.g.SkipWord) {
			c.errorf(b.optNodes[i], "%s %q of step %q has the caption of the skip button; rename it or change skip_word:", b.optKind, o.Text, s.ID)
		}
	}
	if s.Input != InputNone && b.f.get("say") == nil {
		c.errorf(b.key, "step %q asks for %s input but has no say:; add the question text", s.ID, s.Input)
	}
}

// handoff reads `handoff: true` or `handoff: "reason"`.
func (c *compiler) handoff(b *stepBuild) {
	n := b.f.get("handoff")
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b.s.Handoff, _ = c.boolean(n, label("handoff", b.where))
		return
	}
	if reason, ok := c.nonEmpty(n, label("handoff", b.where)+" (true, false or a reason)"); ok {
		b.s.Handoff, b.s.HandoffReason = true, strings.TrimSpace(reason)
	}
}
