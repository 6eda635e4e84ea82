package scenario

import (
	"slices"
	"strings"
)

// CommandValuePrefix starts an option value the engine handles itself
// instead of saving it as the answer: a button «Позвать менеджера» with
// value cmd:manager hands the chat to a manager wherever it is pressed.
const CommandValuePrefix = "cmd:"

// ScenarioValuePrefix + a scenario id is the value of a button that starts
// that scenario.
const ScenarioValuePrefix = CommandValuePrefix + "scenario:"

// CommandValues are the command values a scenario's option may carry
// (besides ScenarioValuePrefix + an id): unsubscribe (/stop), delete my
// data (/forget, with its confirmation) and call a manager (/manager).
var CommandValues = []string{"cmd:stop", "cmd:forget", "cmd:manager"}

// commandValueProblem explains why v, an option value starting with
// CommandValuePrefix, is not one the engine knows; "" when it is.
func commandValueProblem(v string) string {
	if slices.Contains(CommandValues, v) {
		return ""
	}
	if id, ok := strings.CutPrefix(v, ScenarioValuePrefix); ok {
		if scenarioIDRe.MatchString(id) {
			return ""
		}
		return "names no scenario id after " + ScenarioValuePrefix
	}
	return "is not a command the bot knows; use one of " + strings.Join(CommandValues, ", ") +
		" or " + ScenarioValuePrefix + "<scenario id>, or a value without the cmd: prefix"
}
