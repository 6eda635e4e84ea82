package handoff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/handoff"
)

func moscow(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseHoursErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, want string }{
		{"mon-fri", "want days and a time range"},
		{"mon-fri 09:00-18:00 extra", "want days and a time range"},
		{"monday 09:00-18:00", `unknown day "monday"`},
		{"mon-fry 09:00-18:00", `unknown day "fry"`},
		{"mon 9-18", `time "9": want HH:MM`},
		{"mon 09:00", "want HH:MM-HH:MM"},
		{"mon 09:60-18:00", "from 00:00 to 24:00"},
		{"mon 25:00-26:00", "from 00:00 to 24:00"},
		{"mon 24:00-02:00", "next day's 00:00"},
		{"mon 10:00-10:00", "is empty"},
		{"mon 09:00-18:00,", "want days and a time range"},
	}
	for _, tt := range tests {
		_, err := handoff.ParseHours(tt.spec, time.UTC)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseHours(%q) = %v, want an error with %q", tt.spec, err, tt.want)
		}
	}
}

func TestHoursOpenAndNextOpen(t *testing.T) {
	t.Parallel()
	loc := moscow(t)
	h, err := handoff.ParseHours("mon-fri 09:00-18:00, sat 10:00-15:00, вс 22:00-02:00", loc)
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, loc) } // 2026-12-07 is a Monday
	tests := []struct {
		name string
		t    time.Time
		open bool
		next time.Time
	}{
		{"monday noon", at(7, 12, 0), true, at(7, 12, 0)},
		{"monday 09:00 sharp", at(7, 9, 0), true, at(7, 9, 0)},
		{"monday 18:00 sharp is closed", at(7, 18, 0), false, at(8, 9, 0)},
		{"monday early", at(7, 8, 59), false, at(7, 9, 0)},
		{"friday evening", at(11, 19, 0), false, at(12, 10, 0)},
		{"saturday after hours", at(12, 16, 0), false, at(13, 22, 0)},
		{"sunday night", at(13, 23, 0), true, at(13, 23, 0)},
		{"monday past midnight", at(14, 1, 30), true, at(14, 1, 30)},
		{"monday 02:00", at(14, 2, 0), false, at(14, 9, 0)},
		{"in UTC", time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC), true, time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := h.Open(tt.t); got != tt.open {
			t.Errorf("%s: Open = %v, want %v", tt.name, got, tt.open)
		}
		if got := h.NextOpen(tt.t); !got.Equal(tt.next) {
			t.Errorf("%s: NextOpen = %s, want %s", tt.name, got, tt.next)
		}
	}
	if want := "mon 00:00-02:00, mon 09:00-18:00, tue 09:00-18:00, wed 09:00-18:00, thu 09:00-18:00, fri 09:00-18:00, sat 10:00-15:00, sun 22:00-24:00"; h.String() != want {
		t.Errorf("String = %q", h.String())
	}
}

func TestEmptyHoursAreAlwaysOpen(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "  "} {
		h, err := handoff.ParseHours(spec, nil)
		if err != nil || !h.Always() {
			t.Fatalf("ParseHours(%q) = %v, %v", spec, h, err)
		}
		now := time.Now()
		if !h.Open(now) || !h.NextOpen(now).Equal(now) {
			t.Fatal("empty hours are closed")
		}
	}
	var zero handoff.Hours
	if !zero.Open(time.Now()) {
		t.Fatal("the zero Hours are closed")
	}
}

func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-18:00, sat 10:00-15:00", "daily 00:00-24:00", "fri-mon 22:00-02:00", "пн-пт 9:00-18:00", "sun 23:59-00:00", ""} {
		f.Add(s, int64(1765000000))
	}
	loc := moscow(f)
	f.Fuzz(func(t *testing.T, spec string, unix int64) {
		h, err := handoff.ParseHours(spec, loc)
		if err != nil {
			return
		}
		now := time.Unix(unix%(1<<34), 0)
		next := h.NextOpen(now)
		if next.Before(now) || next.Sub(now) > 8*24*time.Hour {
			t.Fatalf("NextOpen(%s) = %s", now, next)
		}
		if !h.Open(next) {
			t.Fatalf("%q: closed at NextOpen(%s) = %s", spec, now, next)
		}
		again, err := handoff.ParseHours(h.String(), loc)
		if err != nil || again.String() != h.String() {
			t.Fatalf("%q renders %q, which reads back as %q, %v", spec, h.String(), again.String(), err)
		}
	})
}
