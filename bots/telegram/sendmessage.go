package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// apiAnswer is the part of every Bot API answer the lean calls read: whether
// it succeeded, or the error. The result, when the caller needs none, is
// skipped while decoding.
type apiAnswer struct {
	Ok          bool                         `json:"ok"`
	ErrorCode   int                          `json:"error_code"`
	Description string                       `json:"description"`
	Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
}

// err is the tgbotapi.Error the library builds from a failed answer (nil
// when it succeeded).
func (a *apiAnswer) err() error {
	if a.Ok {
		return nil
	}
	var p tgbotapi.ResponseParameters
	if a.Parameters != nil {
		p = *a.Parameters
	}
	return &tgbotapi.Error{Code: a.ErrorCode, Message: a.Description, ResponseParameters: p}
}

// sendMessageAnswer is the part of a sendMessage answer the bot reads: the
// sent message's id, or the error.
type sendMessageAnswer struct {
	apiAnswer
	Result struct {
		MessageID int `json:"message_id"`
	} `json:"result"`
}

// sendMessage calls sendMessage with the parameters the library's
// MessageConfig sends for a plain text message (chat_id, text,
// reply_to_message_id with allow_sending_without_reply, reply_markup) and
// returns the sent message's id. It is the inbound path's one call per
// reply, so it skips the library's generic request path: no parameter
// maps, no sorted form encoding, and the answer decoded once into the
// fields read (the library decodes it into a raw result that is then
// decoded again). Failures are the library's: a transport error, an
// undecodable answer, or a tgbotapi.Error built from the answer's
// error_code, description and parameters, mapped by wrapError.
func (b *Bot) sendMessage(ctx context.Context, chat int64, text string, markup any, replyTo int) (int, error) {
	body := make([]byte, 0, 64+len(text)*3)
	body = append(body, "chat_id="...)
	body = strconv.AppendInt(body, chat, 10)
	if text != "" {
		body = append(body, "&text="...)
		body = appendQueryEscape(body, text)
	}
	if replyTo > 0 {
		body = append(body, "&reply_to_message_id="...)
		body = strconv.AppendInt(body, int64(replyTo), 10)
		body = append(body, "&allow_sending_without_reply=true"...)
	}
	if !isNil(markup) {
		kb, err := json.Marshal(markup)
		if err != nil {
			return 0, fmt.Errorf("telegram: sendMessage: encode reply_markup: %w", err)
		}
		body = append(body, "&reply_markup="...)
		body = appendQueryEscape(body, kb)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var a sendMessageAnswer
	err := b.post(ctx, b.sendMessageURL, body, &a)
	if err == nil {
		err = a.err()
	}
	if err != nil {
		return 0, wrapError(ctx, "sendMessage", b.cfg.Token, err)
	}
	return a.Result.MessageID, nil
}

// post sends a form-encoded body to u and decodes the answer into a.
func (b *Bot) post(ctx context.Context, u string, body []byte, a any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledAnswer { // an odd huge answer is not kept
			answerBuffers.Put(buf)
		}
	}()
	buf.Reset()
	// Read to the end (the connection is then reused), into a buffer kept
	// for the next answer.
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if ok, only := a.(*apiAnswer); only && succeeded(buf.Bytes()) {
		ok.Ok = true // nothing else of the answer is read
		return nil
	}
	return json.Unmarshal(buf.Bytes(), a)
}

// okPrefix is how Telegram starts the answer of a call that succeeded.
const okPrefix = `{"ok":true`

// succeeded reports whether an answer starts as Telegram's successful ones
// do, so that a caller reading only success or failure need not decode (and
// scan) the result, such as the message an edit returns. Anything else (a
// failure, an HTML gateway page, other spacing) is decoded.
func succeeded(answer []byte) bool {
	rest, ok := bytes.CutPrefix(answer, []byte(okPrefix))
	return ok && len(rest) > 0 && (rest[0] == ',' || rest[0] == '}')
}

// maxPooledAnswer is the largest answer buffer kept for reuse; a
// sendMessage or edit answer is well under 1 KB (a few with a big keyboard).
const maxPooledAnswer = 64 << 10

// answerBuffers holds buffers for reading the lean calls' answers.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendQueryEscape appends s escaped as url.QueryEscape escapes it (a
// form value), without the intermediate string.
func appendQueryEscape[T string | []byte](dst []byte, s T) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// isNil reports whether v is nil or a nil pointer: what the library's
// Params.AddInterface leaves out.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
