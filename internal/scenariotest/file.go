// Package scenariotest runs operators' scenario tests: YAML files of cases
// ("the client says / presses", "the bot says / offers / saved") beside the
// scenarios (scenarios/tests/*.test.yaml). A case runs in-process through
// the real dialog handler on the embedded default storage (an in-memory
// SQLite CRM and an in-process Redis), with a fixed clock; a failure names
// the file:line:col of the expectation that failed and what the bot did
// instead. `chathub test` and the console's Сценарии page run them.
// docs/SCENARIOS.md, "Testing scenarios", describes the format.
package scenariotest

import (
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// FileSuffix ends the name of a test file.
const FileSuffix = ".test.yaml"

// DefaultNow is the cases' clock unless a file or case sets now: a
// Wednesday noon in Moscow (inside usual working hours).
var DefaultNow = time.Date(2025, time.June, 4, 12, 0, 0, 0, time.FixedZone("MSK", 3*60*60))

// File is one parsed test file.
type File struct {
	Path  string
	Cases []*Case
}

// Case is one conversation: how it starts and its steps.
type Case struct {
	Name string
	Pos  scenario.Pos
	// Scenario is the scenario the case tests (its own scenario: or the
	// file's).
	Scenario string
	// Begin starts Scenario before the first step, as the console's
	// playground and `chathub chat` do; false leaves the start to the
	// steps' messages (a command, a keyword).
	Begin bool
	// Profile is what the platform tells about the client (first name…).
	Profile *messenger.Profile
	// Now is the clock of every turn of the case.
	Now   time.Time
	Steps []*Step
}

// ActionKind is what the client does in a step.
type ActionKind int

// Actions of a step.
const (
	// ActionNone checks the bot's latest replies (the start's, for a first
	// step) without a new message.
	ActionNone ActionKind = iota
	// ActionSay sends a typed message.
	ActionSay
	// ActionPress presses a button the bot offers, by its caption.
	ActionPress
	// ActionContact shares the client's own phone number.
	ActionContact
)

// Step is one thing the client does and what is expected after it.
type Step struct {
	// N is the step's number in its case, from 1.
	N   int
	Pos scenario.Pos
	// Action and Text are what the client does; TextPos is where Text is.
	Action  ActionKind
	Text    string
	TextPos scenario.Pos
	Checks  []Check
}

// CheckKind is what a Check looks at.
type CheckKind int

// Checks of an expect: mapping.
const (
	// CheckBot: the bot's replies to the step contain Text.
	CheckBot CheckKind = iota
	// CheckNotBot: they do not contain Text.
	CheckNotBot
	// CheckButtons: the buttons the client can press are List, in order.
	CheckButtons
	// CheckNoReply: the bot sent nothing.
	CheckNoReply
	// CheckScenario: the running conversation is scenario Text.
	CheckScenario
	// CheckStep: the conversation waits at step Text of scenario Scenario.
	CheckStep
	// CheckEnded: no conversation runs (Bool false: one runs).
	CheckEnded
	// CheckHandoff: the chat is with a manager (Bool false: it is not).
	CheckHandoff
	// CheckField: the client's field Text holds Value.
	CheckField
	// CheckTag: the client has tag Text.
	CheckTag
	// CheckNoTag: the client does not have tag Text.
	CheckNoTag
)

// Check is one expectation, at the position of its value in the file.
type Check struct {
	Kind CheckKind
	Pos  scenario.Pos
	Text string
	// Scenario is the scenario of a CheckStep.
	Scenario string
	List     []string
	Bool     bool
	// Value of a CheckField: nil (the field is empty), a string, or a
	// []string for a list.
	Value any
}
