package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Returner gives a chat back to the bot (the app implements it over
// dialog.Handler.ReturnToBot and the chat gate).
type Returner interface {
	// ReturnToBot, holding the chat's turn (the same lock the inbound
	// pipeline takes), clears the hand-off mark of the conversation, notes
	// the return in the transcript and re-asks the paused step, or starts
	// r.ReturnScenario when set. ErrNoBot when the chat's bot does not run
	// in this process.
	ReturnToBot(ctx context.Context, r Request, note string) error
	// ReleaseChat, holding the chat's turn, only clears the hand-off mark
	// of r's chat (a mark newer than r, a later request, stays), without
	// the bot: what is left to do when a return is given up, so the
	// client's next message reaches the bot. A chat without a mark is no
	// change.
	ReleaseChat(ctx context.Context, r Request) error
}

// claimReturns claims the requests to give back to the bot (asked for, or
// idle, or due to be tried again) and returns each in a task of its own.
func (w *Worker) claimReturns(ctx context.Context) {
	w.mu.Lock()
	room := inHand - w.returning
	w.mu.Unlock()
	if room <= 0 {
		return
	}
	now := w.cfg.Now()
	rs, err := w.cfg.Store.ClaimReturns(ctx, now, w.cfg.Lease, now.Add(-w.idle), room)
	if err != nil {
		if ctx.Err() == nil {
			w.failed(ctx, "handoff: claim returns", "err", err)
		}
		return
	}
	for _, r := range rs {
		w.mu.Lock()
		w.returning++
		w.mu.Unlock()
		w.tasks.Add(1)
		go w.giveBack(r)
	}
}

// giveBack returns r's chat to the bot and closes r. A failure that may
// pass is tried again after a backoff (the count and the next try are kept
// in the store, so every process sees them); one that will not, or the
// MaxReturnAttempts-th, gives the return up (see abandonReturn). A return
// cut short by Stop is left to its claim's lease, not counted.
func (w *Worker) giveBack(r Request) {
	defer w.tasks.Done()
	defer func() {
		w.mu.Lock()
		w.returning--
		w.mu.Unlock()
	}()
	ctx := w.loop.Work()
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-w.sem }()
	rctx, cancel := context.WithTimeout(ctx, w.cfg.Lease/2)
	err := w.cfg.Returner.ReturnToBot(rctx, r, w.ReturnNote(r))
	cancel()
	switch {
	case err == nil:
		w.closeReturned(r)
		return
	case ctx.Err() != nil:
		return
	}
	why, retry := returnFailure(err)
	attempts := r.ReturnAttempts + 1
	if retry && attempts < MaxReturnAttempts {
		delay := w.returnDelay(attempts, err)
		w.failed(ctx, "handoff: return a chat to the bot failed; trying again", "request", r.ID,
			"reason", why, "attempt", attempts, "of", MaxReturnAttempts, "retry_in", delay.String(), "err", err)
		w.postponeReturn(r, attempts, why, delay)
		return
	}
	w.abandonReturn(r, attempts, why, err)
}

// closeReturned closes a request whose chat is with the bot again.
func (w *Worker) closeReturned(r Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.loop.Work()), 5*time.Second)
	defer cancel()
	if err := w.cfg.Store.CloseHandoff(ctx, r.ID, w.cfg.Now()); err != nil {
		w.failed(ctx, "handoff: close a returned request", "request", r.ID, "err", err)
		return
	}
	w.log.InfoContext(ctx, "handoff: chat returned to the bot", "request", r.ID, "reason", r.CloseReason)
}

// postponeReturn records a failed try and when to try again; when the
// record fails the claim's lease runs out and the try is not counted.
func (w *Worker) postponeReturn(r Request, attempts int, why string, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.loop.Work()), 5*time.Second)
	defer cancel()
	if err := w.cfg.Store.PostponeReturn(ctx, r.ID, attempts, why, w.cfg.Now().Add(delay)); err != nil {
		w.failed(ctx, "handoff: record a failed return", "request", r.ID, "err", err)
	}
}

// abandonReturn gives up the return of r: the chat's hand-off mark is
// cleared without the bot (Returner.ReleaseChat), then r is closed with
// CloseReturnFailed and a note in the transcript. While the mark cannot be
// cleared (the state store fails) r stays returning, so the bot is never
// silent for a request the inbox shows closed, and the return (then the
// release) is tried again at the longest backoff.
func (w *Worker) abandonReturn(r Request, attempts int, why string, cause error) {
	ctx := context.WithoutCancel(w.loop.Work())
	rctx, cancel := context.WithTimeout(ctx, w.cfg.Lease/2)
	err := w.cfg.Returner.ReleaseChat(rctx, r)
	cancel()
	if err != nil {
		delay := w.returnDelay(MaxReturnAttempts, nil)
		w.failed(ctx, "handoff: giving up a return: clearing the chat's hand-off mark failed; trying again",
			"request", r.ID, "reason", why, "retry_in", delay.String(), "err", err)
		w.postponeReturn(r, attempts, why, delay)
		return
	}
	now := w.cfg.Now()
	note := crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorSystem, Text: ReturnFailedNote(why), CreatedAt: now}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.cfg.Store.FailReturn(cctx, r.ID, why, note, now); err != nil {
		w.failed(ctx, "handoff: close a request whose return was given up", "request", r.ID, "err", err)
		return
	}
	w.log.WarnContext(ctx, "handoff: return to the bot given up; the chat's hand-off mark is cleared", "request", r.ID,
		"reason", why, "attempts", attempts, "err", cause)
}

// returnFailure turns a failed return's error into its reason and whether
// trying again may help: a blocked client or a refusal for good (a bad
// request, a change the CRM refuses) will fail again; the chat's bot not
// running here may be run by another process, or by this one once it is
// restarted; anything else (an outage, a rate limit, a timeout) may pass.
func returnFailure(err error) (why string, retry bool) {
	switch {
	case errors.Is(err, messenger.ErrBlocked):
		return FailBlocked, false
	case errors.Is(err, messenger.ErrBadRequest), errors.Is(err, messenger.ErrPermanent):
		return FailRefused, false
	case errors.Is(err, ErrNoBot):
		return ReturnNoBot, true
	}
	return FailGaveUp, true
}

// returnDelay is the wait after the attempts-th failed try: ReturnBackoff
// doubled per try before it, at most 40 times ReturnBackoff, and at least a
// rate limit's RetryAfter.
func (w *Worker) returnDelay(attempts int, err error) time.Duration {
	base := w.cfg.ReturnBackoff
	d := min(base<<min(max(attempts-1, 0), 6), 40*base)
	var rl *messenger.RateLimitError
	if errors.As(err, &rl) {
		d = max(d, rl.RetryAfter)
	}
	return d
}

// ReturnNote is the transcript's note of r's return to the bot.
func (w *Worker) ReturnNote(r Request) string {
	if r.CloseReason == CloseIdle {
		return "Диалог вернулся к боту: " + FormatIdle(w.idle) + " без сообщений"
	}
	if r.ClosedBy != "" {
		return "Диалог вернулся к боту (" + r.ClosedBy + ")"
	}
	return "Диалог вернулся к боту"
}

// ReturnFailedNote is the transcript's note of a return given up for why
// (Russian, as managers read it).
func ReturnFailedNote(why string) string {
	return "Не удалось вернуть диалог боту: " + ReturnFailureText(why) +
		". Отметка разговора с менеджером снята: на следующее сообщение клиента ответит бот."
}

// ReturnFailureText words why a return failed (Request.ReturnError) for
// managers (Russian).
func ReturnFailureText(why string) string {
	switch why {
	case FailBlocked:
		return "клиент заблокировал бота"
	case FailRefused:
		return "платформа отказала"
	case ReturnNoBot:
		return "бот этого клиента не запущен"
	case FailGaveUp:
		return fmt.Sprintf("сбой не прошёл за %d попыток", MaxReturnAttempts)
	}
	return "сбой"
}

// FormatIdle renders d in Russian as the idle note says it: "24 ч",
// "1 ч 30 мин", "45 мин".
func FormatIdle(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d ч %d мин", h, m)
	case h > 0:
		return fmt.Sprintf("%d ч", h)
	case m > 0:
		return fmt.Sprintf("%d мин", m)
	}
	return fmt.Sprintf("%d с", int(d/time.Second))
}
