// Package scenario loads YAML dialogue scenarios into validated, immutable
// graphs. Loading reports every problem at once, each as file:line:col, and a
// Registry keeps the last good version of each scenario running while files
// are edited (hot reload).
package scenario

import (
	"regexp"
	"text/template"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/chathub/chathub/internal/crm"
)

// Graph is one compiled scenario. It is immutable once built and safe for
// concurrent use.
type Graph struct {
	// ID is the scenario id (`id:`), unique across a directory.
	ID    string
	Title string
	// Description is the operator's note on the scenario (`description:`).
	Description string
	// Version is the content hash of the source file (hex sha256, first 16 chars).
	// A conversation stays on the version it started on until it ends.
	Version string
	// File is the path it was loaded from; Source its bytes.
	File   string
	Source []byte

	Triggers Triggers
	// Start is the first step (`start:`, default: the first step in the file).
	Start string
	// SkipWord is what a client types (or the button caption) to skip a step
	// with `skip: true` (`skip_word:`, default "Пропустить").
	SkipWord string
	// Vars are the scenario's static variables (`vars:`), visible in templates
	// and conditions as .vars / vars.
	Vars map[string]any
	// Steps by id, and Order: step ids in file order.
	Steps map[string]*Step
	Order []string

	// idPos and triggerPos locate `id:` and each trigger (keyed
	// "command:start", "keyword:анкета", "payload:ads_*") for errors about
	// clashes with other files.
	idPos      Pos
	triggerPos map[string]Pos
}

// Triggers start (or restart) a scenario.
type Triggers struct {
	// Commands without the leading slash, lower-case ("start", "feedback").
	Commands []string
	// Keywords match a whole message, case-insensitively, trimmed ("анкета").
	Keywords []string
	// Payloads match a deep-link payload (Telegram "/start <p>", VK ref); a
	// trailing "*" matches by prefix ("ads_*").
	Payloads []string
}

// InputKind is what a step waits for.
type InputKind int

// Input kinds. InputNone is a message-only step: it is said, its actions run,
// and the conversation moves on at once (or ends).
const (
	InputNone InputKind = iota
	InputText
	InputNumber
	InputEmail
	InputPhone
	InputDate
	InputChoice
	InputContact
)

var inputNames = [...]string{"none", "text", "number", "email", "phone", "date", "choice", "contact"}

// String returns the YAML name of the kind.
func (k InputKind) String() string {
	if int(k) < len(inputNames) {
		return inputNames[k]
	}
	return "unknown"
}

// Pos is a position in a scenario file (1-based).
type Pos struct {
	Line, Col int
}

// Step is one node of a scenario.
//
// Lifecycle: entering a step sends Say (with the options as buttons, a contact
// button for InputContact, and a skip button when Skip). A step with
// InputNone then runs its actions (tags, handoff) and moves on at once. A step
// with an input waits for the answer; an invalid answer is re-asked with
// ErrorText (or the kind's default error) and the state stays; a valid one is
// normalised, saved (Save), recorded in the answer history, its tags and the
// chosen option's tags applied, a handoff recorded, and then the conversation
// moves to the next step: the chosen option's Next if set, else the first
// Branch whose condition holds. End ends the conversation after the step.
type Step struct {
	ID  string
	Pos Pos

	// Say is the message text; nil for none.
	Say   *Text
	Input InputKind
	// Options are the buttons of a choice step (`buttons:` or `choices:`).
	Options []Option
	// Multiple allows several options to be chosen (`multiple: true`); the
	// client toggles options and finishes with DoneText.
	Multiple bool
	// DoneText is the caption of the button that finishes a multi-select
	// (`done:`, default "Готово").
	DoneText string
	// FreeText lets a choice step accept a typed answer that matches no option
	// (`free_text: true`), validated by Validate like text.
	FreeText bool
	Validate Validation
	// ErrorText is the re-ask text (`validate.error:`); nil means the kind's default.
	ErrorText *Text
	Save      Target
	Tags      []string
	Untags    []string
	Next      []Branch
	End       bool
	// Handoff records a request to talk to a person (`handoff: true` or
	// `handoff: "reason"`).
	Handoff       bool
	HandoffReason string
	// Skip lets the client skip this step with the scenario's skip word.
	Skip bool
	// Remind, when set, reminds a client who leaves the step's question
	// unanswered (`remind:`); only steps with an input have one.
	Remind *Remind
}

// Remind is a step's `remind:`: when the client has not answered the
// step's question After after it was asked, Text is sent with the step's
// buttons; again After later, Times reminders at most (docs/SCENARIOS.md,
// "Reminders").
type Remind struct {
	After time.Duration
	Text  *Text
	// Times is how many reminders at most (DefaultRemindTimes when not
	// written, at most MaxRemindTimes).
	Times int
	// Pos is where `remind:` is written.
	Pos Pos
}

// Option is one button of a choice step.
type Option struct {
	Text  string
	Value string
	// Next overrides the step's next when this option is chosen ("" for none).
	Next   string
	Tags   []string
	Untags []string
}

// Validation holds a step's validation rules; zero values mean "no rule".
type Validation struct {
	// Min and Max bound a number, or the count of options of a multi-select.
	Min, Max *float64
	// Integer requires a whole number (implied when saving to an integer column).
	Integer bool
	// MinLen and MaxLen bound a text's length in characters (runes).
	MinLen, MaxLen int
	Regex          *regexp.Regexp
	// MinDate and MaxDate bound a date.
	MinDate, MaxDate DateBound
}

// DateBound is a date limit: a fixed date or "today" (relative to the answer time).
type DateBound struct {
	Set   bool
	Today bool
	Date  time.Time
}

// At resolves the bound for an answer given at now.
func (b DateBound) At(now time.Time) time.Time {
	if b.Today {
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return b.Date
}

// TargetKind tells where a step saves its answer.
type TargetKind int

// Save target kinds.
const (
	SaveNone TargetKind = iota
	// SaveField writes a core column (Target.Field).
	SaveField
	// SaveAttribute writes attributes.<Name>.
	SaveAttribute
	// SaveConsent records consent (crm.SaveConsent).
	SaveConsent
	// SaveVar keeps the answer in the conversation's variables (vars.<Name>),
	// not in the CRM.
	SaveVar
)

// Target is a step's `save:`.
type Target struct {
	Kind  TargetKind
	Name  string    // column, attribute key or variable name
	Field crm.Field // for SaveField
}

// Branch is one entry of `next:`; a nil Cond always matches. A `next:` list
// always ends with an unconditional branch (the loader enforces it).
type Branch struct {
	Cond   *vm.Program
	Source string // the condition as written, for errors and logs
	Goto   string
}

// Text is a compiled text/template; static texts render without executing.
type Text struct {
	Raw    string
	tmpl   *template.Template
	static bool
}
