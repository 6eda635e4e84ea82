package broadcast

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

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
	if err := t.checkFields(); err != nil {
		return nil, err
	}
	scenario.EmptyForMissing(tmpl)
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

// checkFields refuses names the card does not hold, with the checker of
// scenario texts (position and "did you mean"), and notes whether the text
// may differ per recipient: whenever it mentions "client" at all (also as
// $.client or inside {{with}}), as the dialog engine decides when to build
// the card.
func (t *Template) checkFields() error {
	if errs := scenario.CheckTemplateNames(t.src, t.tmpl, scenario.NameScope{}); len(errs) > 0 {
		e := errs[0]
		if e.Offset >= 0 {
			line, col := textPosition(t.src, e.Offset)
			return invalid("text", "%d:%d: %s", line, col, e.Msg)
		}
		return invalid("text", "%s", e.Msg)
	}
	t.personal = strings.Contains(t.src, "client")
	return nil
}

// textPosition converts a byte offset of src into a 1-based line and
// column (in characters).
func textPosition(src string, off int) (line, col int) {
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return strings.Count(src[:off], "\n") + 1, utf8.RuneCountInString(src[start:off]) + 1
}
