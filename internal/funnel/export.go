package funnel

import (
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/segment"
)

// Export is a Report as the CLI's --format json and the API give it.
type Export struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title,omitempty"`
	// Bot is the bot whose file gave the steps ("" the bot of the
	// environment variables); Bots every bot that has the scenario.
	Bot  string   `json:"bot"`
	Bots []string `json:"bots"`
	// Since is the period's start (RFC 3339), "" for all time.
	Since    string `json:"since,omitempty"`
	Version  string `json:"version,omitempty"`
	Platform string `json:"platform,omitempty"`
	Source   string `json:"source,omitempty"`
	// CurrentVersion is the version loaded now; Versions every version
	// that ran, newest first.
	CurrentVersion string          `json:"current_version"`
	Versions       []ExportVersion `json:"versions"`
	// Counts says what the numbers count.
	Counts string `json:"counts"`
	// AsOf is when the counts were taken (RFC 3339) when they come from
	// the rollup; omitted when they are live.
	AsOf  string       `json:"as_of,omitempty"`
	Steps []ExportStep `json:"steps"`
}

// ExportVersion is a version of the scenario that ran.
type ExportVersion struct {
	Version string `json:"version"`
	Since   string `json:"since"`
}

// ExportStep is one Step of an Export; percentages are null when their
// base step was never entered.
type ExportStep struct {
	Step          string   `json:"step"`
	Question      bool     `json:"question"`
	Removed       bool     `json:"removed"`
	Entered       int      `json:"entered"`
	Answered      int      `json:"answered"`
	OfStart       *float64 `json:"percent_of_start"`
	OfPrevious    *float64 `json:"percent_of_previous"`
	Stuck         int      `json:"stuck"`
	Dropped       int      `json:"dropped"`
	MedianSeconds *float64 `json:"median_answer_seconds"`
	Reminded      int      `json:"reminded"`
	CameBack      int      `json:"came_back"`
}

// Export returns r for JSON.
func (r *Report) Export() Export {
	e := Export{Scenario: r.Scenario, Title: r.Title, Bot: r.Bot, Bots: append([]string{}, r.Bots...), Version: r.Query.Version, Platform: r.Query.Platform,
		Source: r.Query.Source, Counts: "unique conversations", Steps: make([]ExportStep, 0, len(r.Steps)),
		CurrentVersion: r.Current, Versions: make([]ExportVersion, 0, len(r.Versions))}
	for _, v := range r.Versions {
		e.Versions = append(e.Versions, ExportVersion{Version: v.Version, Since: v.Since.UTC().Format(time.RFC3339)})
	}
	if !r.Query.Since.IsZero() {
		e.Since = r.Query.Since.UTC().Format(time.RFC3339)
	}
	if !r.AsOf.IsZero() {
		e.AsOf = r.AsOf.UTC().Format(time.RFC3339)
	}
	for _, s := range r.Steps {
		x := ExportStep{Step: s.ID, Question: s.Question, Removed: s.Removed, Entered: s.Entered, Answered: s.Answered,
			OfStart: pct(s.OfStart), OfPrevious: pct(s.OfPrevious), Stuck: s.Stuck, Dropped: s.Dropped,
			Reminded: s.Reminded, CameBack: s.CameBack}
		if s.Question && s.Answered > 0 {
			sec := s.MedianAnswer.Seconds()
			x.MedianSeconds = &sec
		}
		e.Steps = append(e.Steps, x)
	}
	return e
}

func pct(p float64) *float64 {
	if p < 0 {
		return nil
	}
	return &p
}

// ParsePeriod reads a period such as "7d", "24h", "2w" or "1w3d" (the
// durations of segments' ago(...), segment.ParseDuration); "" and "all"
// are all time (zero).
func ParsePeriod(s string) (time.Duration, error) {
	if s == "" || s == "all" {
		return 0, nil
	}
	d, err := segment.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`a period is a number and a unit, e.g. "7d", "24h", "2w", or "all": %w`, err)
	}
	return d, nil
}
