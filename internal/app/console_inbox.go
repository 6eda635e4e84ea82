package app

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// consoleInbox sets Диалоги (the managers' inbox, the client card's
// transcript, Обзор's hand-off tile) over the hand-off service, audited:
// take, reply and return are written to the audit log under the console
// user's name. Without the service the section stays hidden.
func (s *Stores) consoleInbox(_ config.Config, sv consoleServices, cc *console.Config) error {
	h, err := s.Handoffs()
	if errors.Is(err, errNoHandoffStore) || sv.audited == nil {
		return nil // no hand-off store: the section stays hidden
	}
	if err != nil {
		return err
	}
	cc.Handoffs = &auditedHandoffs{Handoffs: h, Log: sv.audited.Log, Logger: s.logger}
	return nil
}

// auditedHandoffs wraps the hand-off service so that every successful
// take, reply and return is written to the audit log (handoff.take,
// handoff.reply, handoff.return) under the actor the request's context
// names (the console's user, account.WithActor). As with admin.Audited,
// the action is made before it is recorded: a failing audit write is
// logged and the manager still sees the result. The reply's text is never
// written to the audit log, only its length.
type auditedHandoffs struct {
	console.Handoffs
	Log    admin.AuditLog
	Logger *slog.Logger
}

func (a *auditedHandoffs) record(ctx context.Context, action string, id int64, details string) {
	actor, ok := account.ActorIn(ctx)
	if !ok {
		actor = "console"
	}
	recordHandoff(ctx, a.Log, a.Logger, actor, action, id, details)
}

// recordHandoff writes a hand-off action on request id to log under actor;
// a failing write is logged (the action was made).
func recordHandoff(ctx context.Context, log admin.AuditLog, logger *slog.Logger, actor, action string, id int64, details string) {
	e := account.AuditEntry{Actor: actor, Action: action, Object: "handoff " + strconv.FormatInt(id, 10), Details: details}
	if err := log.Record(context.WithoutCancel(ctx), e); err != nil {
		if logger == nil {
			logger = slog.Default()
		}
		logger.ErrorContext(ctx, "audit log write failed; the hand-off action was made", "action", action, "request", id, "err", err)
	}
}

// replyDetails is a reply's audit details: its message and status (never
// its text).
func replyDetails(m crm.Message) string {
	d := "message " + strconv.FormatInt(m.ID, 10) + ", " + m.Status
	if m.Error != "" {
		d += " (" + m.Error + ")"
	}
	return d
}

// returnDetails is a return's audit details: the scenario started, if any.
func returnDetails(scenario string) string {
	if scenario != "" {
		return "scenario " + scenario
	}
	return "resume"
}

// Take implements console.Handoffs and records handoff.take.
func (a *auditedHandoffs) Take(ctx context.Context, id int64, manager string) (handoff.Request, error) {
	r, err := a.Handoffs.Take(ctx, id, manager)
	if err == nil {
		a.record(ctx, account.ActionHandoffTake, id, "client "+strconv.FormatInt(r.ClientID, 10))
	}
	return r, err
}

// Reply implements console.Handoffs and records handoff.reply with the
// message's status (not its text).
func (a *auditedHandoffs) Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error) {
	m, err := a.Handoffs.Reply(ctx, id, manager, text, wait)
	if err == nil {
		a.record(ctx, account.ActionHandoffReply, id, replyDetails(m))
	}
	return m, err
}

// Return implements console.Handoffs and records handoff.return with the
// scenario started, if any.
func (a *auditedHandoffs) Return(ctx context.Context, id int64, by, scenario string) error {
	err := a.Handoffs.Return(ctx, id, by, scenario)
	if err == nil {
		a.record(ctx, account.ActionHandoffReturn, id, returnDetails(scenario))
	}
	return err
}
