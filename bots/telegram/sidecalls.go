package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// answerCallback calls answerCallbackQuery with the query's id alone, the
// form the library's CallbackConfig sends for tgbotapi.NewCallback(id, ""),
// and reads only whether it succeeded. With editReplyMarkup it is a button
// press's side call, so, like sendMessage, it skips the library's generic
// request path (parameter map, sorted encoding, the answer decoded into a
// raw result). Failures are the library's, mapped by wrapError.
func (b *Bot) answerCallback(ctx context.Context, queryID string) error {
	body := make([]byte, 0, len("callback_query_id=")+len(queryID)*3)
	body = append(body, "callback_query_id="...)
	body = appendQueryEscape(body, queryID)
	return b.postCall(ctx, "answerCallbackQuery", b.answerCallbackURL, body)
}

// editReplyMarkup calls editMessageReplyMarkup on a chat's message with
// the parameters the library's EditMessageReplyMarkupConfig sends (chat_id
// and message_id when not zero, reply_markup when not nil; in the
// library's sorted order, so the body is byte for byte the library's) and
// reads only whether it succeeded, not the edited message Telegram
// returns.
func (b *Bot) editReplyMarkup(ctx context.Context, chat int64, msg int, markup *tgbotapi.InlineKeyboardMarkup) error {
	kb, err := encodeMarkup("editMessageReplyMarkup", markup)
	if err != nil {
		return err
	}
	return b.editReplyMarkupJSON(ctx, chat, msg, kb)
}

// encodeMarkup is a lean call's reply_markup as JSON, nil for none.
func encodeMarkup(method string, markup *tgbotapi.InlineKeyboardMarkup) ([]byte, error) {
	if markup == nil {
		return nil, nil
	}
	kb, err := json.Marshal(markup)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s: encode reply_markup: %w", method, err)
	}
	return kb, nil
}

// editReplyMarkupJSON is editReplyMarkup with the keyboard encoded
// already (json.Marshal of an InlineKeyboardMarkup; nil for none).
func (b *Bot) editReplyMarkupJSON(ctx context.Context, chat int64, msg int, kb []byte) error {
	body := make([]byte, 0, 64+len(kb)*3)
	sep := ""
	if chat != 0 {
		body = append(body, "chat_id="...)
		body = strconv.AppendInt(body, chat, 10)
		sep = "&"
	}
	if msg != 0 {
		body = append(body, sep+"message_id="...)
		body = strconv.AppendInt(body, int64(msg), 10)
		sep = "&"
	}
	if kb != nil {
		body = append(body, sep+"reply_markup="...)
		body = appendQueryEscape(body, kb)
	}
	return b.postCall(ctx, "editMessageReplyMarkup", b.editReplyMarkupURL, body)
}

// editMessageText calls editMessageText on a chat's message with the
// parameters the library's EditMessageTextConfig sends for
// tgbotapi.NewEditMessageText with a ReplyMarkup: chat_id and message_id
// when not zero, entities as null (the config's nil slice, which the
// library encodes), reply_markup when not nil and text, in the library's
// sorted order, so the body is byte for byte the library's. It is how the
// engine answers a multi-select's toggle; like the side calls it reads
// only whether it succeeded, not the edited message Telegram returns.
func (b *Bot) editMessageText(ctx context.Context, chat int64, msg int, text string, markup *tgbotapi.InlineKeyboardMarkup) error {
	kb, err := encodeMarkup("editMessageText", markup)
	if err != nil {
		return err
	}
	body := make([]byte, 0, 64+(len(kb)+len(text))*3)
	if chat != 0 {
		body = append(body, "chat_id="...)
		body = strconv.AppendInt(body, chat, 10)
		body = append(body, '&')
	}
	body = append(body, "entities=null"...)
	if msg != 0 {
		body = append(body, "&message_id="...)
		body = strconv.AppendInt(body, int64(msg), 10)
	}
	if kb != nil {
		body = append(body, "&reply_markup="...)
		body = appendQueryEscape(body, kb)
	}
	body = append(body, "&text="...)
	body = appendQueryEscape(body, text)
	return b.postCall(ctx, "editMessageText", b.editTextURL, body)
}

// postCall posts a form to method's URL u and returns the call's error,
// mapped as a library call's is (see sendMessage).
func (b *Bot) postCall(ctx context.Context, method, u string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var a apiAnswer
	err := b.post(ctx, u, body, &a)
	if err == nil {
		err = a.err()
	}
	return wrapError(ctx, method, b.cfg.Token, err)
}
