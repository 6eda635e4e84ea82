package config

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHandoffSettings(t *testing.T) {
	t.Parallel()
	tests := []envCase{
		{"defaults", nil, func(c Config) bool {
			h := c.Handoff
			return h.SLA == 10*time.Minute && h.AnswerWait() == 10*time.Minute && h.Idle == 24*time.Hour && h.Hours == "" &&
				h.Retention == 365*24*time.Hour && slices.Equal(h.Keywords, DefaultHandoffKeywords) && !slices.Contains(h.Keywords, "менеджер")
		}, ""},
		{"values", map[string]string{"HANDOFF_SLA": "5m", "HANDOFF_WAIT": "15m", "HANDOFF_IDLE": "48h",
			"HANDOFF_HOURS": "mon-fri 09:00-18:00, sat 10:00-15:00", "HANDOFF_KEYWORDS": " Оператор ,  позовите   человека,,",
			"TRANSCRIPT_RETENTION": "90d"}, func(c Config) bool {
			h := c.Handoff
			return h.SLA == 5*time.Minute && h.AnswerWait() == 15*time.Minute && h.Idle == 48*time.Hour &&
				h.Hours == "mon-fri 09:00-18:00, sat 10:00-15:00" && h.Retention == 90*24*time.Hour &&
				slices.Equal(h.Keywords, []string{"оператор", "позовите человека"})
		}, ""},
		{"wait follows sla", map[string]string{"HANDOFF_SLA": "30m"}, func(c Config) bool { return c.Handoff.AnswerWait() == 30*time.Minute }, ""},
		{"keywords off", map[string]string{"HANDOFF_KEYWORDS": "off"}, func(c Config) bool { return len(c.Handoff.Keywords) == 0 }, ""},
		{"retention as duration", map[string]string{"TRANSCRIPT_RETENTION": "720h"}, func(c Config) bool { return c.Handoff.Retention == 30*24*time.Hour }, ""},
		{"sla too short", map[string]string{"HANDOFF_SLA": "10s"}, nil, "HANDOFF_SLA must be 1m..24h"},
		{"sla not a duration", map[string]string{"HANDOFF_SLA": "soon"}, nil, `HANDOFF_SLA="soon"`},
		{"wait too long", map[string]string{"HANDOFF_WAIT": "100h"}, nil, "HANDOFF_WAIT must be 1m..72h"},
		{"idle too short", map[string]string{"HANDOFF_IDLE": "5m"}, nil, "HANDOFF_IDLE must be 10m..720h"},
		{"idle not over sla", map[string]string{"HANDOFF_SLA": "2h", "HANDOFF_IDLE": "1h"}, nil, "must be longer than HANDOFF_SLA"},
		{"hours bad", map[string]string{"HANDOFF_HOURS": "weekdays 9-18"}, nil, "HANDOFF_HOURS"},
		{"hours bad time", map[string]string{"HANDOFF_HOURS": "mon 09:00-25:00"}, nil, "HANDOFF_HOURS"},
		{"retention too short", map[string]string{"TRANSCRIPT_RETENTION": "0d"}, nil, "TRANSCRIPT_RETENTION must be 1d..3650d"},
		{"retention not days", map[string]string{"TRANSCRIPT_RETENTION": "a year"}, nil, `TRANSCRIPT_RETENTION="a year"`},
		{"retention negative days", map[string]string{"TRANSCRIPT_RETENTION": "-5d"}, nil, "TRANSCRIPT_RETENTION"},
		{"keywords repeated", map[string]string{"HANDOFF_KEYWORDS": "Живой человек, живой  человек"}, func(c Config) bool {
			return slices.Equal(c.Handoff.Keywords, []string{"живой человек"})
		}, ""},
		{"keyword too long", map[string]string{"HANDOFF_KEYWORDS": strings.Repeat("я", 101)}, nil, "HANDOFF_KEYWORDS: a phrase is 101 characters"},
		{"keywords too many", map[string]string{"HANDOFF_KEYWORDS": manyKeywords(101)}, nil, "HANDOFF_KEYWORDS has"},
	}
	runEnvCases(t, tests)
}

func TestHandoffWorkingHours(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Handoff.Hours = "mon-fri 09:00-18:00"
	loc, err := c.Broadcast.Location()
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HandoffHours()
	if err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 12, 7, 10, 0, 0, 0, loc)
	if !h.Open(monday) || h.Open(monday.Add(9*time.Hour)) {
		t.Fatalf("hours %q: open Monday 10:00 = %v, 19:00 = %v", h, h.Open(monday), h.Open(monday.Add(9*time.Hour)))
	}
}

// manyKeywords returns a HANDOFF_KEYWORDS of n distinct phrases.
func manyKeywords(n int) string {
	k := make([]string, n)
	for i := range k {
		k[i] = "фраза " + strconv.Itoa(i)
	}
	return strings.Join(k, ",")
}
