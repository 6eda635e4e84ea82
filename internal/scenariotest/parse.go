package scenariotest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/spelling"
)

// Scenarios are the scenarios test files are checked against and run with
// (scenario.Registry implements it).
type Scenarios interface {
	Get(id string) (*scenario.Graph, bool)
	// All returns the scenarios sorted by id.
	All() []*scenario.Graph
}

// The keys of each level of a test file.
var (
	topKeys     = []string{"scenario", "now", "cases"}
	caseKeys    = []string{"name", "scenario", "begin", "profile", "now", "steps"}
	stepKeys    = []string{"say", "press", "contact", "expect"}
	expectKeys  = []string{"bot", "not_bot", "buttons", "no_reply", "scenario", "step", "ended", "handoff", "fields", "tags", "no_tags"}
	profileKeys = []string{"first_name", "last_name", "username", "language"}
)

// ParseFile reads and parses the test file at path.
func ParseFile(path string, scenarios Scenarios) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	return Parse(path, src, scenarios)
}

// Parse parses test file src (named file in errors) and checks it against
// scenarios: unknown keys, scenarios, steps, fields and variables are
// errors. The error is a scenario.ErrorList of every problem, each at its
// file:line:col.
func Parse(file string, src []byte, scenarios Scenarios) (*File, error) {
	p := &parser{reader: reader{file: file}, scenarios: scenarios, src: src}
	for _, g := range scenarios.All() {
		p.ids = append(p.ids, g.ID)
	}
	f := &File{Path: file}
	if root := p.parse(src); root != nil {
		p.top(root, f)
	}
	if err := p.errs.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// parser is the state of one Parse.
type parser struct {
	reader
	scenarios Scenarios
	ids       []string
	src       []byte
	// fileScenario and fileNow are the file's defaults for its cases;
	// hasScenario tells that the file names one (perhaps a wrong one).
	fileScenario string
	hasScenario  bool
	fileNow      time.Time
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// parse decodes src into its root mapping node, recording syntax errors.
func (p *parser) parse(src []byte) (root *yaml.Node) {
	defer func() {
		if rec := recover(); rec != nil {
			p.errorf(nil, "the YAML parser failed (%v); check the file's syntax", rec)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "the file is empty; a test file needs cases:")
			return nil
		}
		p.syntaxError(err)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntaxError(err)
		return nil
	default:
		p.errorf(&extra, "a test file holds one YAML document; move this second one (after ---) to a file of its own")
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(nil, "the file is empty; a test file needs cases:")
		return nil
	}
	if expandedSize(&doc, maxNodes) > maxNodes {
		p.errorf(nil, "the file has more than %d values once its aliases (*name) are expanded; use fewer anchors", maxNodes)
		return nil
	}
	return resolve(doc.Content[0])
}

// syntaxError records a yaml.v3 error at the line it names.
func (p *parser) syntaxError(err error) {
	line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	}
	if bad := scenario.FirstBadLine(p.src); bad > 0 {
		line = bad
	}
	p.errs = append(p.errs, &scenario.Error{File: p.file, Line: line, Col: 1,
		Msg: fmt.Sprintf("YAML syntax error: %s; check indentation, colons and quotes", msg)})
}

const topLevel = "at the top level"

// top reads the file's keys.
func (p *parser) top(root *yaml.Node, f *File) {
	fs, ok := p.mapping(root, "a test file", topLevel, topKeys, func(k string) bool { return strings.HasPrefix(k, "x-") })
	if !ok {
		return
	}
	if n := fs.get("scenario"); n != nil {
		p.hasScenario = true
		p.fileScenario, _ = p.scenarioID(n, "scenario: "+topLevel)
	}
	p.fileNow = DefaultNow
	if n := fs.get("now"); n != nil {
		if t, ok := p.time(n, "now: "+topLevel); ok {
			p.fileNow = t
		}
	}
	n := fs.get("cases")
	if n == nil {
		p.errorf(root, "a test file needs cases: a list of test cases, each with name: and steps:")
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "cases: must be a list of test cases, each with name: and steps:, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		p.errorf(n, "cases: is empty; add at least one test case with name: and steps:")
		return
	}
	names := map[string]int{}
	for _, item := range n.Content {
		if c := p.testCase(resolve(item), names); c != nil {
			f.Cases = append(f.Cases, c)
		}
	}
}

// scenarioID reads a scenario id that must be loaded.
func (p *parser) scenarioID(n *yaml.Node, label string) (string, bool) {
	id, ok := p.nonEmpty(n, label)
	if !ok {
		return "", false
	}
	if _, found := p.scenarios.Get(id); found {
		return id, true
	}
	switch m := spelling.Closest(id, p.ids); {
	case len(p.ids) == 0:
		p.errorf(n, "unknown scenario %q in %s: no scenarios are loaded (keep test files in the tests/ folder of their scenario directory, or name it with --scenarios)", id, label)
	case m != "":
		p.errorf(n, "unknown scenario %q in %s; did you mean %q?", id, label, m)
	default:
		p.errorf(n, "unknown scenario %q in %s; the loaded scenarios are: %s", id, label, strings.Join(p.ids, ", "))
	}
	return "", false
}

// time reads an RFC 3339 time.
func (p *parser) time(n *yaml.Node, label string) (time.Time, bool) {
	s, ok := p.text(n, label)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.errorf(n, "%s must be a time like 2025-06-04T12:00:00+03:00, got %q", label, s)
		return time.Time{}, false
	}
	return t, true
}

// testCase reads one case; nil when it is unusable.
func (p *parser) testCase(n *yaml.Node, names map[string]int) *Case {
	fs, ok := p.mapping(n, "a test case", "in a test case", caseKeys, nil)
	if !ok {
		return nil
	}
	c := &Case{Pos: pos(n), Scenario: p.fileScenario, Begin: true, Now: p.fileNow}
	if nn := fs.get("name"); nn == nil {
		p.errorf(n, "a test case needs name: (it names the case in failures and in --run)")
	} else if c.Name, ok = p.nonEmpty(nn, "name: of a test case"); ok {
		if first, dup := names[c.Name]; dup {
			p.errorf(nn, "duplicate test case name %q (first at line %d); give each case its own name", c.Name, first)
		}
		names[c.Name] = nn.Line
	}
	where := fmt.Sprintf("in case %q", c.Name)
	if sn := fs.get("scenario"); sn != nil {
		c.Scenario, _ = p.scenarioID(sn, "scenario: "+where)
	} else if !p.hasScenario {
		p.errorf(n, "case %q names no scenario; add scenario: <id> to it or at the top of the file", c.Name)
	}
	if bn := fs.get("begin"); bn != nil {
		c.Begin, _ = p.boolean(bn, "begin: "+where)
	}
	if tn := fs.get("now"); tn != nil {
		if t, ok := p.time(tn, "now: "+where); ok {
			c.Now = t
		}
	}
	if pn := fs.get("profile"); pn != nil {
		c.Profile = p.profile(pn, where)
	}
	sn := fs.get("steps")
	if sn == nil || sn.Kind != yaml.SequenceNode || len(sn.Content) == 0 {
		p.errorf(orNode(sn, n), "case %q needs steps: a list of what the client does (say:, press:, contact:) and what is expected (expect:)", c.Name)
		return nil
	}
	for _, item := range p.spliced(sn, 0) {
		if s := p.step(item, c, len(c.Steps)+1); s != nil {
			c.Steps = append(c.Steps, s)
		}
	}
	return c
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// spliced lists a steps: list with the lists inside it spliced in, so an
// anchored list of steps (*consent) can open several cases.
func (p *parser) spliced(n *yaml.Node, depth int) []*yaml.Node {
	if depth > maxAliasDepth {
		p.errorf(n, "lists of steps nest too deeply; splice at most %d levels", maxAliasDepth)
		return nil
	}
	var out []*yaml.Node
	for _, item := range n.Content {
		item = resolve(item)
		if item != nil && item.Kind == yaml.SequenceNode {
			out = append(out, p.spliced(item, depth+1)...)
			continue
		}
		out = append(out, item)
	}
	return out
}

// profile reads what the platform tells about the client.
func (p *parser) profile(n *yaml.Node, where string) *messenger.Profile {
	fs, ok := p.mapping(n, "profile: "+where, "in profile: "+where, profileKeys, nil)
	if !ok {
		return nil
	}
	pr := &messenger.Profile{}
	for key, dst := range map[string]*string{"first_name": &pr.FirstName, "last_name": &pr.LastName,
		"username": &pr.Username, "language": &pr.Language} {
		if v := fs.get(key); v != nil {
			*dst, _ = p.text(v, key+": in profile: "+where)
		}
	}
	return pr
}

// step reads step number num of case c.
func (p *parser) step(n *yaml.Node, c *Case, num int) *Step {
	where := fmt.Sprintf("in step %d of case %q", num, c.Name)
	fs, ok := p.mapping(n, "a step", where, stepKeys, nil)
	if !ok {
		return nil
	}
	s := &Step{N: num, Pos: pos(n)}
	var actions []string
	for _, a := range []struct {
		key  string
		kind ActionKind
	}{{"say", ActionSay}, {"press", ActionPress}, {"contact", ActionContact}} {
		v := fs.get(a.key)
		if v == nil {
			continue
		}
		actions = append(actions, a.key+":")
		s.Action, s.TextPos = a.kind, pos(v)
		s.Text, _ = p.nonEmpty(v, a.key+": "+where)
	}
	if len(actions) > 1 {
		p.errorf(n, "step %d of case %q does %s at once; give each its own step", num, c.Name, strings.Join(actions, " and "))
	}
	e := fs.get("expect")
	if e == nil && len(actions) == 0 {
		if len(n.Content) == 0 { // else its unknown keys are reported
			p.errorf(n, "step %d of case %q does nothing; add say:, press: or contact:, and expect:", num, c.Name)
		}
		return nil
	}
	if e != nil {
		s.Checks = p.expect(e, c, where)
	}
	return s
}

// expect reads an expect: mapping into checks.
func (p *parser) expect(n *yaml.Node, c *Case, where string) []Check {
	fs, ok := p.mapping(n, "expect: "+where, "in expect: "+where, expectKeys, nil)
	if !ok {
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "expect: %s is empty; say what the bot should do (bot:, buttons:, step:, fields: …)", where)
		return nil
	}
	var out []Check
	add := func(kind CheckKind, v *yaml.Node, text string) {
		out = append(out, Check{Kind: kind, Pos: pos(v), Text: text})
	}
	for _, key := range []string{"bot", "not_bot", "tags", "no_tags"} {
		v := fs.get(key)
		if v == nil {
			continue
		}
		kind := map[string]CheckKind{"bot": CheckBot, "not_bot": CheckNotBot, "tags": CheckTag, "no_tags": CheckNoTag}[key]
		items, _ := p.texts(v, key+": "+where)
		for _, it := range items {
			add(kind, it, it.Value)
		}
	}
	if v := fs.get("buttons"); v != nil {
		out = append(out, p.buttons(v, where))
	}
	for _, key := range []string{"no_reply", "ended", "handoff"} {
		v := fs.get(key)
		if v == nil {
			continue
		}
		b, ok := p.boolean(v, key+": "+where)
		if !ok {
			continue
		}
		kind := map[string]CheckKind{"no_reply": CheckNoReply, "ended": CheckEnded, "handoff": CheckHandoff}[key]
		if kind == CheckNoReply && !b {
			p.errorf(v, "no_reply: false checks nothing; remove it, or expect bot: text")
			continue
		}
		out = append(out, Check{Kind: kind, Pos: pos(v), Bool: b})
	}
	sc := c.Scenario
	if v := fs.get("scenario"); v != nil {
		if id, ok := p.scenarioID(v, "scenario: "+where); ok {
			sc = id
			add(CheckScenario, v, id)
		}
	}
	if v := fs.get("step"); v != nil {
		if chk, ok := p.stepCheck(v, sc, where); ok {
			out = append(out, chk)
		}
	}
	if v := fs.get("fields"); v != nil {
		out = append(out, p.fieldChecks(v, sc, where)...)
	}
	p.conflicts(fs, where)
	return out
}

// buttons reads the buttons the client is expected to see.
func (p *parser) buttons(v *yaml.Node, where string) Check {
	chk := Check{Kind: CheckButtons, Pos: pos(v), List: []string{}}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "buttons: %s must be a list of captions ([] for none), got %s", where, describe(v))
		return chk
	}
	items, _ := p.texts(v, "buttons: "+where)
	for _, it := range items {
		chk.List = append(chk.List, it.Value)
	}
	return chk
}

// stepCheck reads step: — a step id of scenario sc.
func (p *parser) stepCheck(v *yaml.Node, sc, where string) (Check, bool) {
	id, ok := p.nonEmpty(v, "step: "+where)
	if !ok {
		return Check{}, false
	}
	g, found := p.scenarios.Get(sc)
	if !found {
		return Check{}, false // the unknown scenario is reported already
	}
	if _, known := g.Steps[id]; !known {
		if m := spelling.Closest(id, g.Order); m != "" {
			p.errorf(v, "unknown step %q of scenario %q in step: %s; did you mean %q?", id, sc, where, m)
		} else {
			p.errorf(v, "unknown step %q of scenario %q in step: %s; its steps are: %s", id, sc, where, strings.Join(g.Order, ", "))
		}
		return Check{}, false
	}
	return Check{Kind: CheckStep, Pos: pos(v), Text: id, Scenario: sc}, true
}

// conflicts reports expectations that contradict each other.
func (p *parser) conflicts(fs fields, where string) {
	isTrue := func(key string) bool {
		v := fs.get(key)
		return v != nil && v.Tag == "!!bool" && v.Value == "true"
	}
	if isTrue("no_reply") {
		for _, key := range []string{"bot", "buttons"} {
			if v := fs.get(key); v != nil {
				p.errorf(v, "%s: %s contradicts no_reply: true; remove one of them", key, where)
			}
		}
	}
	if isTrue("ended") {
		for _, key := range []string{"step", "scenario"} {
			if v := fs.get(key); v != nil {
				p.errorf(v, "%s: %s contradicts ended: true (no conversation runs); remove one of them", key, where)
			}
		}
	}
}

// fieldNames are the client fields fields: may name besides attributes.<key>
// and vars.<name>.
func fieldNames() []string {
	return append(crm.FieldNames(), "consent")
}

// fieldChecks reads fields: — client fields and their expected values.
func (p *parser) fieldChecks(n *yaml.Node, sc, where string) []Check {
	label := "fields: " + where
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of field: value lines (first_name: Анна, attributes.interests: [fitness]), got %s", label, describe(n))
		return nil
	}
	var out []Check
	seen := map[string]int{}
	for _, pr := range p.pairs(n, "in "+label, 0) {
		name := pr.key.Value
		if first, dup := seen[name]; dup {
			p.errorf(pr.key, "duplicate field %q in %s (first at line %d); remove one of them", name, label, first)
			continue
		}
		seen[name] = pr.key.Line
		if !p.knownField(pr.key, name, sc, label) {
			continue
		}
		if v, ok := p.value(pr.val, name, label); ok {
			out = append(out, Check{Kind: CheckField, Pos: pos(pr.val), Text: name, Value: v})
		}
	}
	return out
}

// knownField reports whether name is a field a client card holds (or a
// variable scenario sc keeps), recording an error when not.
func (p *parser) knownField(k *yaml.Node, name, sc, label string) bool {
	if key, ok := strings.CutPrefix(name, crm.AttributesPrefix); ok {
		if key == "" {
			p.errorf(k, "attributes. in %s needs a key: attributes.<key>", label)
		}
		return key != ""
	}
	if v, ok := strings.CutPrefix(name, "vars."); ok {
		known := scenarioVars(p.scenarios, sc)
		if slices.Contains(known, v) {
			return true
		}
		switch m := spelling.Closest(v, known); {
		case m != "":
			p.errorf(k, "unknown variable %q of scenario %q in %s; did you mean vars.%s?", v, sc, label, m)
		case len(known) == 0:
			p.errorf(k, "unknown variable %q in %s: scenario %q has no vars: and saves none", v, label, sc)
		default:
			p.errorf(k, "unknown variable %q of scenario %q in %s; its variables are: %s", v, sc, label, strings.Join(known, ", "))
		}
		return false
	}
	names := fieldNames()
	if slices.Contains(names, name) {
		return true
	}
	if name == "tags" {
		p.errorf(k, "tags are checked with tags: and no_tags: of expect:, not in %s", label)
		return false
	}
	if m := spelling.Closest(name, names); m != "" {
		p.errorf(k, "unknown field %q in %s; did you mean %q?", name, label, m)
	} else {
		p.errorf(k, "unknown field %q in %s; use a client field (%s), attributes.<key> or vars.<name>", name, label, strings.Join(names, ", "))
	}
	return false
}

// scenarioVars are the variables of scenario sc: its vars: and the ones
// its steps save.
func scenarioVars(scenarios Scenarios, sc string) []string {
	g, ok := scenarios.Get(sc)
	if !ok {
		return nil
	}
	var out []string
	for name := range g.Vars {
		out = append(out, name)
	}
	for _, id := range g.Order {
		if t := g.Steps[id].Save; t.Kind == scenario.SaveVar && !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	slices.Sort(out)
	return out
}

// value reads an expected field value: nothing (empty), a scalar or a list.
func (p *parser) value(v *yaml.Node, name, label string) (any, bool) {
	switch {
	case isNull(v):
		return nil, true
	case v.Kind == yaml.ScalarNode:
		return v.Value, true
	case v.Kind == yaml.SequenceNode:
		items, ok := p.texts(v, name+": in "+label)
		list := make([]string, 0, len(items))
		for _, it := range items {
			list = append(list, it.Value)
		}
		return list, ok
	}
	p.errorf(v, "%s: in %s must be a value, a list or ~ (empty), got %s", name, label, describe(v))
	return nil, false
}
