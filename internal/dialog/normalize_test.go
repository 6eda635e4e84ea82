package dialog

import (
	"testing"
	"time"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+7 912 345-67-89", "+79123456789", true},
		{"8 (912) 345-67-89", "+79123456789", true},
		{"79123456789", "+79123456789", true},
		{"9123456789", "+79123456789", true},
		{"+44 20 7946 0958", "+442079460958", true},
		{"+1 (555) 010-0000", "+15550100000", true},
		{"12345", "", false},
		{"+0123456789", "", false},
		{"+1234567890123456", "", false},
		{"8912345678", "", false},
		{"phone", "", false},
		{"+7 912 345 67 89 доб. 2", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizePhone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Anna@Example.RU", "anna@example.ru", true},
		{"  a.b+c@mail.co.uk ", "a.b+c@mail.co.uk", true},
		{"anna@", "", false},
		{"@example.ru", "", false},
		{"anna@example", "", false},
		{"anna@@example.ru", "", false},
		{"an na@example.ru", "", false},
		{"anna@example..ru", "", false},
		{"Анна <anna@example.ru>", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeEmail(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	d := time.Date(1990, 4, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in string
		ok bool
	}{
		{"05.04.1990", true}, {"5.4.1990", true}, {"1990-04-05", true}, {"05/04/1990", true}, {"05-04-1990", true},
		{"31.02.1990", false}, {"1990", false}, {"завтра", false}, {"05.04.90", false}, {"", false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if ok != tt.ok || ok && !got.Equal(d) {
			t.Errorf("ParseDate(%q) = %v, %v; want ok=%v", tt.in, got, ok, tt.ok)
		}
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"25", 25, true}, {" 36,6 ", 36.6, true}, {"1 500", 1500, true}, {"-3", -3, true},
		{"NaN", 0, false}, {"Inf", 0, false}, {"двадцать", 0, false}, {"", 0, false}, {"1e400", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAgeAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		birth time.Time
		want  int
	}{
		{time.Date(1990, 4, 15, 0, 0, 0, 0, time.UTC), 36},
		{time.Date(1990, 4, 16, 0, 0, 0, 0, time.UTC), 35},
		{time.Date(1990, 3, 31, 0, 0, 0, 0, time.UTC), 36},
		{time.Date(2008, 12, 1, 0, 0, 0, 0, time.UTC), 17},
	}
	for _, tt := range tests {
		if got := ageAt(tt.birth, now); got != tt.want {
			t.Errorf("ageAt(%v) = %d, want %d", tt.birth, got, tt.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cmd, arg string
		ok           bool
	}{
		{"/start", "start", "", true},
		{"/start promo_1", "start", "promo_1", true},
		{"/Start@ChatHubBot  ads ", "start", "ads", true},
		{"/", "", "", false},
		{"start", "", "", false},
		{" /stop", "stop", "", true},
	}
	for _, tt := range tests {
		cmd, arg, ok := ParseCommand(tt.in)
		if cmd != tt.cmd || arg != tt.arg || ok != tt.ok {
			t.Errorf("ParseCommand(%q) = %q, %q, %v", tt.in, cmd, arg, ok)
		}
	}
}
