package admin

import (
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// buttonJSON is a button under a campaign message: a link or a scenario.
type buttonJSON struct {
	Text     string `json:"text"`
	URL      string `json:"url,omitempty"`
	Scenario string `json:"scenario,omitempty"`
}

// campaignJSON is a campaign as the API shows it.
type campaignJSON struct {
	ID                 int64        `json:"id"`
	Name               string       `json:"name"`
	Segment            string       `json:"segment"`
	Text               string       `json:"text"`
	Buttons            []buttonJSON `json:"buttons"`
	ImageURL           string       `json:"image_url,omitempty"`
	Platforms          []string     `json:"platforms"`
	StartAt            *time.Time   `json:"start_at,omitempty"`
	State              string       `json:"state"`
	IgnoreFrequencyCap bool         `json:"ignore_frequency_cap"`
	IgnoreQuietHours   bool         `json:"ignore_quiet_hours"`
	CreatedAt          time.Time    `json:"created_at"`
	UpdatedAt          time.Time    `json:"updated_at"`
	StartedAt          *time.Time   `json:"started_at,omitempty"`
	FinishedAt         *time.Time   `json:"finished_at,omitempty"`
}

func newCampaignJSON(c *broadcast.Campaign) campaignJSON {
	out := campaignJSON{
		ID: c.ID, Name: c.Name, Segment: c.Segment, Text: c.Text, ImageURL: c.ImageURL,
		StartAt: utc(c.StartAt), State: string(c.State), IgnoreFrequencyCap: c.IgnoreFrequencyCap,
		IgnoreQuietHours: c.IgnoreQuietHours, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		StartedAt: utc(c.StartedAt), FinishedAt: utc(c.FinishedAt),
		Buttons: []buttonJSON{}, Platforms: []string{},
	}
	for _, b := range c.Buttons {
		out.Buttons = append(out.Buttons, buttonJSON{Text: b.Text, URL: b.URL, Scenario: b.Scenario})
	}
	for _, p := range c.Platforms {
		out.Platforms = append(out.Platforms, string(p))
	}
	return out
}

// previewJSON is one recipient of a dry run.
type previewJSON struct {
	ClientID int64  `json:"client_id"`
	Platform string `json:"platform"`
	Name     string `json:"name"`
	Text     string `json:"text"`
	Skipped  string `json:"skipped,omitempty"`
}

// statsJSON is a campaign's progress: the ledger's counts by status and
// reason, timing and the send rate.
type statsJSON struct {
	CampaignID      int64          `json:"campaign_id"`
	State           string         `json:"state"`
	Targeted        int            `json:"targeted"`
	Queued          int            `json:"queued"`
	Sent            int            `json:"sent"`
	Failed          int            `json:"failed"`
	Blocked         int            `json:"blocked"`
	Skipped         int            `json:"skipped"`
	FailedByReason  map[string]int `json:"failed_by_reason"`
	SkippedByReason map[string]int `json:"skipped_by_reason"`
	// QueuedByReason counts the queued rows that wait: quiet_hours,
	// rate_limited, transient.
	QueuedByReason map[string]int `json:"queued_by_reason"`
	// SkippedFrequencyCap repeats the frequency cap's count of
	// SkippedByReason; WaitingQuietHours the quiet hours' of QueuedByReason
	// (rows held for the client's morning, sent then).
	SkippedFrequencyCap int        `json:"skipped_frequency_cap"`
	WaitingQuietHours   int        `json:"waiting_quiet_hours"`
	StartedAt           *time.Time `json:"started_at,omitempty"`
	FinishedAt          *time.Time `json:"finished_at,omitempty"`
	DurationSeconds     float64    `json:"duration_seconds"`
	RatePerSecond       float64    `json:"rate_per_second"`
	// ETASeconds is how long the rest takes at the current rate; absent
	// when nothing is sending.
	ETASeconds *float64 `json:"eta_seconds,omitempty"`
}

func newStatsJSON(c *broadcast.Campaign, s *broadcast.Stats) statsJSON {
	out := statsJSON{
		CampaignID: c.ID, State: string(c.State), Targeted: s.Targeted, Queued: s.Queued, Sent: s.Sent,
		Failed: s.Failed, Blocked: s.Blocked, Skipped: s.Skipped,
		FailedByReason: nonNilCounts(s.FailedByReason), SkippedByReason: nonNilCounts(s.SkippedByReason),
		QueuedByReason:      nonNilCounts(s.QueuedByReason),
		SkippedFrequencyCap: s.SkippedByReason[broadcast.ReasonFrequencyCap],
		WaitingQuietHours:   s.QueuedByReason[broadcast.ReasonQuietHours],
		StartedAt:           utc(s.StartedAt), FinishedAt: utc(s.FinishedAt),
		DurationSeconds: s.Duration.Seconds(), RatePerSecond: s.Rate,
	}
	remaining := s.Targeted - s.Sent - s.Failed - s.Blocked - s.Skipped
	if !c.State.Final() && s.Rate > 0 && remaining > 0 {
		eta := float64(remaining) / s.Rate
		out.ETASeconds = &eta
	}
	return out
}

func nonNilCounts(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}
