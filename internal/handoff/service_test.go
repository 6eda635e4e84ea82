package handoff_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/handoff/handofftest"
	"github.com/chathub/chathub/internal/messenger"
)

// fixture is a store with one client on chat and its open request.
type fixture struct {
	store  *handofftest.Store
	client int64
	req    int64
}

func newFixture(t *testing.T, platform messenger.Platform, chatID string, created time.Time) fixture {
	t.Helper()
	st := handofftest.New()
	c := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: platform, ID: chatID}, Name: "Анна"})
	id, ok := st.AddRequest(crm.Handoff{ClientID: c, Question: "вопрос по заказу", CreatedAt: created})
	if !ok {
		t.Fatal("request not added")
	}
	return fixture{store: st, client: c, req: id}
}

func newService(t *testing.T, st handoff.Store, cfg handoff.Config) *handoff.Service {
	t.Helper()
	cfg.Store = st
	s, err := handoff.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReplyRefusedBeforeQueueing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(f fixture, s *handoff.Service) int64
		manager string
		text    string
		check   func(error) bool
	}{
		{"empty", nil, "anna", "  \n ", func(err error) bool { return errors.Is(err, handoff.ErrEmpty) }},
		{"too long for the platform", nil, "anna", strings.Repeat("я", 11), func(err error) bool {
			var tl *handoff.TooLongError
			return errors.As(err, &tl) && tl.Len == 11 && tl.Max == 10 && tl.Platform == messenger.Telegram
		}},
		{"unknown request", func(fixture, *handoff.Service) int64 { return 999 }, "anna", "да",
			func(err error) bool { return errors.Is(err, handoff.ErrNotFound) }},
		{"returning", func(f fixture, s *handoff.Service) int64 {
			if err := s.Return(ctx, f.req, "boris", ""); err != nil {
				t.Fatal(err)
			}
			return f.req
		}, "anna", "да", func(err error) bool { return errors.Is(err, handoff.ErrClosed) }},
		{"another manager's", func(f fixture, s *handoff.Service) int64 {
			if _, err := s.Take(ctx, f.req, "boris"); err != nil {
				t.Fatal(err)
			}
			return f.req
		}, "anna", "да", func(err error) bool {
			var te *handoff.TakenError
			return errors.As(err, &te) && te.By == "boris"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, messenger.Telegram, "1", time.Now())
			s := newService(t, f.store, handoff.Config{MaxText: map[string]int{"telegram": 10}})
			id := f.req
			if tt.prepare != nil {
				id = tt.prepare(f, s)
			}
			before := len(f.store.Messages(f.client))
			_, err := s.Reply(ctx, id, tt.manager, tt.text, 0)
			if !tt.check(err) {
				t.Fatalf("Reply: %v", err)
			}
			if got := len(f.store.Messages(f.client)); got != before {
				t.Fatalf("a refused reply was queued: %d messages, want %d", got, before)
			}
		})
	}
}

func TestReplyLongerThanTheTranscriptKeepsIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.VK, "1", time.Now())
	s := newService(t, f.store, handoff.Config{})
	// 2100 Cyrillic letters: under VK's 4096 characters, over the 4096
	// bytes the transcript keeps (the text the Worker sends).
	_, err := s.Reply(context.Background(), f.req, "anna", strings.Repeat("ж", 2100), 0)
	var tl *handoff.TooLongError
	if !errors.As(err, &tl) || tl.Max != crm.MaxMessageText/2 {
		t.Fatalf("Reply: %v", err)
	}
}

func TestReplyTakesAnUnassignedRequestAndStaysQueuedWithoutAWorker(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "1", time.Now())
	woken := 0
	s := newService(t, f.store, handoff.Config{Wake: func() { woken++ }})
	m, err := s.Reply(context.Background(), f.req, "anna", " Здравствуйте! ", 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != crm.MessageQueued || m.Text != "Здравствуйте!" || m.Author != "anna" || m.AuthorKind != crm.AuthorManager {
		t.Fatalf("reply: %+v", m)
	}
	if woken != 1 {
		t.Fatalf("the worker was woken %d times, want 1", woken)
	}
	r, _ := s.Get(context.Background(), f.req)
	if r.Manager != "anna" || r.Status != handoff.StatusAssigned || f.store.AssignedManager(f.client) != "anna" {
		t.Fatalf("request after the reply: %+v", r)
	}
}

func TestTwoManagersRacingToTake(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "1", time.Now())
	s := newService(t, f.store, handoff.Config{})
	managers := []string{"anna", "boris", "vera", "gleb"}
	errs := make([]error, len(managers))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, m := range managers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Take(context.Background(), f.req, m)
		}()
	}
	close(start)
	wg.Wait()
	r, _ := s.Get(context.Background(), f.req)
	wins := 0
	for i, err := range errs {
		var te *handoff.TakenError
		switch {
		case err == nil:
			wins++
			if r.Manager != managers[i] {
				t.Errorf("%s won but the request is %s's", managers[i], r.Manager)
			}
		case errors.As(err, &te):
			if te.By != r.Manager {
				t.Errorf("%s was told %s took it, the request is %s's", managers[i], te.By, r.Manager)
			}
		default:
			t.Errorf("%s: %v", managers[i], err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d managers took the request, want 1", wins)
	}
	if _, err := s.Take(context.Background(), f.req, r.Manager); err != nil {
		t.Fatalf("taking one's own request again: %v", err)
	}
}

func TestInboxTabsAndCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	st := handofftest.New()
	var ids []int64
	for i, ago := range []time.Duration{time.Hour, time.Minute, 20 * time.Minute} {
		c := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: string(rune('a' + i))}})
		id, _ := st.AddRequest(crm.Handoff{ClientID: c, CreatedAt: now.Add(-ago)})
		ids = append(ids, id)
	}
	s := newService(t, st, handoff.Config{})
	if _, err := s.Take(ctx, ids[1], "anna"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tab  handoff.Tab
		want []int64
	}{
		{"", []int64{ids[0], ids[2]}},
		{handoff.TabWaiting, []int64{ids[0], ids[2]}},
		{handoff.TabMine, []int64{ids[1]}},
		{handoff.TabAll, []int64{ids[0], ids[2], ids[1]}},
		{handoff.TabClosed, nil},
	}
	for _, tt := range tests {
		rs, err := s.Inbox(ctx, "anna", handoff.Filter{Tab: tt.tab})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if !equal(got, tt.want) {
			t.Errorf("tab %q: %v, want %v", tt.tab, got, tt.want)
		}
	}
	if _, err := s.Inbox(ctx, "anna", handoff.Filter{Tab: "bogus"}); err == nil {
		t.Error("an unknown tab was accepted")
	}
	c, err := s.Counts(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	if c != (handoff.Counts{Waiting: 2, Mine: 1, All: 3, OverSLA: 2}) {
		t.Fatalf("counts: %+v", c)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// replyTimes is a Store whose FirstReplyTimes are given.
type replyTimes struct {
	*handofftest.Store
	times []handoff.ReplyTime
}

func (r replyTimes) FirstReplyTimes(context.Context, time.Time) ([]handoff.ReplyTime, error) {
	return r.times, nil
}

func TestStatsQuantiles(t *testing.T) {
	t.Parallel()
	var times []handoff.ReplyTime
	for i := 1; i <= 10; i++ {
		times = append(times, handoff.ReplyTime{Manager: "boris", Wait: time.Duration(i) * time.Minute})
	}
	times = append(times, handoff.ReplyTime{Manager: "anna", Wait: 30 * time.Second})
	f := newFixture(t, messenger.Telegram, "1", time.Now().Add(-time.Hour))
	s := newService(t, replyTimes{f.store, times}, handoff.Config{})
	st, err := s.Stats(context.Background(), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Open != 1 || st.Waiting != 1 || st.OverSLA != 1 {
		t.Fatalf("open counts: %+v", st)
	}
	if st.Overall != (handoff.Quantiles{Count: 11, P50: 5 * time.Minute, P90: 9 * time.Minute}) {
		t.Fatalf("overall: %+v", st.Overall)
	}
	want := []handoff.ManagerQuantiles{
		{Manager: "anna", Quantiles: handoff.Quantiles{Count: 1, P50: 30 * time.Second, P90: 30 * time.Second}},
		{Manager: "boris", Quantiles: handoff.Quantiles{Count: 10, P50: 5 * time.Minute, P90: 9 * time.Minute}},
	}
	if len(st.PerManager) != 2 || st.PerManager[0] != want[0] || st.PerManager[1] != want[1] {
		t.Fatalf("per manager: %+v", st.PerManager)
	}
}

func TestTranscriptPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "1", time.Now())
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.store.AddInbound(f.client, "сообщение", time.Now().Add(time.Duration(i)*time.Second)))
	}
	s := newService(t, f.store, handoff.Config{})
	ms, err := s.Transcript(context.Background(), f.client, handoff.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != ids[4] || ms[1].ID != ids[3] {
		t.Fatalf("newest page: %+v", ms)
	}
	ms, _ = s.Transcript(context.Background(), f.client, handoff.Page{AfterID: ids[2]})
	if len(ms) != 2 || ms[0].ID != ids[3] {
		t.Fatalf("live page: %+v", ms)
	}
}
