package broadcast

import (
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

func TestParseQuietHours(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    QuietHours
		wantErr bool
	}{
		{"21:00-09:00", QuietHours{21 * 60, 9 * 60}, false},
		{" 23:30 - 07:05 ", QuietHours{23*60 + 30, 7*60 + 5}, false},
		{"", QuietHours{}, false},
		{"off", QuietHours{}, false},
		{"21-09", QuietHours{}, true},
		{"25:00-09:00", QuietHours{}, true},
		{"21:00", QuietHours{}, true},
		{"21:0-09:00", QuietHours{}, true},
	} {
		got, err := ParseQuietHours(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseQuietHours(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	p := &Policy{FrequencyCap: 7 * 24 * time.Hour, Quiet: QuietHours{21 * 60, 9 * 60}, Location: msk}
	// 14:00 UTC = 17:00 Moscow, 21:00 Novosibirsk (+7), 02:00 next day Kamchatka (+12).
	now := time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)
	recent := now.Add(-3 * 24 * time.Hour)
	old := now.Add(-8 * 24 * time.Hour)
	base := Recipient{Platform: messenger.Telegram, Subscribed: true}
	with := func(f func(*Recipient)) Recipient { r := base; f(&r); return r }
	for _, tc := range []struct {
		name      string
		c         Campaign
		r         Recipient
		reason    string
		notBefore time.Time
	}{
		{"eligible, default zone afternoon", Campaign{}, base, "", time.Time{}},
		{"unsubscribed", Campaign{}, with(func(r *Recipient) { r.Subscribed = false }), ReasonUnsubscribed, time.Time{}},
		{"in a hand-off", Campaign{}, with(func(r *Recipient) { r.InHandoff = true }), ReasonInHandoff, time.Time{}},
		{"in a hand-off, cap overridden", Campaign{IgnoreFrequencyCap: true, IgnoreQuietHours: true},
			with(func(r *Recipient) { r.InHandoff = true }), ReasonInHandoff, time.Time{}},
		{"unsubscribed wins over a hand-off", Campaign{}, with(func(r *Recipient) { r.InHandoff, r.Subscribed = true, false }), ReasonUnsubscribed, time.Time{}},
		{"blocked wins over unsubscribed", Campaign{}, with(func(r *Recipient) { r.Blocked, r.Subscribed = true, false }), ReasonBlocked, time.Time{}},
		{"platform filter", Campaign{Platforms: []messenger.Platform{messenger.VK}}, base, ReasonPlatform, time.Time{}},
		{"platform filter match", Campaign{Platforms: []messenger.Platform{messenger.Telegram}}, base, "", time.Time{}},
		{"capped", Campaign{}, with(func(r *Recipient) { r.LastBroadcastAt = &recent }), ReasonFrequencyCap, time.Time{}},
		{"cap passed", Campaign{}, with(func(r *Recipient) { r.LastBroadcastAt = &old }), "", time.Time{}},
		{"cap overridden", Campaign{IgnoreFrequencyCap: true}, with(func(r *Recipient) { r.LastBroadcastAt = &recent }), "", time.Time{}},
		{"quiet in Novosibirsk until 09:00 local", Campaign{}, with(func(r *Recipient) { r.Timezone = "Asia/Novosibirsk" }), "",
			time.Date(2025, 3, 11, 2, 0, 0, 0, time.UTC)},
		{"quiet after midnight in Kamchatka", Campaign{}, with(func(r *Recipient) { r.Timezone = "Asia/Kamchatka" }), "",
			time.Date(2025, 3, 10, 21, 0, 0, 0, time.UTC)},
		{"quiet overridden", Campaign{IgnoreQuietHours: true}, with(func(r *Recipient) { r.Timezone = "Asia/Novosibirsk" }), "", time.Time{}},
		{"unknown zone falls back to default", Campaign{}, with(func(r *Recipient) { r.Timezone = "Mars/Olympus" }), "", time.Time{}},
		{"west: Kaliningrad afternoon", Campaign{}, with(func(r *Recipient) { r.Timezone = "Europe/Kaliningrad" }), "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Check(&tc.c, &tc.r, now)
			if v.Reason != tc.reason || !v.NotBefore.Equal(tc.notBefore) {
				t.Errorf("Check = %+v, want reason %q not before %v", v, tc.reason, tc.notBefore)
			}
		})
	}
}

func TestQuietHoursUntil(t *testing.T) {
	t.Parallel()
	q := QuietHours{21 * 60, 9 * 60}
	day := QuietHours{13 * 60, 14 * 60}
	loc := time.UTC
	at := func(h, m int) time.Time { return time.Date(2025, 1, 1, h, m, 0, 0, loc) }
	for _, tc := range []struct {
		q    QuietHours
		t    time.Time
		want time.Time
	}{
		{q, at(20, 59), time.Time{}},
		{q, at(21, 0), time.Date(2025, 1, 2, 9, 0, 0, 0, loc)},
		{q, at(3, 0), at(9, 0)},
		{q, at(9, 0), time.Time{}},
		{day, at(13, 30), at(14, 0)},
		{day, at(14, 0), time.Time{}},
		{QuietHours{}, at(3, 0), time.Time{}},
	} {
		if got := tc.q.Until(tc.t); !got.Equal(tc.want) {
			t.Errorf("%v.Until(%v) = %v, want %v", tc.q, tc.t, got, tc.want)
		}
	}
}
