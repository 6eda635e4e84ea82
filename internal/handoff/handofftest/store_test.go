package handofftest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*Store, int64, int64) {
	t.Helper()
	s := New()
	c := s.AddClient(Client{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}, Name: "Анна"})
	id, ok := s.AddRequest(crm.Handoff{ClientID: c, Question: "вопрос", CreatedAt: t0})
	if !ok {
		t.Fatal("first request not added")
	}
	return s, c, id
}

func TestOneLiveRequestPerClient(t *testing.T) {
	t.Parallel()
	s, c, id := setup(t)
	if again, ok := s.AddRequest(crm.Handoff{ClientID: c, CreatedAt: t0}); ok || again != id {
		t.Fatalf("second live request: got %d, %v; want %d, false", again, ok, id)
	}
	ctx := context.Background()
	if err := s.RequestReturn(ctx, id, "anna", handoff.CloseManager, "", t0); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.AddRequest(crm.Handoff{ClientID: c, CreatedAt: t0}); ok {
		t.Fatal("a returning request is still live: no new one may start")
	}
	if err := s.CloseHandoff(ctx, id, t0); err != nil {
		t.Fatal(err)
	}
	if next, ok := s.AddRequest(crm.Handoff{ClientID: c, CreatedAt: t0}); !ok || next == id {
		t.Fatalf("after close: got %d, %v", next, ok)
	}
}

func TestTakeAndClaims(t *testing.T) {
	t.Parallel()
	s, c, id := setup(t)
	ctx := context.Background()
	if _, err := s.TakeHandoff(ctx, id, "anna", t0); err != nil {
		t.Fatal(err)
	}
	var te *handoff.TakenError
	if _, err := s.TakeHandoff(ctx, id, "boris", t0); !errors.As(err, &te) || te.By != "anna" {
		t.Fatalf("second manager: %v", err)
	}
	if s.AssignedManager(c) != "anna" {
		t.Fatal("client's responsible manager not set")
	}
	m, err := s.QueueReply(ctx, id, crm.Message{Author: "anna", Text: "здравствуйте", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.ClaimReplies(ctx, t0, time.Minute, 10, 0)
	if len(got) != 1 || got[0].Message.ID != m.ID || got[0].Chat.ID != "1" {
		t.Fatalf("claim: %+v", got)
	}
	if again, _ := s.ClaimReplies(ctx, t0.Add(30*time.Second), time.Minute, 10, 0); len(again) != 0 {
		t.Fatal("claimed twice within the lease")
	}
	if again, _ := s.ClaimReplies(ctx, t0.Add(2*time.Minute), time.Minute, 10, 0); len(again) != 1 {
		t.Fatal("an expired claim is not taken over")
	}
	if err := s.FinishReply(ctx, m.ID, crm.MessageSent, "77", "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r, _ := s.GetHandoff(ctx, id)
	if r.FirstReplyAt == nil || r.WaitingSince != nil || r.LastMessage == nil || r.LastMessage.PlatformMsgID != "77" {
		t.Fatalf("after the reply: %+v", r)
	}
}

func TestIdleReturns(t *testing.T) {
	t.Parallel()
	s, _, id := setup(t)
	ctx := context.Background()
	if rs, _ := s.ClaimReturns(ctx, t0, time.Minute, time.Time{}, 10); len(rs) != 0 {
		t.Fatal("zero idleBefore claimed an idle request")
	}
	rs, _ := s.ClaimReturns(ctx, t0.Add(time.Hour), time.Minute, t0.Add(time.Minute), 10)
	if len(rs) != 1 || rs[0].ID != id || rs[0].CloseReason != handoff.CloseIdle || rs[0].Status != handoff.StatusReturning {
		t.Fatalf("idle claim: %+v", rs)
	}
	if _, err := s.QueueReply(ctx, id, crm.Message{Text: "x"}); !errors.Is(err, handoff.ErrClosed) {
		t.Fatalf("reply to a returning request: %v", err)
	}
}

func TestInboxCursor(t *testing.T) {
	t.Parallel()
	s := New()
	ctx := context.Background()
	var ids []int64
	for i, ago := range []time.Duration{time.Minute, time.Hour, time.Hour, 0} {
		c := s.AddClient(Client{Chat: messenger.ChatKey{Platform: messenger.VK, ID: string(rune('a' + i))}})
		id, _ := s.AddRequest(crm.Handoff{ClientID: c, CreatedAt: t0.Add(-ago)})
		ids = append(ids, id)
	}
	m, _ := s.QueueReply(ctx, ids[3], crm.Message{Text: "ответ"})
	_ = s.FinishReply(ctx, m.ID, crm.MessageSent, "1", "", t0) // answered: last
	want := []int64{ids[1], ids[2], ids[0], ids[3]}
	var got []int64
	f := handoff.Filter{Tab: handoff.TabAll, Limit: 1}
	for range 10 {
		page, err := s.ListHandoffs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		got = append(got, last.ID)
		f.AfterID, f.AfterWaiting = last.ID, last.WaitingSince
	}
	if len(got) != len(want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pages %v, want %v", got, want)
		}
	}
	if _, err := s.ListHandoffs(ctx, handoff.Filter{Tab: handoff.TabMine}); err == nil {
		t.Fatal("the mine tab without a manager was listed")
	}
}
