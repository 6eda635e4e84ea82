package crm

import "time"

// StepVisit is one change to a conversation's step visits, the funnel's
// record (docs/FUNNEL.md): a conversation entered a step, answered it and
// went on, passed a message-only step, or ended there without an answer.
// Visits are recorded as they happen, never inferred from answers.
type StepVisit struct {
	// Scenario and Version are the graph the conversation runs on.
	Scenario string
	Version  string
	// Run identifies the conversation among the client's: when it started,
	// in Unix microseconds (the dialog state's StartedAt).
	Run int64
	// Step is the step visited.
	Step  string
	Event VisitEvent
	// Next is the step the conversation went on to (VisitAnswer,
	// VisitPass); "" when it ended there.
	Next string
}

// VisitEvent is what happened to a step visit.
type VisitEvent uint8

// Visit events.
const (
	// VisitEnter: the conversation entered the step and waits for an
	// answer there (an open visit).
	VisitEnter VisitEvent = iota + 1
	// VisitPass: the conversation entered a message-only step and left it
	// at once (entered, answered and left at the same time).
	VisitPass
	// VisitAnswer: the client answered (or skipped) the open visit of the
	// step, and the conversation went on to Next.
	VisitAnswer
	// VisitDrop: the conversation ended at the step's open visit without
	// an answer (another scenario replaced it, a manager ended it).
	VisitDrop
)

// FunnelQuery selects the conversations a funnel counts: those of
// Scenario started at or after Since, optionally of one Version and of
// clients of one Platform and deep-link Source.
type FunnelQuery struct {
	Scenario string
	Since    time.Time
	Version  string
	Platform string
	Source   string
	// OpenSince: an unanswered visit that has not been left counts as
	// stuck when entered at or after it, else as dropped (an idle
	// conversation's state expires).
	OpenSince time.Time
}

// FunnelStepCount is what a store counts for one step of a funnel: unique
// conversations that entered it, answered it, wait there now (stuck) and
// ended there without an answer (dropped); the median time from entering
// to answering; and the first reminders of its question sent (in the
// period) and answered afterwards.
type FunnelStepCount struct {
	Step                              string
	Entered, Answered, Stuck, Dropped int
	MedianAnswer                      time.Duration
	Reminded, CameBack                int
}

// ScenarioVersion is one version of a scenario that ran: its content hash
// and when it was first stored.
type ScenarioVersion struct {
	Version string
	Since   time.Time
}

// FunnelRefresh reports what one refresh of the funnel rollup did
// (RefreshFunnel of internal/store/postgres).
type FunnelRefresh struct {
	// Ran is false when another process held the refresh (or the store is
	// SQLite, which reads its funnels live).
	Ran bool
	// Full is true for the first build of every day.
	Full bool
	// Days is how many (scenario, day) pairs were rebuilt; Visits how
	// many visits that read.
	Days, Visits int
}
