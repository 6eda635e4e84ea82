package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// TestHandoffRoundTrip: the client asks for a manager mid-questionnaire and
// asks a question; the question reaches the inbox and no CRM field; the
// manager's reply goes out through the bot; «Вернуть боту» re-asks the
// paused step and the answer is saved.
func TestHandoffRoundTrip(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			handoffRoundTrip(t, b.cfg(t))
		})
	}
}

func handoffRoundTrip(t *testing.T, cfg config.Config) {
	p := open(t, cfg)
	chat := messenger.ChatKey{Platform: messenger.Telegram, ID: "778899"}
	p.expect(chat, "/start", askName)
	if got := p.say(chat, "/manager"); len(got) != 1 {
		t.Fatalf("acknowledgment: %q", got)
	}
	if got := p.say(chat, "У меня вопрос по заказу"); len(got) != 0 {
		t.Fatalf("the bot answered during the hand-off: %q", got)
	}
	if c := p.client(chat); c.FirstName != "" {
		t.Fatalf("the question was saved as the first name %q", c.FirstName)
	}
	svc, err := p.stores.Handoffs()
	if err != nil {
		t.Fatal(err)
	}
	req, err := svc.LiveOf(context.Background(), p.client(chat).ID)
	if err != nil {
		t.Fatal(err)
	}
	if req.Question != "У меня вопрос по заказу" {
		t.Fatalf("question %q", req.Question)
	}
	hw, err := newHandoffWorker(cfg, p.stores, p.out, botRouter{"": p.h}, p.stores.logger)
	if err != nil || hw.worker == nil {
		t.Fatalf("worker: %v", err)
	}
	if err := hw.worker.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hw.worker.Stop(ctx)
	})
	m, err := svc.Reply(context.Background(), req.ID, "anna", "Здравствуйте! Смотрю заказ.", 5*time.Second)
	if err != nil || m.Status != crm.MessageSent {
		t.Fatalf("reply: %+v, %v", m, err)
	}
	if out := p.out.take(); len(out) != 1 || out[0].Chat != chat || out[0].Text != "Здравствуйте! Смотрю заказ." {
		t.Fatalf("sent %+v", out)
	}
	// The scenario chosen for the return was removed since: the chat
	// resumes its paused step instead of failing every retry.
	if err := svc.Return(context.Background(), req.ID, "anna", "gone"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the return", func() bool {
		r, err := svc.Get(context.Background(), req.ID)
		return err == nil && r.Status == handoff.StatusClosed
	})
	var texts []string
	for _, o := range p.out.take() {
		texts = append(texts, o.Text)
	}
	if !slices.Contains(texts, askName) {
		t.Fatalf("after the return the bot sent %q, want the paused step re-asked", texts)
	}
	p.expect(chat, "Анна", askAge)
	if c := p.client(chat); c.FirstName != "Анна" {
		t.Fatalf("first name %q after the return", c.FirstName)
	}
	ms, err := svc.Transcript(context.Background(), p.client(chat).ID, handoff.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var note bool
	for _, m := range ms {
		note = note || (m.AuthorKind == crm.AuthorSystem && strings.Contains(m.Text, "вернулся к боту") &&
			strings.Contains(m.Text, "Сценария «gone» больше нет"))
	}
	if !note {
		t.Fatal("no note of the return (and of the missing scenario) in the transcript")
	}
}
