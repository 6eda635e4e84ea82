package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/health"
	"github.com/chathub/chathub/internal/messenger"
)

// errNoHandoffStore: the CRM database does not keep hand-offs (a store
// without internal/handoff's Store).
var errNoHandoffStore = errors.New("the database store does not keep hand-off requests")

// handoffs is the hand-off service of a Stores, built once.
type handoffs struct {
	cfg  config.Handoff
	once sync.Once
	svc  *handoff.Service
	err  error
}

// Handoffs returns the hand-off service over the CRM database (the inbox,
// replies, returns, stats), built once with the configuration Open was
// given; the console, the API, the CLI and the run process share it.
func (s *Stores) Handoffs() (*handoff.Service, error) {
	s.handoffs.once.Do(func() {
		st, ok := any(s.CRM).(handoff.Store)
		if !ok || s.CRM == nil {
			s.handoffs.err = errNoHandoffStore
			return
		}
		c := s.handoffs.cfg
		logger := s.logger
		if logger == nil {
			logger = slog.Default()
		}
		s.handoffs.svc, s.handoffs.err = handoff.NewService(handoff.Config{
			Store: st, SLA: c.SLA, Idle: c.Idle, Logger: logger,
		})
	})
	return s.handoffs.svc, s.handoffs.err
}

// botReturner gives one bot's chat back to its scenario: the dialog
// handler's ReturnToBot, adapted (see handoffReturner).
type botReturner func(ctx context.Context, r handoff.Request, note string) error

// handoffReturner implements handoff.Returner over the chat gate: it holds
// the chat's turn (the lock the inbound pipeline takes) under an update id
// of its own per request, so a return carried out once (and recorded
// handled) is not carried out again when a process dies before closing
// the request, and hands the chat to the bot of its chat.
type handoffReturner struct {
	gate dispatch.Gate
	// states keeps the chats' conversation state (ReleaseChat clears the
	// hand-off mark in it).
	states dialog.StateStore
	// bots returns the chat's bot's returner; nil when no such bot runs.
	bots func(bot string) botReturner
	// updateID names the return as an update of the chat
	// (dialog.ReturnUpdateID).
	updateID func(id int64) string
	// ttl bounds how long the chat's turn is held.
	ttl time.Duration
}

// ReturnToBot implements handoff.Returner.
func (h handoffReturner) ReturnToBot(ctx context.Context, r handoff.Request, note string) error {
	ret := h.bots(r.Chat.Bot)
	if ret == nil {
		return fmt.Errorf("return request %d: %s bot %s: %w", r.ID, r.Chat.Platform, displayName(r.Chat.Bot), handoff.ErrNoBot)
	}
	leave, dup, err := h.gate.Enter(ctx, r.Chat, h.updateID(r.ID), h.ttl)
	if err != nil {
		return fmt.Errorf("return request %d: wait for the chat's turn: %w", r.ID, err)
	}
	if dup {
		return nil // returned before; the caller closes the request
	}
	err = ret(ctx, r, note)
	if lerr := leave(context.WithoutCancel(ctx), err == nil); lerr != nil {
		err = errors.Join(err, fmt.Errorf("return request %d: release the chat: %w", r.ID, lerr))
	}
	if err != nil {
		return fmt.Errorf("return request %d to the bot: %w", r.ID, err)
	}
	return nil
}

// ReleaseChat implements handoff.Returner: holding the chat's turn (under
// an update id of its own), it clears the conversation's hand-off mark
// with no bot involved, so a given-up return still lets the client's next
// message reach the bot.
func (h handoffReturner) ReleaseChat(ctx context.Context, r handoff.Request) error {
	leave, dup, err := h.gate.Enter(ctx, r.Chat, h.updateID(r.ID)+"/release", h.ttl)
	if err != nil {
		return fmt.Errorf("release request %d: wait for the chat's turn: %w", r.ID, err)
	}
	if dup {
		return nil // released before
	}
	_, err = dialog.ReleaseHandoff(ctx, h.states, r.Chat, r.CreatedAt)
	if lerr := leave(context.WithoutCancel(ctx), err == nil); lerr != nil {
		err = errors.Join(err, fmt.Errorf("release the chat: %w", lerr))
	}
	if err != nil {
		return fmt.Errorf("release request %d: clear the chat's hand-off mark: %w", r.ID, err)
	}
	return nil
}

// handoffConfig is the dialog's hand-off configuration: the phrases that
// call a manager, the wait the acknowledgment promises and the team's
// working hours (nil: always open).
func handoffConfig(cfg config.Config) (dialog.HandoffConfig, error) {
	hours, err := cfg.HandoffHours()
	if err != nil {
		return dialog.HandoffConfig{}, err
	}
	hc := dialog.HandoffConfig{Keywords: cfg.Handoff.Keywords, Wait: cfg.Handoff.AnswerWait()}
	if !hours.Always() {
		hc.Hours = hours
	}
	return hc, nil
}

// dialogReturner is the bot's side of a return: the dialog handler gives
// the chat back to its scenario. A scenario chosen for the return that the
// bot no longer has (removed since) would fail every retry: the chat then
// resumes its paused step instead, and the transcript's note says so.
func dialogReturner(h *dialog.Handler) botReturner {
	return func(ctx context.Context, r handoff.Request, note string) error {
		req := dialog.ReturnRequest{HandoffID: r.ID, RequestedAt: r.CreatedAt, StartScenario: r.ReturnScenario, Note: note}
		err := h.ReturnToBot(ctx, r.Chat, req)
		if !errors.Is(err, dialog.ErrUnknownScenario) {
			return err
		}
		req.StartScenario = ""
		req.Note = strings.TrimSpace(note + " " + fmt.Sprintf("Сценария «%s» больше нет: бот продолжил с прерванного шага.", r.ReturnScenario))
		return h.ReturnToBot(ctx, r.Chat, req)
	}
}

// runHandoffs is the hand-off work of a run process: the Worker, and the
// managers' team chats it ticks (none when none is configured).
type runHandoffs struct {
	worker    *handoff.Worker
	teamChats handoff.TeamChats
}

// newHandoffWorker builds the process's hand-off Worker: it sends the
// managers' replies through sender, gives chats back to the bots of
// router and ticks the team chats (MANAGERS_TELEGRAM_CHAT_ID,
// MANAGERS_VK_PEER_ID). Nothing
// (zero runHandoffs) when the database keeps no hand-offs.
func newHandoffWorker(cfg config.Config, stores *Stores, sender messenger.Sender, router botRouter, logger *slog.Logger) (runHandoffs, error) {
	svc, err := stores.Handoffs()
	if errors.Is(err, errNoHandoffStore) {
		logger.Warn("hand-off worker disabled: " + err.Error())
		return runHandoffs{}, nil
	}
	if err != nil {
		return runHandoffs{}, err
	}
	st, _ := any(stores.CRM).(handoff.Store)
	teamSvc, managers := teamChatAccounts(stores, svc, logger)
	tcs, err := newTeamChats(cfg, st, teamSvc, sender, managers, logger)
	if err != nil {
		return runHandoffs{}, err
	}
	ret := handoffReturner{
		gate: stores.State, states: stores.State, updateID: dialog.ReturnUpdateID, ttl: cfg.HandleTimeout + 5*time.Second,
		bots: func(bot string) botReturner {
			if h := router[bot]; h != nil {
				return dialogReturner(h)
			}
			return nil
		},
	}
	wc := handoff.WorkerConfig{
		Store: st, Sender: sender, Returner: ret, Service: svc,
		Retention: cfg.Handoff.Retention, Outage: stores.Health.Outage, Logger: logger,
	}
	if len(tcs) > 0 {
		wc.TeamChat = tcs
	}
	w, err := handoff.NewWorker(wc)
	if err != nil {
		return runHandoffs{}, err
	}
	return runHandoffs{worker: w, teamChats: tcs}, nil
}

// handoffStats is the hand-off service as the metrics read it, with the
// process's backing services: a reading that fails during their outage is
// logged at debug level (the outage is logged once where it is watched).
type handoffStats struct {
	*handoff.Service
	health.Set
}
