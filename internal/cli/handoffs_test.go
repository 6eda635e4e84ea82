package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/handoff/handofftest"
	"github.com/chathub/chathub/internal/messenger"
)

// handoffFixture is a store with three requests: one taken by anna, one
// waiting with a long question, one closed; and a transcript of five
// messages of the first client.
type handoffFixture struct {
	svc                   *handoff.Service
	taken, waiting, other int64
	client                int64
	now                   time.Time
}

func newHandoffFixture(t *testing.T) handoffFixture {
	t.Helper()
	ctx := context.Background()
	st := handofftest.New()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	svc, err := handoff.NewService(handoff.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f := handoffFixture{svc: svc, now: now}
	f.client = st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}, Name: "Анна Петрова"})
	b := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.VK, ID: "2"}, Name: "Борис"})
	c := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "3"}})
	add := func(client int64, question string, at time.Time) int64 {
		id, ok := st.AddRequest(crm.Handoff{ClientID: client, Question: question, CreatedAt: at})
		if !ok {
			t.Fatal("request not added")
		}
		return id
	}
	f.other = add(c, "старый вопрос", now.Add(-3*time.Hour))
	if err := st.CloseHandoff(ctx, f.other, now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.taken = add(f.client, "где мой заказ?", now.Add(-90*time.Minute))
	if _, err := svc.Take(ctx, f.taken, "anna"); err != nil {
		t.Fatal(err)
	}
	f.waiting = add(b, strings.Repeat("очень длинный вопрос ", 10), now.Add(-7*time.Minute))
	for i := range 5 {
		st.AddInbound(f.client, "сообщение "+string(rune('A'+i)), now.Add(time.Duration(i-10)*time.Minute))
	}
	return f
}

func TestListHandoffs(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t)
	tests := []struct {
		name     string
		opt      handoffsOptions
		stdoutRE string
		absent   []string
		stderr   string
	}{
		{"live then closed", handoffsOptions{limit: 50, format: "table"},
			`(?s)^ID +CLIENT +STATUS +MANAGER +WAITING +QUESTION\n.*Анна Петрова +assigned +anna +1h30m +где мой заказ\?\n.*Борис +open +- +7m +очень длинный вопрос.*…\n.*старый вопрос\n$`,
			nil, ""},
		{"open only", handoffsOptions{open: true, limit: 50, format: "table"}, `Борис`, []string{"старый вопрос", "closed"}, ""},
		{"limit", handoffsOptions{limit: 1, format: "table"}, `где мой заказ`, []string{"Борис", "старый"}, ""},
		{"closed page", handoffsOptions{before: f.other + 1, limit: 50, format: "table"}, `closed`, []string{"Борис", "Анна"}, ""},
		{"nothing", handoffsOptions{before: 1, limit: 50, format: "table"}, `^ID +CLIENT`, nil, "no hand-off requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errs bytes.Buffer
			if code := listHandoffs(context.Background(), &Env{Stdout: &out, Stderr: &errs}, f.svc, tt.opt, f.now); code != 0 {
				t.Fatalf("exit %d: %s", code, errs.String())
			}
			if !regexp.MustCompile(tt.stdoutRE).MatchString(out.String()) {
				t.Errorf("stdout does not match %s:\n%s", tt.stdoutRE, out.String())
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("stdout has %q:\n%s", a, out.String())
				}
			}
			if !strings.Contains(errs.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errs.String(), tt.stderr)
			}
		})
	}
}

func TestListHandoffsJSON(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t)
	var out, errs bytes.Buffer
	if code := listHandoffs(context.Background(), &Env{Stdout: &out, Stderr: &errs}, f.svc, handoffsOptions{limit: 50, format: "json"}, f.now); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var got []handoffJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != f.taken || got[0].Manager != "anna" || got[0].WaitingSeconds != 5400 ||
		got[1].Platform != "vk" || got[2].Status != "closed" || got[2].ClosedAt == nil {
		t.Fatalf("json = %+v", got)
	}
}

func TestPrintTranscript(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t)
	run := func(o transcriptOptions) (string, string) {
		t.Helper()
		var out, errs bytes.Buffer
		if code := printTranscript(context.Background(), &Env{Stdout: &out, Stderr: &errs}, f.svc, o); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		return out.String(), errs.String()
	}
	out, errs := run(transcriptOptions{client: f.client, limit: 2, format: "table"})
	if !regexp.MustCompile(`(?s)^ID +TIME \(UTC\) +FROM +STATUS +TEXT\n\d+ +2026-12-06 11:54:00 +client +- +сообщение E\n\d+ +2026-12-06 11:53:00 +client +- +сообщение D\n$`).MatchString(out) {
		t.Fatalf("first page, newest first:\n%s", out)
	}
	m := regexp.MustCompile(`--before (\d+) --limit 2`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("no next-page hint: %q", errs)
	}
	var before int64
	if err := json.Unmarshal([]byte(m[1]), &before); err != nil {
		t.Fatal(err)
	}
	out, _ = run(transcriptOptions{client: f.client, before: before, limit: 50, format: "table"})
	if !strings.Contains(out, "сообщение C") || !strings.Contains(out, "сообщение A") || strings.Contains(out, "сообщение D") {
		t.Fatalf("second page:\n%s", out)
	}
	if _, errs = run(transcriptOptions{client: 999, limit: 50, format: "table"}); !strings.Contains(errs, "no messages of client 999") {
		t.Fatalf("empty transcript: %q", errs)
	}
	out, _ = run(transcriptOptions{client: f.client, limit: 1, format: "json"})
	var got []messageJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].Text != "сообщение E" || got[0].Direction != crm.DirectionIn {
		t.Fatalf("json = %s (%v)", out, err)
	}
}

func TestTranscriptCells(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m          crm.Message
		from, text string
		status     string
	}{
		{crm.Message{AuthorKind: crm.AuthorManager, Author: "anna", Text: "Здравствуйте!\nЧем помочь?", Status: crm.MessageSent}, "manager anna", "Здравствуйте! Чем помочь?", "sent"},
		{crm.Message{AuthorKind: crm.AuthorManager, Author: "anna", Text: "да", Status: crm.MessageFailed, Error: handoff.FailBlocked}, "manager anna", "да", "failed: blocked"},
		{crm.Message{AuthorKind: crm.AuthorClient, Button: "Да (yes)"}, "client", "[button] Да (yes)", ""},
		{crm.Message{AuthorKind: crm.AuthorClient, Media: "photo"}, "client", "[photo]", ""},
		{crm.Message{AuthorKind: crm.AuthorClient, Media: "photo", Text: "чек"}, "client", "[photo] чек", ""},
		{crm.Message{AuthorKind: crm.AuthorClient, Media: "contact", Text: "+79123456789"}, "client", "[contact] +79123456789", ""},
		{crm.Message{AuthorKind: crm.AuthorBroadcast, Author: "12", Text: "Скидки"}, "broadcast 12", "Скидки", ""},
	}
	for _, tt := range tests {
		if got := author(&tt.m); got != tt.from {
			t.Errorf("author(%+v) = %q, want %q", tt.m, got, tt.from)
		}
		if got := cell(messageText(&tt.m), 200); got != tt.text {
			t.Errorf("text(%+v) = %q, want %q", tt.m, got, tt.text)
		}
		if got := statusCell(&tt.m); got != tt.status {
			t.Errorf("status(%+v) = %q, want %q", tt.m, got, tt.status)
		}
	}
}

func TestHandoffCommandsUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"handoffs argument", []string{"handoffs", "all"}, `unexpected argument "all"`},
		{"handoffs limit", []string{"handoffs", "--limit", "0"}, "--limit must be from 1 to 200"},
		{"handoffs limit too big", []string{"handoffs", "--limit", "201"}, "--limit must be from 1 to 200"},
		{"handoffs format", []string{"handoffs", "--format", "csv"}, `unknown format "csv"`},
		{"handoffs before", []string{"handoffs", "--before", "-1"}, "--before must be a request ID"},
		{"transcript no client", []string{"transcript"}, "which client?"},
		{"transcript bad client", []string{"transcript", "anna"}, `"anna" is not a client ID`},
		{"transcript zero client", []string{"transcript", "0"}, `"0" is not a client ID`},
		{"transcript flags first", []string{"transcript", "--limit", "0", "5"}, "--limit must be from 1 to 200"},
		{"transcript flags after", []string{"transcript", "5", "--format", "xml"}, `unknown format "xml"`},
		{"transcript flags after a flag-first id", []string{"transcript", "--limit", "5", "7", "--format", "xml"}, `unknown format "xml"`},
		{"transcript two clients", []string{"transcript", "5", "6"}, `unexpected argument "6"`},
		{"transcript bad flag", []string{"transcript", "5", "--page", "2"}, "page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runMain(t, nil, "", tt.args...)
			if code != 2 || out != "" || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, tt.stderr)
			}
		})
	}
}
