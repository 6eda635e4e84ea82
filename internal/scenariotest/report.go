package scenariotest

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Report is the outcome of a Run.
type Report struct {
	Cases          []CaseResult
	Passed, Failed int
	Duration       time.Duration
	// Coverage is each scenario's coverage by the cases run, by id.
	Coverage []Coverage
}

// CaseResult is one case's outcome.
type CaseResult struct {
	File, Name, Scenario string
	// Line and Col are where the case starts in File.
	Line, Col int
	Passed    bool
	// Failures are the failed expectations of the step where the case
	// stopped (a case stops at its first failing step).
	Failures []Failure
	Duration time.Duration
}

// Failure is an expectation that did not hold, at its place in the file.
type Failure struct {
	File      string
	Line, Col int
	Case      string
	// Step is the step's number in its case, 0 for the case's start.
	Step int
	Msg  string
}

// Error formats the failure as
// `file:line:col: case "name": step N: message`.
func (f Failure) Error() string {
	step := "start"
	if f.Step > 0 {
		step = fmt.Sprintf("step %d", f.Step)
	}
	return fmt.Sprintf("%s:%d:%d: case %q: %s: %s", f.File, f.Line, f.Col, f.Case, step, f.Msg)
}

// Summary is one scenario's results (what the console shows).
type Summary struct {
	Passed, Failed int
	// First is the first failure, nil when every case passed.
	First *Failure
}

// ByScenario sums the cases up by the scenario they test.
func (r *Report) ByScenario() map[string]Summary {
	out := map[string]Summary{}
	for _, c := range r.Cases {
		s := out[c.Scenario]
		if c.Passed {
			s.Passed++
		} else {
			s.Failed++
			if s.First == nil && len(c.Failures) > 0 {
				f := c.Failures[0]
				s.First = &f
			}
		}
		out[c.Scenario] = s
	}
	return out
}

// WriteText prints the failures, one line each, and a summary line; with
// coverage, each scenario's coverage and what no case reached.
func (r *Report) WriteText(w io.Writer, coverage bool) {
	for _, c := range r.Cases {
		for _, f := range c.Failures {
			fmt.Fprintln(w, f.Error())
		}
	}
	if coverage {
		for _, c := range r.Coverage {
			fmt.Fprintf(w, "coverage: %-10s %5.1f%%  steps %d/%d, branches %d/%d, re-asks %d/%d\n", c.Scenario, c.Percent(),
				c.StepsReached, c.Steps, c.BranchesTaken, c.Branches, c.ReasksTested, c.Reasks)
			for _, g := range c.Gaps {
				fmt.Fprintf(w, "  %s\n", g.Error())
			}
		}
	}
	status := "PASS"
	if r.Failed > 0 {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d cases, %d passed, %d failed (%s)\n", status, len(r.Cases), r.Passed, r.Failed, r.Duration.Round(time.Millisecond))
}

// jsonReport is the JSON form of a Report.
type jsonReport struct {
	Passed     int            `json:"passed"`
	Failed     int            `json:"failed"`
	DurationMS float64        `json:"duration_ms"`
	Cases      []jsonCase     `json:"cases"`
	Coverage   []jsonCoverage `json:"coverage,omitempty"`
}

type jsonCase struct {
	File       string        `json:"file"`
	Line       int           `json:"line"`
	Col        int           `json:"col"`
	Name       string        `json:"name"`
	Scenario   string        `json:"scenario"`
	Passed     bool          `json:"passed"`
	DurationMS float64       `json:"duration_ms"`
	Failures   []jsonFailure `json:"failures,omitempty"`
}

type jsonFailure struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Step    int    `json:"step"`
	Message string `json:"message"`
	Text    string `json:"text"`
}

type jsonCoverage struct {
	Scenario      string   `json:"scenario"`
	File          string   `json:"file"`
	Percent       float64  `json:"percent"`
	Steps         int      `json:"steps"`
	StepsReached  int      `json:"steps_reached"`
	Branches      int      `json:"branches"`
	BranchesTaken int      `json:"branches_taken"`
	Reasks        int      `json:"reasks"`
	ReasksTested  int      `json:"reasks_tested"`
	Uncovered     []string `json:"uncovered"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteJSON prints the report as one JSON document; with coverage, the
// scenarios' coverage too.
func (r *Report) WriteJSON(w io.Writer, coverage bool) error {
	out := jsonReport{Passed: r.Passed, Failed: r.Failed, DurationMS: ms(r.Duration), Cases: []jsonCase{}}
	for _, c := range r.Cases {
		jc := jsonCase{File: c.File, Line: c.Line, Col: c.Col, Name: c.Name, Scenario: c.Scenario, Passed: c.Passed, DurationMS: ms(c.Duration)}
		for _, f := range c.Failures {
			jc.Failures = append(jc.Failures, jsonFailure{File: f.File, Line: f.Line, Col: f.Col, Step: f.Step, Message: f.Msg, Text: f.Error()})
		}
		out.Cases = append(out.Cases, jc)
	}
	if coverage {
		for _, c := range r.Coverage {
			jc := jsonCoverage{Scenario: c.Scenario, File: c.File, Percent: c.Percent(), Steps: c.Steps, StepsReached: c.StepsReached,
				Branches: c.Branches, BranchesTaken: c.BranchesTaken, Reasks: c.Reasks, ReasksTested: c.ReasksTested, Uncovered: []string{}}
			for _, g := range c.Gaps {
				jc.Uncovered = append(jc.Uncovered, g.Error())
			}
			out.Coverage = append(out.Coverage, jc)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// Add appends the cases and coverage of o (another scenario directory's
// run) to r.
func (r *Report) Add(o *Report) {
	r.Cases = append(r.Cases, o.Cases...)
	r.Passed += o.Passed
	r.Failed += o.Failed
	r.Duration += o.Duration
	r.Coverage = append(r.Coverage, o.Coverage...)
}
