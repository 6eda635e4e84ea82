package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// inboxFake is a console.Handoffs answering err to take, reply and return.
type inboxFake struct {
	console.Handoffs
	err error
}

func (f inboxFake) Take(context.Context, int64, string) (handoff.Request, error) {
	return handoff.Request{ID: 7, ClientID: 42}, f.err
}

func (f inboxFake) Reply(context.Context, int64, string, string, time.Duration) (crm.Message, error) {
	return crm.Message{ID: 9, Status: crm.MessageFailed, Error: handoff.FailBlocked}, f.err
}

func (f inboxFake) Return(context.Context, int64, string, string) error { return f.err }

// inboxAudit records the audit entries.
type inboxAudit struct{ entries []account.AuditEntry }

func (a *inboxAudit) Record(_ context.Context, e account.AuditEntry) error {
	a.entries = append(a.entries, e)
	return nil
}

func TestAuditedHandoffs(t *testing.T) {
	t.Parallel()
	log := &inboxAudit{}
	h := &auditedHandoffs{Handoffs: inboxFake{}, Log: log}
	ctx := account.WithActor(context.Background(), "anna")
	if _, err := h.Take(ctx, 7, "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reply(ctx, 7, "anna", "секретный текст клиенту", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h.Return(ctx, 7, "anna", "portrait"); err != nil {
		t.Fatal(err)
	}
	want := []account.AuditEntry{
		{Actor: "anna", Action: account.ActionHandoffTake, Object: "handoff 7", Details: "client 42"},
		{Actor: "anna", Action: account.ActionHandoffReply, Object: "handoff 7", Details: "message 9, failed (blocked)"},
		{Actor: "anna", Action: account.ActionHandoffReturn, Object: "handoff 7", Details: "scenario portrait"},
	}
	if len(log.entries) != len(want) {
		t.Fatalf("entries: %+v", log.entries)
	}
	for i := range want {
		if log.entries[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, log.entries[i], want[i])
		}
	}
	// A refused action is not recorded.
	refused := &auditedHandoffs{Handoffs: inboxFake{err: &handoff.TakenError{By: "petr"}}, Log: log}
	_, _ = refused.Take(ctx, 7, "anna")
	_, _ = refused.Reply(ctx, 7, "anna", "x", time.Second)
	if err := refused.Return(ctx, 7, "anna", ""); !errors.As(err, new(*handoff.TakenError)) {
		t.Errorf("Return's error lost: %v", err)
	}
	if len(log.entries) != len(want) {
		t.Errorf("refused actions were recorded: %+v", log.entries[len(want):])
	}
}

// TestAuditedTeamService: the team chat's actions are recorded under the
// linked manager's login (the context's actor) with "via team chat"; an
// unlinked member's (no actor) and refused actions are not.
func TestAuditedTeamService(t *testing.T) {
	t.Parallel()
	log := &inboxAudit{}
	svc := &auditedTeamService{TeamService: inboxFake{}, Log: log}
	linked := account.WithActor(context.Background(), "anna")
	if _, err := svc.Take(linked, 7, "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(linked, 7, "anna", "секретный текст клиенту", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := svc.Return(linked, 7, "anna", ""); err != nil {
		t.Fatal(err)
	}
	unlinked := context.Background()
	_, _ = svc.Take(unlinked, 7, "Иван Сидоров (@ivan)")
	_, _ = svc.Reply(unlinked, 7, "Иван Сидоров (@ivan)", "текст", time.Second)
	_ = svc.Return(unlinked, 7, "Иван Сидоров (@ivan)", "")
	refused := &auditedTeamService{TeamService: inboxFake{err: handoff.ErrClosed}, Log: log}
	_, _ = refused.Reply(linked, 7, "anna", "x", time.Second)
	want := []account.AuditEntry{
		{Actor: "anna", Action: account.ActionHandoffTake, Object: "handoff 7", Details: "client 42, via team chat"},
		{Actor: "anna", Action: account.ActionHandoffReply, Object: "handoff 7", Details: "message 9, failed (blocked), via team chat"},
		{Actor: "anna", Action: account.ActionHandoffReturn, Object: "handoff 7", Details: "resume, via team chat"},
	}
	if len(log.entries) != len(want) {
		t.Fatalf("entries: %+v", log.entries)
	}
	for i := range want {
		if log.entries[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, log.entries[i], want[i])
		}
	}
}
