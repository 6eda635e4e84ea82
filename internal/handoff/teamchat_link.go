package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/messenger"
)

// Managers is what the team chat needs of the console's accounts
// (internal/account's Service): which console login a member of the team
// chat is, and linking a member to a login with the one-time code the
// console showed them.
type Managers interface {
	// LoginOf returns the login linked to the platform account userID;
	// ok is false when none is.
	LoginOf(ctx context.Context, platform, userID string) (login string, ok bool, err error)
	// RedeemLink links the platform account (named displayName there) to
	// the user code was made for. Refusals: account.ErrLinkCodeUnknown,
	// account.ErrLinkCodeExpired, *account.NotLinkableError,
	// *account.ThrottledError.
	RedeemLink(ctx context.Context, platform, userID, displayName, code string) (account.Link, error)
}

// Answers to /link (Russian, as managers read them).
const (
	linkHint = "Чтобы привязать аккаунт к пользователю консоли, откройте в консоли «Профиль» → «Привязать %s» " +
		"и отправьте сюда показанную команду: /link КОД."
	linkOff       = "Привязка аккаунтов здесь не настроена: вы отвечаете под своим именем в %s."
	linkUnknown   = "❌ Код не найден: проверьте его или получите новый в консоли («Профиль» → «Привязать %s»)."
	linkExpired   = "❌ Код устарел (он действует %d минут): получите новый в консоли («Профиль» → «Привязать %s»)."
	linkAnonymous = "❌ Анонимного администратора привязать нельзя: отключите анонимность в настройках группы и отправьте код снова."
	linkThrottled = "⛔ Слишком много неверных кодов: попробуйте снова через %s."
)

// link answers `/link CODE`: the author's platform account is linked to
// the console user the code was made for.
func (tc *TeamChat) link(ctx context.Context, upd *messenger.Update, code string) string {
	platform := platformName(upd.Chat.Platform)
	if tc.cfg.Managers == nil {
		return fmt.Sprintf(linkOff, platform)
	}
	if code == "" {
		return fmt.Sprintf(linkHint, platform)
	}
	l, err := tc.cfg.Managers.RedeemLink(ctx, string(upd.Chat.Platform), upd.AuthorID, ManagerName(upd), code)
	var nl *account.NotLinkableError
	var th *account.ThrottledError
	switch {
	case err == nil:
		return fmt.Sprintf("✅ %s привязан к пользователю %s: ваши ответы, /take и /done записываются в консоли под этим именем.", platform, l.User)
	case errors.Is(err, account.ErrLinkCodeUnknown):
		return fmt.Sprintf(linkUnknown, platform)
	case errors.Is(err, account.ErrLinkCodeExpired):
		return fmt.Sprintf(linkExpired, int(account.DefaultLinkCodeTTL/time.Minute), platform)
	case errors.As(err, &nl):
		return linkAnonymous
	case errors.As(err, &th):
		return fmt.Sprintf(linkThrottled, th.RetryAfter.Round(time.Second))
	}
	tc.log.Error("linking a team chat member failed", "err", err)
	return answerOops
}

// managerOf names the manager who wrote upd for request req: the console
// login linked to their platform account, or their platform name
// (ManagerName) when none is. A request they took under that name before
// linking stays theirs under it. With a login, the returned context names
// it as the actor (account.WithActor) for the audit log.
func (tc *TeamChat) managerOf(ctx context.Context, upd *messenger.Update, req Request) (context.Context, string, error) {
	name := ManagerName(upd)
	if tc.cfg.Managers == nil {
		return ctx, name, nil
	}
	login, ok, err := tc.cfg.Managers.LoginOf(ctx, string(upd.Chat.Platform), upd.AuthorID)
	if err != nil {
		return ctx, "", fmt.Errorf("handoff: team chat: whose account wrote: %w", err)
	}
	if !ok {
		return ctx, name, nil
	}
	ctx = account.WithActor(ctx, login)
	if req.Manager == name && name != login {
		return ctx, name, nil
	}
	return ctx, login, nil
}
