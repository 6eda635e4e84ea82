package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Keys allowed at each level of a scenario file (the schema lists the same).
var (
	topKeys      = []string{"id", "title", "description", "triggers", "start", "skip_word", "vars", "steps"}
	triggerKeys  = []string{"commands", "keywords", "payloads"}
	stepKeys     = []string{"say", "input", "buttons", "choices", "multiple", "done", "free_text", "validate", "save", "tag", "untag", "next", "end", "handoff", "skip", "remind"}
	buttonKeys   = []string{"text", "value", "next", "tag", "untag"}
	choiceKeys   = []string{"text", "value"}
	validateKeys = []string{"min", "max", "integer", "min_len", "max_len", "regex", "min_date", "max_date", "error"}
	branchKeys   = []string{"if", "goto"}
)

// topLevel names the top of a file in messages.
const topLevel = "at the top level"

// extensionKey reports a top-level key the loader ignores: "x-..." keys
// hold YAML anchors shared by steps (x-yes-no: &yesno [...]). The schema
// allows the same keys with extensionKeyPattern.
func extensionKey(name string) bool { return strings.HasPrefix(name, "x-") }

// extensionKeyPattern is extensionKey as a JSON Schema pattern.
const extensionKeyPattern = "^x-"

// Defaults for optional keys.
const (
	DefaultSkipWord = "Пропустить"
	DefaultDoneText = "Готово"
)

var (
	scenarioIDRe = regexp.MustCompile(`^[a-z0-9_-]+$`)
	stepIDRe     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	varNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	yamlLineRe   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// compiler turns one file into a Graph, collecting every problem.
type compiler struct {
	file string
	src  []byte
	errs ErrorList
	g    *Graph
	// refs are the step references to check once all steps are known.
	refs []stepRef
	// texts are the templates to try against sample data.
	texts []textRef
	// conds are the conditions whose names to check.
	conds []condRef
}

// stepRef is a reference to a step (start, next, goto, a button's next).
type stepRef struct {
	node   *yaml.Node
	target string
	where  string // e.g. `in next: of step "age"`
}

// Load compiles one scenario file. file names it in errors; src is its
// content (copied into Graph.Source). Every problem found is returned at
// once as an ErrorList.
func Load(file string, src []byte) (*Graph, error) {
	c := &compiler{file: file, src: bytes.Clone(src)}
	g := c.run()
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

func (c *compiler) run() *Graph {
	root := c.parse()
	if root == nil {
		return nil
	}
	if !c.isMapping(root, "a scenario file") {
		return nil
	}
	c.g = &Graph{
		File:     c.file,
		Source:   c.src,
		Version:  versionOf(c.src),
		SkipWord: DefaultSkipWord,
		Vars:     map[string]any{},
		Steps:    map[string]*Step{},
	}
	c.top(root)
	return c.g
}

// versionOf is the first 16 hex chars of the sha256 of src.
func versionOf(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])[:16]
}

// parse decodes src into its root node, recording syntax errors.
func (c *compiler) parse() (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil {
			c.errs = append(c.errs, &Error{File: c.file, Line: 1, Col: 1,
				Msg: fmt.Sprintf("the YAML parser failed (%v); check the file's syntax", r)})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(c.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		c.syntaxError(err)
		return nil
	}
	if len(doc.Content) == 0 {
		c.errorf(nil, "the file is empty; a scenario needs at least id: and steps:")
		return nil
	}
	if !c.singleDocument(dec) {
		return nil
	}
	if expandedSize(&doc, maxNodes) > maxNodes {
		c.errorf(nil, "the file has more than %d values once its aliases (*name) are expanded; use fewer or non-recursive anchors", maxNodes)
		return nil
	}
	return resolve(doc.Content[0])
}

// singleDocument reports a second YAML document (after ---).
func (c *compiler) singleDocument(dec *yaml.Decoder) bool {
	var extra yaml.Node
	err := dec.Decode(&extra)
	switch {
	case errors.Is(err, io.EOF):
		return true
	case err != nil:
		c.syntaxError(err)
	default:
		c.errorf(&extra, "a file holds one scenario; move this second document (after ---) to a file of its own")
	}
	return false
}

// syntaxError records a yaml.v3 parse error at the line it names.
func (c *compiler) syntaxError(err error) {
	line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	}
	// yaml.v3 names the line where the enclosing block starts (0-based for
	// parser errors); the first line whose addition breaks the parse is
	// where the operator has to look.
	if bad := firstBadLine(c.src); bad > 0 {
		line = bad
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: 1,
		Msg: fmt.Sprintf("YAML syntax error: %s; check indentation, colons and quotes", msg)})
}

// top compiles the top-level keys.
func (c *compiler) top(root *yaml.Node) {
	const where = topLevel
	f := c.fields(root, where, topKeys, extensionKey)
	c.scenarioID(root, f)
	for key, dst := range map[string]*string{"title": &c.g.Title, "description": &c.g.Description} {
		if n := f.get(key); n != nil && !isNull(n) {
			*dst, _ = c.text(n, label(key, where))
		}
	}
	if n := f.get("skip_word"); n != nil {
		if s, ok := c.nonEmpty(n, label("skip_word", where)); ok {
			c.g.SkipWord = strings.TrimSpace(s)
		}
	}
	if n := f.get("triggers"); n != nil && !isNull(n) {
		c.triggers(n)
	}
	if n := f.get("vars"); n != nil && !isNull(n) {
		c.vars(n)
	}
	c.steps(root, f.get("steps"))
	c.start(f)
	if len(c.g.Order) > 0 {
		c.checkGraph()
		c.checkTexts()
	}
}

func (c *compiler) scenarioID(root *yaml.Node, f fieldSet) {
	n := f.get("id")
	if n == nil {
		c.errorf(root, "missing id: add `id: <name>` (lower-case latin letters, digits, _ or -) at the top of the file")
		return
	}
	id, ok := c.nonEmpty(n, label("id", topLevel))
	if !ok {
		return
	}
	if !scenarioIDRe.MatchString(id) {
		c.errorf(n, "id %q may hold only lower-case latin letters, digits, _ and -; rename it, e.g. %q", id, slug(id))
		return
	}
	c.g.ID = id
	c.g.idPos = Pos{Line: n.Line, Col: n.Column}
}

// slug suggests an id made of the allowed characters.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "my_scenario"
	}
	return b.String()
}

func (c *compiler) vars(n *yaml.Node) {
	if !c.isMapping(n, "vars:") {
		return
	}
	for _, p := range c.pairs(n, "in vars:", "variable") {
		name := p.key.Value
		if !varNameRe.MatchString(name) {
			c.errorf(p.key, "variable name %q in vars: may hold only latin letters, digits and _ and must not start with a digit; rename it", name)
			continue
		}
		var v any
		if err := p.val.Decode(&v); err != nil {
			c.errorf(p.val, "variable %q in vars: cannot be read: %v; use a text, a number, a list or a mapping", name, err)
			continue
		}
		c.g.Vars[name] = v
	}
}

// steps compiles every step in file order.
func (c *compiler) steps(root, n *yaml.Node) {
	if n == nil || isNull(n) {
		c.errorf(root, "missing steps: add `steps:` with at least one step")
		return
	}
	if !c.isMapping(n, "steps:") {
		return
	}
	for _, p := range c.pairs(n, "in steps:", "step id") {
		id := p.key.Value
		if !stepIDRe.MatchString(id) {
			c.errorf(p.key, "step id %q may hold only latin letters, digits, _ and -; rename it, e.g. %q", id, slug(id))
		}
		c.g.Steps[id] = c.step(id, p.key, p.val)
		c.g.Order = append(c.g.Order, id)
	}
	if len(c.g.Order) == 0 {
		c.errorf(n, "steps: is empty; add at least one step")
	}
}

// start resolves `start:` (default: the first step).
func (c *compiler) start(f fieldSet) {
	n := f.get("start")
	if n == nil {
		if len(c.g.Order) > 0 {
			c.g.Start = c.g.Order[0]
		}
		return
	}
	if id, ok := c.nonEmpty(n, label("start", topLevel)); ok {
		c.g.Start = id
		c.refs = append(c.refs, stepRef{node: n, target: id, where: "in start:"})
	}
}

// LoadDir compiles every *.yaml and *.yml file of dir (not its
// subdirectories; names starting with "." are skipped), in name order. It
// also reports a scenario id or trigger used by more than one file, at the
// later file. The graphs of valid files are returned even when others fail;
// the error is an ErrorList of every problem (or an I/O error).
func LoadDir(dir string) ([]*Graph, error) {
	files, err := scenarioFiles(dir)
	if err != nil {
		return nil, err
	}
	var (
		graphs []*Graph
		errs   ErrorList
		seen   = newTriggerIndex()
	)
	for _, file := range files {
		g, err := loadFile(file)
		if err == nil {
			err = seen.add(g)
		}
		if err != nil {
			if !appendErrors(&errs, err) {
				return nil, err
			}
			continue
		}
		graphs = append(graphs, g)
	}
	return graphs, errs.Err()
}

// appendErrors adds err's problems to errs; false when err is not an
// ErrorList or *Error.
func appendErrors(errs *ErrorList, err error) bool {
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
		*errs = append(*errs, list...)
	case errors.As(err, &one):
		*errs = append(*errs, one)
	default:
		return false
	}
	return true
}

// loadFile reads and compiles one file.
func loadFile(file string) (*Graph, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("scenario: read %s: %w", file, err)
	}
	return Load(file, src)
}

// scenarioFiles lists dir's scenario files, sorted.
func scenarioFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("scenario: read directory %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		if isScenarioFile(e.Name()) && !e.IsDir() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(files)
	return files, nil
}

// isScenarioFile reports whether a directory entry name is a scenario file:
// *.yaml or *.yml, not hidden (editors' temporary files start with "."),
// and not a scenario test (*.test.yaml, see internal/scenariotest).
func isScenarioFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	if strings.HasSuffix(strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name))), ".test") {
		return false
	}
	return ext == ".yaml" || ext == ".yml"
}

// FirstBadLine returns the line of a YAML syntax error in src: the
// smallest n such that the first n lines of src do not parse (binary
// search), or 0 when src parses. yaml.v3's own errors name the line where
// the enclosing block starts; this is where the author has to look.
func FirstBadLine(src []byte) int { return firstBadLine(src) }

// firstBadLine returns the smallest n such that the first n lines of src do
// not parse (binary search), or 0 when src parses.
func firstBadLine(src []byte) int {
	ends := lineEnds(src)
	if !parseFails(src) {
		return 0
	}
	lo, hi := 1, len(ends)
	for lo < hi {
		mid := (lo + hi) / 2
		if parseFails(src[:ends[mid-1]]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// lineEnds lists the offset just after each line of src.
func lineEnds(src []byte) []int {
	var ends []int
	for i, b := range src {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		ends = append(ends, len(src))
	}
	return ends
}

// parseFails reports whether src has a YAML syntax error.
func parseFails(src []byte) (failed bool) {
	defer func() {
		if recover() != nil {
			failed = true
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			return true
		}
	}
}
