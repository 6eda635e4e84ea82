package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestSummarize: the whole-segment dry run counts what the ledger fill
// would do with each client at the campaign's start, by reason, and how
// many the etiquette overrides let through.
func TestSummarize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 10)
	e.seed(messenger.VK, 100, 1)
	e.seed(messenger.Terminal, 200, 1)
	e.exec("UPDATE clients SET subscribed = FALSE WHERE platform_user_id IN ('1', '2')")
	e.exec("UPDATE clients SET blocked_at = now() WHERE platform_user_id = '3'")
	e.exec("UPDATE clients SET last_broadcast_at = now() - interval '2 days' WHERE platform_user_id IN ('4', '5')")
	e.exec("UPDATE clients SET timezone = 'America/New_York' WHERE platform_user_id = '6'")
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 23, 0, 0, 0, msk) // 15:00 in New York
	svc := e.service(func(c *broadcast.Config) {
		c.QuietHours, c.Location, c.FillBatch = "21:00-09:00", msk, 3
		c.Now = func() time.Time { return now }
	})
	tg := []messenger.Platform{messenger.Telegram}
	all := "subscribed or not subscribed"
	tests := []struct {
		name string
		c    broadcast.Campaign
		want broadcast.Summary
	}{
		{"telegram only", broadcast.Campaign{Segment: all, Platforms: tg}, broadcast.Summary{
			Total: 12, Send: 5, Held: 4,
			Skipped: map[string]int{"unsubscribed": 2, "blocked": 1, "frequency_cap": 2, "platform": 2}}},
		{"every platform", broadcast.Campaign{Segment: all}, broadcast.Summary{
			Total: 12, Send: 6, Held: 5,
			Skipped: map[string]int{"unsubscribed": 2, "blocked": 1, "frequency_cap": 2, "no_channel": 1}}},
		{"ignoring the cap", broadcast.Campaign{Segment: all, Platforms: tg, IgnoreFrequencyCap: true}, broadcast.Summary{
			Total: 12, Send: 7, Held: 6, CapOverridden: 2,
			Skipped: map[string]int{"unsubscribed": 2, "blocked": 1, "platform": 2}}},
		{"ignoring quiet hours", broadcast.Campaign{Segment: all, Platforms: tg, IgnoreQuietHours: true}, broadcast.Summary{
			Total: 12, Send: 5, Held: 0, QuietOverridden: 4,
			Skipped: map[string]int{"unsubscribed": 2, "blocked": 1, "frequency_cap": 2, "platform": 2}}},
		{"a segment", broadcast.Campaign{Segment: `platform == "vk"`}, broadcast.Summary{
			Total: 1, Send: 1, Held: 1, Skipped: map[string]int{}}},
	}
	for _, tt := range tests {
		got, err := svc.Summarize(ctx, tt.c)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got.Total != tt.want.Total || got.Send != tt.want.Send || got.Held != tt.want.Held ||
			got.CapOverridden != tt.want.CapOverridden || got.QuietOverridden != tt.want.QuietOverridden ||
			!sameCounts(got.Skipped, tt.want.Skipped) {
			t.Errorf("%s: Summarize = %+v, want %+v", tt.name, got, tt.want)
		}
		if !got.At.Equal(now) || got.FrequencyCap != broadcast.DefaultFrequencyCap || got.Quiet.String() != "21:00-09:00" {
			t.Errorf("%s: at %s, cap %s, quiet %s", tt.name, got.At, got.FrequencyCap, got.Quiet)
		}
	}

	// At a scheduled start at 10:00 Moscow time only the New Yorker (02:00)
	// is in quiet hours.
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, msk)
	got, err := svc.Summarize(ctx, broadcast.Campaign{Segment: all, Platforms: tg, StartAt: &start})
	if err != nil || got.Held != 1 || got.Send != 5 || !got.At.Equal(start) {
		t.Errorf("scheduled: %+v, %v", got, err)
	}

	for _, tc := range []struct {
		c     broadcast.Campaign
		field string
	}{
		{broadcast.Campaign{Segment: ""}, "segment"},
		{broadcast.Campaign{Segment: "agee > 3"}, "segment"},
		{broadcast.Campaign{Segment: all, Platforms: []messenger.Platform{"icq"}}, "platforms"},
	} {
		_, err := svc.Summarize(ctx, tc.c)
		var ve *broadcast.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("Summarize(%+v) = %v, want a ValidationError on %s", tc.c, err, tc.field)
		}
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPreviewDraft: an unsaved campaign renders for sample clients of its
// segment; a bad segment or text is a ValidationError on its field.
func TestPreviewDraft(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 4)
	e.exec("UPDATE clients SET subscribed = FALSE WHERE platform_user_id = '1'")
	c := broadcast.Campaign{Segment: "subscribed or not subscribed", Text: "Привет, {{ .client.first_name }}!"}
	got, err := e.svc.PreviewDraft(ctx, c, 10)
	if err != nil || len(got) != 4 {
		t.Fatalf("PreviewDraft = %+v, %v", got, err)
	}
	skipped := 0
	for _, p := range got {
		if p.Text != "Привет, "+p.Name+"!" || !strings.HasPrefix(p.Name, "Имя") {
			t.Errorf("preview %+v", p)
		}
		if p.Skipped == broadcast.ReasonUnsubscribed {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("%d previews skipped as unsubscribed, want 1", skipped)
	}
	if n := e.count("SELECT COUNT(*) FROM campaigns"); n != 0 {
		t.Errorf("a preview stored %d campaigns", n)
	}
	for _, tc := range []struct {
		c     broadcast.Campaign
		field string
	}{
		{broadcast.Campaign{Segment: "agee > 3", Text: "x"}, "segment"},
		{broadcast.Campaign{Segment: "subscribed", Text: "{{ .client.frist_name }}"}, "text"},
		{broadcast.Campaign{Segment: "subscribed", Text: ""}, "text"},
	} {
		_, err := e.svc.PreviewDraft(ctx, tc.c, 3)
		var ve *broadcast.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("PreviewDraft(%+v) = %v, want a ValidationError on %s", tc.c, err, tc.field)
		}
	}
}

func TestTextLimits(t *testing.T) {
	t.Parallel()
	if broadcast.MaxCaptionLen != telegram.MaxCaptionLen {
		t.Errorf("MaxCaptionLen %d, Telegram's %d", broadcast.MaxCaptionLen, telegram.MaxCaptionLen)
	}
	if n := broadcast.TextLength("Привет 😀"); n != 9 {
		t.Errorf("TextLength = %d, want 9", n)
	}
}

// TestUpdate: a draft or scheduled campaign is edited with Create's
// validation and becomes scheduled or a draft by its StartAt; a started
// campaign or a missing one is refused.
func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 2)
	c := e.create(broadcast.Campaign{})
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := e.svc.Update(ctx, c.ID, broadcast.Campaign{Name: " Новое ", Segment: "subscribed", Text: "{{ .client.first_name }}!",
		StartAt: &at, Platforms: []messenger.Platform{messenger.VK, messenger.Telegram, messenger.VK}})
	if err != nil || got.State != broadcast.Scheduled || got.Name != "Новое" || got.Segment != "subscribed" ||
		len(got.Platforms) != 2 || got.Platforms[0] != messenger.Telegram || !got.StartAt.Equal(at) || got.ID != c.ID {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	got, err = e.svc.Update(ctx, c.ID, broadcast.Campaign{Name: "Черновик", Segment: "subscribed", Text: "x"})
	if err != nil || got.State != broadcast.Draft || got.StartAt != nil {
		t.Fatalf("back to a draft: %+v, %v", got, err)
	}
	_, err = e.svc.Update(ctx, c.ID, broadcast.Campaign{Name: "x", Segment: "subscribed", Text: "{{ .client.nme }}"})
	var ve *broadcast.ValidationError
	if !errors.As(err, &ve) || ve.Field != "text" {
		t.Errorf("bad text: %v", err)
	}
	if cur, _ := e.svc.Get(ctx, c.ID); cur.Name != "Черновик" {
		t.Errorf("a refused update changed the campaign: %+v", cur)
	}
	if _, err := e.svc.Update(ctx, 999, broadcast.Campaign{Name: "x", Segment: "subscribed", Text: "x"}); !errors.Is(err, broadcast.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := e.svc.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Update(ctx, c.ID, broadcast.Campaign{Name: "x", Segment: "subscribed", Text: "x"}); !errors.Is(err, broadcast.ErrInvalidTransition) {
		t.Errorf("running: %v", err)
	}
}

// BenchmarkSummarize100k: the composer's dry-run summary over a
// 100,000-client segment (the whole segment, in keyset pages of the
// default FillBatch), with a tenth unsubscribed and a tenth capped.
//
//	go test -run='^$' -bench=Summarize100k ./internal/broadcast/
func BenchmarkSummarize100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, "")
	svc := e.service(func(c *broadcast.Config) { c.FillBatch, c.QuietHours = 0, "21:00-09:00" })
	e.seed(messenger.Telegram, 0, n)
	e.exec("UPDATE clients SET subscribed = FALSE WHERE id % 10 = 0")
	e.exec("UPDATE clients SET last_broadcast_at = now() - interval '1 day' WHERE id % 10 = 1")
	e.exec("ANALYZE clients")
	ctx := context.Background()
	c := broadcast.Campaign{Segment: `city == "Москва"`}
	b.ResetTimer()
	for range b.N {
		s, err := svc.Summarize(ctx, c)
		if err != nil || s.Total != n || s.Skipped[broadcast.ReasonUnsubscribed] != n/10 {
			b.Fatalf("Summarize = %+v, %v", s, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/summary")
}
