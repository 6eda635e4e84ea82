package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Answers the team chat gives (Russian, as managers read them).
const (
	hintReply = "Чтобы ответить клиенту, ответьте (reply) на сообщение бота об обращении. /take — взять обращение, /done — вернуть чат боту, /done сценарий — запустить сценарий. " +
		"/link КОД — привязать свой аккаунт к пользователю консоли (код — в консоли, «Профиль»)."
	hintUnknown = "Это сообщение не относится к обращению клиента. Ответьте на карточку обращения или на пересланное сообщение клиента."
	hintText    = "Клиенту можно отправить только текст."
	answerQueue = "⏳ Ответ в очереди: платформа пока не приняла его, он уйдёт клиенту автоматически."
	answerOops  = "⚠️ Не получилось, попробуйте ещё раз через минуту или ответьте из консоли."
)

// maxManagerName caps the manager's name taken from the platform profile.
const maxManagerName = 64

// HandleUpdate handles a message of the team chat (upd.Team): a reply to a
// request's post answers the client (Service.Reply, the manager named by
// their console login when linked, else by their profile), /take takes the
// request, /done [scenario] gives the chat back to the bot, /link CODE
// (anywhere) links the author to a console login; the outcome is answered
// in the team chat as a reply to the manager's message. Chatter that is
// neither a reply to a post nor a command is left alone. Failures are answered, not returned, so the
// update is never retried (a reply is never sent twice); only a failure
// to reach the store or the team chat itself is returned.
func (tc *TeamChat) HandleUpdate(ctx context.Context, upd *messenger.Update) error {
	if !upd.Team || (upd.Kind != messenger.KindMessage && upd.Kind != messenger.KindUnsupported) {
		return nil
	}
	cmd, arg := command(upd.Text)
	if cmd == "link" {
		return tc.answer(ctx, upd, tc.link(ctx, upd, arg))
	}
	if upd.ReplyToID == "" {
		if cmd == "take" || cmd == "done" || cmd == "help" || cmd == "start" {
			return tc.answer(ctx, upd, hintReply)
		}
		return nil
	}
	req, err := tc.requestOfPost(ctx, upd.ReplyToID)
	if errors.Is(err, ErrNotFound) {
		return tc.answer(ctx, upd, hintUnknown)
	}
	if err != nil {
		return fmt.Errorf("handoff: team chat: find the post's request: %w", err)
	}
	ctx, manager, err := tc.managerOf(ctx, upd, req)
	if err != nil {
		return err
	}
	var text string
	switch {
	case cmd == "take":
		text = tc.take(ctx, req.ID, manager)
	case cmd == "done":
		text = tc.done(ctx, req.ID, manager, arg)
	case cmd == "help" || cmd == "start":
		text = hintReply
	case upd.Kind != messenger.KindMessage || strings.TrimSpace(upd.Text) == "":
		text = hintText
	default:
		text = tc.reply(ctx, req.ID, manager, upd.Text)
	}
	return tc.answer(ctx, upd, text)
}

func (tc *TeamChat) take(ctx context.Context, id int64, manager string) string {
	r, err := tc.cfg.Service.Take(ctx, id, manager)
	if err != nil {
		return tc.refusal(id, err)
	}
	return fmt.Sprintf("✅ Обращение №%d взял(а) %s.", r.ID, manager)
}

func (tc *TeamChat) done(ctx context.Context, id int64, manager, scenario string) string {
	if err := tc.cfg.Service.Return(ctx, id, manager, scenario); err != nil {
		return tc.refusal(id, err)
	}
	if scenario != "" {
		return fmt.Sprintf("↩️ Чат №%d возвращён боту (%s): запускается сценарий %s.", id, manager, scenario)
	}
	return fmt.Sprintf("↩️ Чат №%d возвращён боту (%s): бот повторит свой последний вопрос.", id, manager)
}

func (tc *TeamChat) reply(ctx context.Context, id int64, manager, text string) string {
	m, err := tc.cfg.Service.Reply(ctx, id, manager, text, tc.cfg.ReplyWait)
	if err != nil {
		return tc.refusal(id, err)
	}
	switch m.Status {
	case crm.MessageSent:
		return "✓ Отправлено клиенту."
	case crm.MessageFailed:
		return "❌ Не доставлено: " + FailureText(m.Error) + "."
	}
	return answerQueue
}

// refusal words the Service's refusal; an unexpected error is logged and
// answered in general terms.
func (tc *TeamChat) refusal(id int64, err error) string {
	var taken *TakenError
	var long *TooLongError
	switch {
	case errors.As(err, &taken):
		return fmt.Sprintf("⛔ Обращение №%d уже ведёт %s.", id, taken.By)
	case errors.As(err, &long):
		return fmt.Sprintf("❌ Не отправлено: слишком длинное сообщение (%d символов, можно %d).", long.Len, long.Max)
	case errors.Is(err, ErrClosed):
		return fmt.Sprintf("Обращение №%d уже закрыто: клиент снова общается с ботом.", id)
	case errors.Is(err, ErrEmpty):
		return hintText
	case errors.Is(err, ErrNotFound):
		return hintUnknown
	}
	tc.log.Error("team chat command failed", "handoff_id", id, "err", err)
	return answerOops
}

// FailureText words a Fail* reason for managers (Russian).
func FailureText(reason string) string {
	switch reason {
	case FailBlocked:
		return "клиент заблокировал бота"
	case FailTooLong:
		return "сообщение слишком длинное"
	case FailRefused:
		return "платформа отклонила сообщение"
	case FailGaveUp:
		return "платформа не отвечает, попробуйте позже"
	}
	return "платформа отказала"
}

// answer replies to the manager's message in the team chat.
func (tc *TeamChat) answer(ctx context.Context, upd *messenger.Update, text string) error {
	ctx = messenger.WithIdempotencyKey(ctx, "handoff-team:"+upd.ID)
	if _, err := tc.cfg.Sender.Send(ctx, messenger.OutMessage{Chat: upd.Chat, Text: text, ReplyToID: upd.MessageID}); err != nil {
		tc.log.Warn("answering in the team chat failed", "err", err)
	}
	return nil
}

// command reads a leading "/cmd[@bot] [arg]" (lower-cased command, "" for
// none).
func command(text string) (cmd, arg string) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest, _ := strings.Cut(text, " ")
	head, _, _ = strings.Cut(head[1:], "@")
	return strings.ToLower(head), strings.TrimSpace(rest)
}

// ManagerName names the manager who wrote upd: their first and last name
// with the @username, or either alone, or the platform id.
func ManagerName(upd *messenger.Update) string {
	var name, user string
	if p := upd.Profile; p != nil {
		name = strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.LastName))
		if p.Username != "" {
			user = "@" + p.Username
		}
	}
	switch {
	case name != "" && user != "":
		name += " (" + user + ")"
	case name == "":
		name = user
	}
	if name == "" {
		name = string(upd.Chat.Platform) + ":" + upd.AuthorID
	}
	return cut(name, maxManagerName)
}
