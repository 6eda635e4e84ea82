package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/spelling"
)

// File is a config file (CONFIG_FILE or `chathub run --config`): the bots
// one process runs, each with its own platform settings and scenarios.
// Shared settings (DATABASE_URL, REDIS_URL, HTTP_ADDR, …) stay environment
// variables. docs/CONFIG.md describes the format.
type File struct {
	// Path is the file as given.
	Path string
	// Bots are the file's bots in file order; names, tokens and webhook
	// paths are unique.
	Bots []Bot
}

// Bot is one bot of a config file.
type Bot struct {
	// Name identifies the bot: messenger.ChatKey.Bot of its chats, the
	// clients' bot column, `bot == "name"` in segments. It matches
	// BotNamePattern.
	Name     string
	Platform messenger.Platform
	// ScenariosDir is the bot's scenario directory, relative paths resolved
	// against the config file's directory.
	ScenariosDir string
	// DefaultScenario is the bot's DEFAULT_SCENARIO; empty: the scenario
	// triggered by /start.
	DefaultScenario string
	// Telegram holds the settings of a Telegram bot (Platform telegram).
	Telegram Telegram
	// VK holds the settings of a VK community bot (Platform vk).
	VK VK
}

// EnvBotName is how logs and metrics name the bot configured by
// environment variables (TELEGRAM_TOKEN, VK_TOKEN), whose chats have an
// empty messenger.ChatKey.Bot; a config file may not use it.
const EnvBotName = "default"

// BotNamePattern is what a bot name looks like.
const BotNamePattern = `^[a-z0-9][a-z0-9_-]{0,31}$`

var botName = regexp.MustCompile(BotNamePattern)

// maxFileSize bounds a config file (a few bots are a few kilobytes).
const maxFileSize = 1 << 20

// FileError is one problem in a config file, at a 1-based line and column,
// formatted "file:line:col: message" like a scenario file's problems. Its
// message never quotes a token or a secret.
type FileError = scenario.Error

// FileErrors is every problem of a config file, in file order, one per line.
type FileErrors = scenario.ErrorList

// LoadFile reads and parses the config file at path; ${VAR} references are
// expanded with getenv (os.Getenv when nil) and each bot's scenarios_dir
// must be a directory.
func LoadFile(path string, getenv func(string) string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(src) > maxFileSize {
		return nil, fmt.Errorf("config file %s: larger than %d bytes", path, maxFileSize)
	}
	return ParseFile(path, src, getenv, dirChecker(filepath.Dir(path)))
}

// DirCheck resolves a bot's scenarios_dir and checks it exists; ParseFile
// takes it so tests and fuzzing need no file system.
type DirCheck func(dir string) (resolved string, err error)

// dirChecker resolves dirs relative to base and requires a directory.
func dirChecker(base string) DirCheck {
	return func(dir string) (string, error) {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		info, err := os.Stat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return dir, fmt.Errorf("scenarios_dir %s does not exist", dir)
		case err != nil:
			return dir, fmt.Errorf("scenarios_dir %s: %w", dir, err)
		case !info.IsDir():
			return dir, fmt.Errorf("scenarios_dir %s is not a directory", dir)
		}
		return dir, nil
	}
}

// ParseFile parses a config file's content; name is used in errors. A nil
// check accepts every scenarios_dir as written. Every problem is reported,
// as FileErrors.
func ParseFile(name string, src []byte, getenv func(string) string, check DirCheck) (*File, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	p := &fileParser{name: name, getenv: getenv, check: check}
	f := p.parse(src)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *FileError) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, p.errs
	}
	return f, nil
}

// fileParser collects the problems of one file.
type fileParser struct {
	name   string
	getenv func(string) string
	check  DirCheck
	errs   FileErrors
}

func (p *fileParser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &FileError{File: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// topKeys and botKeys are the keys the file knows; platformKeys tells
// which platform a key belongs to ("" both).
var (
	topKeys = []string{"bots"}
	botKeys = map[string]messenger.Platform{
		"name": "", "platform": "", "token": "", "api_url": "", "rps": "", "scenarios_dir": "", "default_scenario": "",
		"webhook_url": messenger.Telegram, "webhook_secret": messenger.Telegram, "paid_broadcast": messenger.Telegram,
		"group_id": messenger.VK, "callback_path": messenger.VK, "callback_secret": messenger.VK,
		"confirmation_code": messenger.VK,
	}
	// secretKeys hold secrets: their values are never quoted.
	secretKeys = map[string]bool{"token": true, "webhook_secret": true, "callback_secret": true, "confirmation_code": true}
)

func (p *fileParser) parse(src []byte) *File {
	f := &File{Path: p.name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "the file is empty: list the bots under \"bots:\" (see docs/CONFIG.md)")
			return f
		}
		p.yamlError(err)
		return f
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "the file must be a mapping with a \"bots\" list")
		return f
	}
	var bots *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "bots":
			bots = v
		default:
			p.unknownKey(k, topKeys, "top-level key", "; shared settings (DATABASE_URL, REDIS_URL, HTTP_ADDR, …) are environment variables")
		}
	}
	if bots == nil {
		p.errorf(root, "missing \"bots\": list at least one bot")
		return f
	}
	if bots.Kind != yaml.SequenceNode || len(bots.Content) == 0 {
		p.errorf(bots, "\"bots\" must be a non-empty list of bots")
		return f
	}
	var parsed []parsedBot
	for _, n := range bots.Content {
		if pb, ok := p.bot(n); ok {
			parsed = append(parsed, pb)
			f.Bots = append(f.Bots, pb.Bot)
		}
	}
	p.crossCheck(parsed)
	return f
}

// yamlError turns a yaml.v3 error ("yaml: line 3: …") into a positioned one.
func (p *fileParser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	p.errs = append(p.errs, &FileError{File: p.name, Line: line, Col: 1, Msg: "invalid YAML: " + msg})
}

func (p *fileParser) unknownKey(k *yaml.Node, known []string, what, note string) {
	if hint := spelling.Closest(k.Value, known); hint != "" {
		p.errorf(k, "unknown %s %q (did you mean %q?)", what, k.Value, hint)
		return
	}
	p.errorf(k, "unknown %s %q%s", what, k.Value, note)
}

// parsedBot is a parsed bot with its mapping and value nodes, which the
// cross-checks point at.
type parsedBot struct {
	Bot
	node *yaml.Node
	vals map[string]*yaml.Node
}

// at returns the value node of key, or the bot's mapping when absent.
func (pb parsedBot) at(key string) *yaml.Node {
	if v := pb.vals[key]; v != nil {
		return v
	}
	return pb.node
}

// bot parses one bot; ok is false when it is too broken to cross-check.
func (p *fileParser) bot(n *yaml.Node) (parsedBot, bool) {
	var b Bot
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a bot must be a mapping with name, platform, token and scenarios_dir")
		return parsedBot{}, false
	}
	vals := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	known := make([]string, 0, len(botKeys))
	for k := range botKeys {
		known = append(known, k)
	}
	slices.Sort(known)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, ok := botKeys[k.Value]; !ok {
			p.unknownKey(k, known, "bot key", "")
			continue
		}
		if prev, dup := keys[k.Value]; dup {
			p.errorf(k, "%q is set twice in this bot (first at line %d)", k.Value, prev.Line)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%q must be a single value", k.Value)
			continue
		}
		keys[k.Value], vals[k.Value] = k, v
	}
	str := func(key string) string {
		v := vals[key]
		if v == nil {
			return ""
		}
		return p.expand(v, key)
	}
	b.Name = str("name")
	switch {
	case vals["name"] == nil:
		p.errorf(n, "bot without a name: add name: (lower-case letters, digits, _ and -)")
	case !botName.MatchString(b.Name):
		p.errorf(vals["name"], "bot name %q: use 1-32 of a-z 0-9 _ - starting with a letter or digit", b.Name)
	case b.Name == EnvBotName:
		p.errorf(vals["name"], "bot name %q is reserved for the bot of TELEGRAM_TOKEN / VK_TOKEN: pick another", b.Name)
	}
	plat := str("platform")
	b.Platform = messenger.Platform(plat)
	switch {
	case vals["platform"] == nil:
		p.errorf(n, "bot %s: missing platform: telegram or vk", b.Name)
	case b.Platform != messenger.Telegram && b.Platform != messenger.VK:
		if hint := spelling.Closest(plat, []string{"telegram", "vk"}); hint != "" {
			p.errorf(vals["platform"], "unknown platform %q (did you mean %q?)", plat, hint)
		} else {
			p.errorf(vals["platform"], "unknown platform %q: telegram or vk", plat)
		}
		b.Platform = ""
	}
	for key, kn := range keys {
		if owner := botKeys[key]; owner != "" && b.Platform != "" && owner != b.Platform {
			p.errorf(kn, "%q is a %s setting; this bot's platform is %s", key, owner, b.Platform)
		}
	}
	before := len(p.errs)
	token := str("token")
	if vals["token"] == nil || token == "" && len(p.errs) == before { // an unset ${VAR} is reported already
		p.errorf(n, "bot %s: missing token (write token: ${SOME_VAR} to read it from the environment)", b.Name)
	}
	before = len(p.errs)
	b.ScenariosDir = str("scenarios_dir")
	if vals["scenarios_dir"] == nil || b.ScenariosDir == "" && len(p.errs) == before {
		p.errorf(n, "bot %s: missing scenarios_dir: the directory of this bot's scenario files", b.Name)
	} else if p.check != nil && b.ScenariosDir != "" {
		dir, err := p.check(b.ScenariosDir)
		if err != nil {
			p.errorf(vals["scenarios_dir"], "%v", err)
		}
		b.ScenariosDir = dir
	}
	b.DefaultScenario = str("default_scenario")
	rps := p.intVal(vals["rps"], "rps")
	switch b.Platform {
	case messenger.Telegram:
		b.Telegram = Telegram{Token: token, APIURL: "https://api.telegram.org", RequestsPerSecond: DefaultTelegramRPS,
			WebhookURL: str("webhook_url"), WebhookSecret: str("webhook_secret")}
		if v := str("api_url"); v != "" {
			b.Telegram.APIURL = v
		}
		if v := vals["paid_broadcast"]; v != nil {
			paid, err := strconv.ParseBool(p.expand(v, "paid_broadcast"))
			if err != nil {
				p.errorf(v, "paid_broadcast must be true or false")
			}
			b.Telegram.PaidBroadcast = paid
		}
		if rps != nil {
			b.Telegram.RequestsPerSecond = *rps
			if *rps < 1 || *rps > MaxTelegramRPS {
				p.errorf(vals["rps"], "rps must be 1..%d messages per second (Telegram's limit for a bot; paid_broadcast: true for more)", MaxTelegramRPS)
			}
		}
		if b.Telegram.WebhookURL != "" {
			p.checkURL(vals["webhook_url"], "webhook_url", b.Telegram.WebhookURL)
			if b.Telegram.WebhookSecret == "" {
				p.errorf(vals["webhook_url"], "bot %s has a webhook_url: set webhook_secret too (1-256 of A-Z a-z 0-9 _ -)", b.Name)
			}
		}
		p.checkURL(vals["api_url"], "api_url", b.Telegram.APIURL)
	case messenger.VK:
		b.VK = VK{Token: token, APIURL: "https://api.vk.com/method/", RequestsPerSecond: 20,
			CallbackPath: str("callback_path"), CallbackSecret: str("callback_secret"), ConfirmationCode: str("confirmation_code")}
		if v := str("api_url"); v != "" {
			b.VK.APIURL = v
		}
		p.checkURL(vals["api_url"], "api_url", b.VK.APIURL)
		if g := p.intVal(vals["group_id"], "group_id"); g != nil {
			b.VK.GroupID = *g
		}
		if b.VK.GroupID <= 0 {
			at := vals["group_id"]
			if at == nil {
				at = n
			}
			p.errorf(at, "bot %s: group_id must be the community id (a positive number)", b.Name)
		}
		if rps != nil {
			b.VK.RequestsPerSecond = *rps
			if *rps < 1 || *rps > 1000 {
				p.errorf(vals["rps"], "rps must be 1..1000 requests per second")
			}
		}
		if cp := b.VK.CallbackPath; cp != "" {
			if !strings.HasPrefix(cp, "/") {
				p.errorf(vals["callback_path"], "callback_path must start with /")
			}
			if b.VK.CallbackSecret == "" || b.VK.ConfirmationCode == "" {
				p.errorf(vals["callback_path"], "bot %s has a callback_path: set callback_secret and confirmation_code from the community's Callback API settings", b.Name)
			}
		}
	}
	return parsedBot{Bot: b, node: n, vals: vals}, vals["name"] != nil
}

// expand replaces ${VAR} in v's value with the environment's value; an
// unset (or empty) variable is an error naming it. Values of secret keys
// are never quoted in errors.
func (p *fileParser) expand(v *yaml.Node, key string) string {
	s := v.Value
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			p.errorf(v, "%s: unterminated ${ (write ${NAME})", key)
			return ""
		}
		name := s[i+2 : i+end]
		if !envName.MatchString(name) {
			p.errorf(v, "%s: ${%s} is not a variable name (letters, digits and _)", key, name)
			return ""
		}
		val := p.getenv(name)
		if val == "" {
			p.errorf(v, "%s: environment variable %s is not set", key, name)
			return ""
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
	return strings.TrimSpace(b.String())
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// intVal parses an integer value; nil when absent or invalid (reported).
func (p *fileParser) intVal(v *yaml.Node, key string) *int {
	if v == nil {
		return nil
	}
	s := p.expand(v, key)
	n, err := strconv.Atoi(s)
	if err != nil {
		if !secretKeys[key] {
			p.errorf(v, "%s must be a whole number, got %q", key, s)
		}
		return nil
	}
	return &n
}

// checkURL requires an absolute http(s) URL.
func (p *fileParser) checkURL(v *yaml.Node, key, s string) {
	if v == nil || s == "" {
		return
	}
	u, err := url.Parse(strings.ReplaceAll(s, "%s", "x")) // Telegram's "/bot%s/%s" form is accepted
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.errorf(v, "%s must be an http(s) URL like https://example.com/path", key)
	}
}

// crossCheck reports what two bots may not share: a name, a token, a VK
// community or a webhook path on the one HTTP server.
func (p *fileParser) crossCheck(bots []parsedBot) {
	names := map[string]*yaml.Node{}
	tokens := map[string]string{}
	groups := map[int]string{}
	paths := map[string]string{}
	for _, b := range bots {
		if prev, dup := names[b.Name]; dup && b.Name != "" {
			p.errorf(b.at("name"), "duplicate bot name %q (first at line %d)", b.Name, prev.Line)
		} else {
			names[b.Name] = b.at("name")
		}
		if token := b.Telegram.Token + b.VK.Token; token != "" {
			if other, dup := tokens[token]; dup {
				p.errorf(b.at("token"), "bot %s has the same token as bot %s: each bot needs its own", b.Name, other)
			} else {
				tokens[token] = b.Name
			}
		}
		if b.Platform == messenger.VK && b.VK.GroupID > 0 {
			if other, dup := groups[b.VK.GroupID]; dup {
				p.errorf(b.at("group_id"), "bot %s is the same VK community (group_id %d) as bot %s", b.Name, b.VK.GroupID, other)
			} else {
				groups[b.VK.GroupID] = b.Name
			}
		}
		path, key := "", ""
		switch {
		case b.Platform == messenger.Telegram && b.Telegram.WebhookURL != "":
			path, key = WebhookPath(b.Telegram.WebhookURL), "webhook_url"
		case b.Platform == messenger.VK && b.VK.CallbackPath != "":
			path, key = b.VK.CallbackPath, "callback_path"
		}
		if path != "" {
			if other, dup := paths[path]; dup {
				p.errorf(b.at(key), "bot %s serves path %s like bot %s: give each bot its own webhook path", b.Name, path, other)
			} else {
				paths[path] = b.Name
			}
		}
	}
}

// WebhookPath is the path of a Telegram webhook URL served on HTTP_ADDR
// ("/" when it has none), as the adapter serves it.
func WebhookPath(webhookURL string) string {
	u, err := url.Parse(webhookURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}
