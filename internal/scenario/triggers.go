package scenario

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	commandRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	payloadRe = regexp.MustCompile(`^[A-Za-z0-9_\-.:=]{1,64}\*?$`)
)

// Trigger kinds, as used in position keys and messages.
const (
	trigCommand = "command"
	trigKeyword = "keyword"
	trigPayload = "payload"
)

// NormalizeCommand turns "/Start@MyBot" into "start": the leading slash and a
// Telegram "@botname" suffix are dropped and the rest is lower-cased.
func NormalizeCommand(cmd string) string {
	cmd = strings.TrimPrefix(strings.TrimSpace(cmd), "/")
	if i := strings.IndexByte(cmd, '@'); i >= 0 {
		cmd = cmd[:i]
	}
	return strings.ToLower(cmd)
}

// NormalizeKeyword trims text and lower-cases it, as keywords are matched.
func NormalizeKeyword(text string) string {
	return strings.ToLower(strings.Join(strings.Fields(text), " "))
}

// triggers compiles `triggers:`.
func (c *compiler) triggers(n *yaml.Node) {
	const where = "in triggers:"
	if !c.isMapping(n, "triggers:") {
		return
	}
	f := c.fields(n, where, triggerKeys)
	c.g.triggerPos = map[string]Pos{}
	t := &c.g.Triggers
	t.Commands = c.triggerList(f.get("commands"), trigCommand, NormalizeCommand, c.checkCommand)
	t.Keywords = c.triggerList(f.get("keywords"), trigKeyword, NormalizeKeyword, c.checkKeyword)
	t.Payloads = c.triggerList(f.get("payloads"), trigPayload, strings.TrimSpace, c.checkPayload)
}

// triggerList reads one trigger list, normalising and checking each entry
// and reporting repeats.
func (c *compiler) triggerList(n *yaml.Node, kind string, norm func(string) string, check func(*yaml.Node, string) bool) []string {
	if n == nil || isNull(n) {
		return nil
	}
	items, _ := c.strList(n, label(kind+"s", "in triggers:"))
	var out []string
	for _, item := range items {
		v := norm(item.Value)
		if !check(item, v) {
			continue
		}
		key := kind + ":" + v
		if first, dup := c.g.triggerPos[key]; dup {
			c.errorf(item, "%s %q is listed twice in triggers: (first at line %d); remove one", kind, v, first.Line)
			continue
		}
		c.g.triggerPos[key] = Pos{Line: item.Line, Col: item.Column}
		out = append(out, v)
	}
	return out
}

func (c *compiler) checkCommand(n *yaml.Node, cmd string) bool {
	if commandRe.MatchString(cmd) {
		return true
	}
	c.errorf(n, "command %q in triggers: may hold only latin letters, digits and _ (at most 32, as Telegram requires); use keywords: for words in other scripts", n.Value)
	return false
}

func (c *compiler) checkKeyword(n *yaml.Node, kw string) bool {
	if kw != "" {
		return true
	}
	c.errorf(n, "keyword in triggers: is empty; write the word a client sends or remove it")
	return false
}

func (c *compiler) checkPayload(n *yaml.Node, p string) bool {
	if payloadRe.MatchString(p) {
		return true
	}
	c.errorf(n, "payload %q in triggers: may hold only latin letters, digits and _ - . : = (at most 64) with an optional trailing * for a prefix, as deep links allow; fix it", n.Value)
	return false
}

// triggerIndex maps scenario ids and triggers to the graph that owns them,
// detecting clashes between files.
type triggerIndex struct {
	ids      map[string]*Graph
	triggers map[string]*Graph // "command:start" → graph
}

func newTriggerIndex() *triggerIndex {
	return &triggerIndex{ids: map[string]*Graph{}, triggers: map[string]*Graph{}}
}

// add indexes g unless its id or a trigger is already taken by another
// graph; the clashes are returned as an ErrorList at g's positions.
func (x *triggerIndex) add(g *Graph) error {
	if errs := x.clashes(g); len(errs) > 0 {
		return errs.Err()
	}
	x.ids[g.ID] = g
	for _, key := range triggerKeysOf(g) {
		x.triggers[key] = g
	}
	return nil
}

// triggerKeysOf lists g's triggers as index keys ("command:start"), sorted.
func triggerKeysOf(g *Graph) []string {
	var keys []string
	for kind, list := range map[string][]string{
		trigCommand: g.Triggers.Commands, trigKeyword: g.Triggers.Keywords, trigPayload: g.Triggers.Payloads,
	} {
		for _, v := range list {
			keys = append(keys, kind+":"+v)
		}
	}
	slices.Sort(keys)
	return keys
}

// clashes lists g's id and triggers already owned by another file.
func (x *triggerIndex) clashes(g *Graph) ErrorList {
	var errs ErrorList
	if other, ok := x.ids[g.ID]; ok && other.File != g.File {
		errs = append(errs, &Error{File: g.File, Line: max(g.idPos.Line, 1), Col: max(g.idPos.Col, 1),
			Msg: fmt.Sprintf("scenario id %q is already used by %s; give this scenario another id", g.ID, filepath.Base(other.File))})
	}
	for _, key := range triggerKeysOf(g) {
		other, ok := x.triggers[key]
		if !ok || other.File == g.File {
			continue
		}
		kind, value, _ := strings.Cut(key, ":")
		p := g.triggerPos[key]
		errs = append(errs, &Error{File: g.File, Line: max(p.Line, 1), Col: max(p.Col, 1),
			Msg: fmt.Sprintf("%s %q already starts scenario %q (%s); remove it from one of the files", kind, value, other.ID, filepath.Base(other.File))})
	}
	return errs
}
