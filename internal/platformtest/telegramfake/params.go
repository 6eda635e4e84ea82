package telegramfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
)

// params are a call's parameters; object and array values keep their JSON.
type params map[string]string

// readParams reads the query string and a form, multipart or JSON body, as
// the Bot API accepts them.
func readParams(r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		return p, readJSONParams(r, p)
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, fmt.Errorf("can't parse multipart form: %w", err)
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("can't parse form: %w", err)
		}
	}
	for k, v := range r.PostForm {
		p[k] = v[0]
	}
	return p, nil
}

func readJSONParams(r *http.Request, p params) error {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		return fmt.Errorf("can't parse JSON body: %w", err)
	}
	for k, raw := range body {
		var str string
		if err := json.Unmarshal(raw, &str); err == nil {
			p[k] = str
			continue
		}
		p[k] = string(bytes.TrimSpace(raw))
	}
	return nil
}

// int64 reads an integer parameter; ok is false when it is absent.
func (p params) int64(key string) (int64, bool, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("field %q must be an integer", key)
	}
	return n, true, nil
}

// int reads an integer parameter with a default.
func (p params) int(key string, def int) (int, error) {
	n, ok, err := p.int64(key)
	if !ok || err != nil {
		return def, err
	}
	return int(n), nil
}

// bool reads a boolean parameter.
func (p params) bool(key string) bool {
	v := strings.ToLower(p[key])
	return v == "true" || v == "1"
}

// ReplyMarkup is a decoded reply_markup: an inline keyboard, a reply keyboard
// or a reply-keyboard removal.
type ReplyMarkup struct {
	InlineKeyboard  [][]InlineButton `json:"inline_keyboard,omitempty"`
	Keyboard        [][]KeyButton    `json:"keyboard,omitempty"`
	ResizeKeyboard  bool             `json:"resize_keyboard,omitempty"`
	OneTimeKeyboard bool             `json:"one_time_keyboard,omitempty"`
	RemoveKeyboard  bool             `json:"remove_keyboard,omitempty"`
}

// InlineButton is one inline keyboard button.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// KeyButton is one reply keyboard button.
type KeyButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

// IsInline reports whether m is an inline keyboard.
func (m *ReplyMarkup) IsInline() bool { return m != nil && m.InlineKeyboard != nil }

// Captions lists the captions of every button (inline or reply), in order.
func (m *ReplyMarkup) Captions() []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	for _, row := range m.Keyboard {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// readMarkup decodes and checks the reply_markup parameter (nil when absent).
func readMarkup(p params) (*ReplyMarkup, error) {
	raw, ok := p["reply_markup"]
	if !ok || raw == "" {
		return nil, nil
	}
	var m ReplyMarkup
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		return nil, errors.New("can't parse reply keyboard markup JSON object")
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errors.New("can't parse reply keyboard markup JSON object")
	}
	if _, ok := probe["inline_keyboard"]; ok && m.InlineKeyboard == nil {
		m.InlineKeyboard = [][]InlineButton{}
	}
	return &m, checkMarkup(&m)
}

func checkMarkup(m *ReplyMarkup) error {
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if err := checkInlineButton(b); err != nil {
				return err
			}
		}
	}
	for _, row := range m.Keyboard {
		for _, b := range row {
			if b.Text == "" {
				return errors.New("keyboard button text must be non-empty")
			}
		}
	}
	return nil
}

func checkInlineButton(b InlineButton) error {
	switch {
	case b.Text == "":
		return errors.New("BUTTON_TEXT_EMPTY")
	case b.URL == "" && b.CallbackData == "":
		return errors.New("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	case b.URL != "" && b.CallbackData != "":
		return errors.New("can't parse inline keyboard button: only one of the optional fields must be used")
	case len(b.CallbackData) > 64:
		return errors.New("BUTTON_DATA_INVALID")
	case b.URL != "" && !validURL(b.URL):
		return fmt.Errorf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", b.URL)
	}
	return nil
}

func validURL(u string) bool {
	for _, scheme := range []string{"http://", "https://", "tg://"} {
		if strings.HasPrefix(u, scheme) && len(u) > len(scheme) {
			return true
		}
	}
	return false
}

// TextLen is the length Telegram limits: UTF-16 code units.
func TextLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
