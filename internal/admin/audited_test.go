package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/segment"
)

// fakeAudit is an in-memory AuditLog; fail, when set, is every Record's
// error.
type fakeAudit struct {
	mu      sync.Mutex
	entries []account.AuditEntry
	fail    error
}

func (f *fakeAudit) Record(_ context.Context, e account.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.entries = append(f.entries, e)
	return nil
}

// TestAuditedRecordsChanges: each successful change is recorded once with
// its actor; failed changes and reads are not.
func TestAuditedRecordsChanges(t *testing.T) {
	t.Parallel()
	camps, segs, log := newFakeCampaigns(), newFakeSegments(), &fakeAudit{}
	a := &Audited{Campaigns: camps, Control: camps, Segments: segs, Log: log, Actor: "api"}
	ctx := context.Background()
	anna := account.WithActor(ctx, "anna")
	steps := []struct {
		name    string
		do      func() error
		wantErr bool
		want    string // "actor action object details", "" when nothing is recorded
	}{
		{"create", func() error { _, err := a.Create(ctx, broadcast.Campaign{Name: "Весна"}); return err }, false, `api campaign.create campaign 1 "Весна"`},
		{"create invalid", func() error { _, err := a.Create(ctx, broadcast.Campaign{}); return err }, true, ""},
		{"start by anna", func() error { return a.Start(anna, 1) }, false, "anna campaign.start campaign 1 "},
		{"pause", func() error { return a.Pause(ctx, 1) }, false, "api campaign.pause campaign 1 "},
		{"pause again", func() error { return a.Pause(ctx, 1) }, true, ""},
		{"resume", func() error { return a.Resume(ctx, 1) }, false, "api campaign.resume campaign 1 "},
		{"cancel", func() error { return a.Cancel(ctx, 1) }, false, "api campaign.cancel campaign 1 "},
		{"cancel missing", func() error { return a.Cancel(ctx, 99) }, true, ""},
		{"get and list", func() error {
			_, err := a.Get(ctx, 1)
			_, lerr := a.List(ctx)
			return errors.Join(err, lerr)
		}, false, ""},
		{"save segment", func() error {
			_, err := a.SaveSegment(ctx, segment.Definition{Name: "vip", Expression: `phone == "+79990001122"`})
			return err
		}, false, "api segment.save segment vip "},
		{"save bad segment", func() error {
			_, err := a.SaveSegment(ctx, segment.Definition{Name: "bad", Expression: `agee > 1`})
			return err
		}, true, ""},
		{"delete segment", func() error { return a.DeleteSegment(ctx, "vip") }, false, "api segment.delete segment vip "},
		{"delete missing segment", func() error { return a.DeleteSegment(ctx, "vip") }, true, ""},
	}
	for _, st := range steps {
		before := len(log.entries)
		if err := st.do(); (err != nil) != st.wantErr {
			t.Fatalf("%s: err %v; want error %v", st.name, err, st.wantErr)
		}
		got := log.entries[before:]
		switch {
		case st.want == "" && len(got) != 0:
			t.Errorf("%s: recorded %+v; want nothing", st.name, got)
		case st.want != "" && (len(got) != 1 || got[0].Actor+" "+got[0].Action+" "+got[0].Object+" "+got[0].Details != st.want):
			t.Errorf("%s: recorded %+v; want %q", st.name, got, st.want)
		}
	}
	for _, e := range log.entries {
		if strings.Contains(e.Details, "+7999") {
			t.Errorf("entry %+v holds the segment's phone", e)
		}
	}
}

// TestAuditedWriteFailure: a failed audit write is logged, and the change
// that was made still answers success.
func TestAuditedWriteFailure(t *testing.T) {
	t.Parallel()
	camps := newFakeCampaigns()
	var buf bytes.Buffer
	a := &Audited{Campaigns: camps, Control: camps, Segments: newFakeSegments(), Log: &fakeAudit{fail: errors.New("disk full")},
		Actor: "api", Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	c, err := a.Create(context.Background(), broadcast.Campaign{Name: "x"})
	if err != nil || c.ID == 0 {
		t.Fatalf("Create = %+v, %v; want the campaign", c, err)
	}
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "disk full") {
		t.Errorf("log = %q; want the audit failure at ERROR", buf.String())
	}
}
