package scenario

import (
	"strings"
	"testing"
	"time"
)

// remindScenario is a scenario whose step "name" carries remind (indented
// under the step, 4 spaces).
func remindScenario(remind string) string {
	return `id: x
steps:
  name:
    say: "Как вас зовут?"
    input: text
    next: bye
` + remind + `  bye:
    say: "Спасибо!"
    end: true
`
}

func TestRemindLoads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remind string
		after  time.Duration
		times  int
		static bool
	}{
		{"defaults", "    remind: { after: 2h, text: \"Вы не ответили. Продолжим?\" }\n", 2 * time.Hour, 1, true},
		{"days and times", "    remind:\n      after: 1d\n      text: \"{{ default \\\"Друг\\\" .client.first_name }}, продолжим?\"\n      times: 3\n",
			24 * time.Hour, 3, false},
		{"days and hours", "    remind: { after: 1d12h, text: x, times: 2 }\n", 36 * time.Hour, 2, true},
		{"shortest", "    remind: { after: 1m, text: x }\n", time.Minute, 1, true},
		{"longest", "    remind: { after: 720h, text: x }\n", 30 * 24 * time.Hour, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := Load("t.yaml", []byte(remindScenario(tt.remind)))
			if err != nil {
				t.Fatal(err)
			}
			r := g.Steps["name"].Remind
			if r == nil || r.After != tt.after || r.Times != tt.times || r.Text.Static() != tt.static || r.Pos != (Pos{Line: 7, Col: 5}) {
				t.Fatalf("remind = %+v, want after %s times %d static %v at 7:5", r, tt.after, tt.times, tt.static)
			}
			if g.Steps["bye"].Remind != nil {
				t.Fatal("a step without remind: has one")
			}
		})
	}
}

func TestRemindErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // the error lines, in order (prefixes)
	}{
		{"after too short", remindScenario("    remind: { after: 30s, text: x }\n"),
			[]string{`t.yaml:7:22: "after" in remind: of step "name" is 30s; wait at least 1m before reminding, e.g. after: 30m`}},
		{"after too long", remindScenario("    remind: { after: 31d, text: x }\n"),
			[]string{`t.yaml:7:22: "after" in remind: of step "name" is 31d; remind within 30d (720h)`}},
		{"after without a unit", remindScenario("    remind: { after: 90, text: x }\n"),
			[]string{`t.yaml:7:22: "after" in remind: of step "name" must be a duration such as 30m, 2h, 1h30m or 1d, got "90"`}},
		{"after negative", remindScenario("    remind: { after: -5m, text: x }\n"),
			[]string{`t.yaml:7:22: "after" in remind: of step "name" must be a duration such as 30m, 2h, 1h30m or 1d, got "-5m"`}},
		{"after missing", remindScenario("    remind:\n      text: x\n"),
			[]string{`t.yaml:8:7: remind: of step "name" has no after:; write how long to wait for the answer, e.g. after: 2h`}},
		{"after a list", remindScenario("    remind: { after: [1h], text: x }\n"),
			[]string{`t.yaml:7:22: "after" in remind: of step "name" must be a text, got a list`}},
		{"text missing", remindScenario("    remind:\n      after: 1h\n"),
			[]string{`t.yaml:8:7: remind: of step "name" has no text:; write what the reminder says`}},
		{"text empty", remindScenario("    remind: { after: 1h, text: \"  \" }\n"),
			[]string{`t.yaml:7:32: "text" in remind: of step "name" is empty; write a text or remove the key`}},
		{"text too long", remindScenario("    remind: { after: 1h, text: " + strings.Repeat("я", 4097) + " }\n"),
			[]string{`t.yaml:7:32: "text" in remind: of step "name" is 4097 characters long, at most 4096 (one message); shorten it`}},
		{"text unknown name", remindScenario("    remind: { after: 1h, text: \"{{ .client.frist_name }}, продолжим?\" }\n"),
			[]string{`t.yaml:7:44: template in remind.text: of step "name": unknown client field "frist_name"; did you mean .client.first_name?`}},
		{"text bad function", remindScenario("    remind: { after: 1h, text: \"{{ lowr .answer }}\" }\n"),
			[]string{`t.yaml:7:36: bad template in remind.text: of step "name": unknown function "lowr"; did you mean "lower"?`}},
		{"times zero", remindScenario("    remind: { after: 1h, text: x, times: 0 }\n"),
			[]string{`t.yaml:7:42: "times" in remind: of step "name" must be 1, 2 or 3, got 0; more reminders than that read as spam`}},
		{"times four", remindScenario("    remind: { after: 1h, text: x, times: 4 }\n"),
			[]string{`t.yaml:7:42: "times" in remind: of step "name" must be 1, 2 or 3, got 4`}},
		{"times not a number", remindScenario("    remind: { after: 1h, text: x, times: many }\n"),
			[]string{`t.yaml:7:42: "times" in remind: of step "name" must be a whole number, 0 or more, got "many"`}},
		{"unknown key", remindScenario("    remind: { after: 1h, text: x, time: 2 }\n"),
			[]string{`t.yaml:7:35: unknown key "time" in remind: of step "name"; did you mean "times"?`}},
		{"not a mapping", remindScenario("    remind: 2h\n"),
			[]string{`t.yaml:7:13: remind: of step "name" must be a mapping of key: value lines, got "2h"`}},
		{"every problem at once", remindScenario("    remind: { after: 10s, text: \"\", times: 9 }\n"), []string{
			`t.yaml:7:22: "after" in remind: of step "name" is 10s`,
			`t.yaml:7:33: "text" in remind: of step "name" is empty`,
			`t.yaml:7:44: "times" in remind: of step "name" must be 1, 2 or 3, got 9`,
		}},
		{"step without input", `id: x
steps:
  hello:
    say: "Привет!"
    remind: { after: 1h, text: "Вы здесь?" }
    next: name
  name:
    say: "Как вас зовут?"
    input: text
    end: true
`, []string{`t.yaml:5:5: remind: in step "hello" has nothing to remind of: the step asks for no answer; move remind: to a step with an input or remove it`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := loadErrors(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i+1, got[i], w)
				}
			}
		})
	}
}

func TestParseRemindAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{" 2h ", 2 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"1d", 24 * time.Hour, true},
		{"2d12h", 60 * time.Hour, true},
		{"0d", 0, true},
		{"1.5h", 90 * time.Minute, true},
		{"", 0, false},
		{"d", 0, false},
		{"1d-1h", 0, false},
		{"-1d", 0, false},
		{"+1d", 0, false},
		{"+1h", 0, false},
		{"1h1d", 0, false},
		{"2 hours", 0, false},
		{"90", 0, false},
		{"99999d", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseRemindAfter(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRemindAfter(%q) = %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseRemindAfter: no input panics, and what is read is never
// negative and reads back the same from its Go form.
func FuzzParseRemindAfter(f *testing.F) {
	for _, s := range []string{"30m", "1d", "2d12h", "1h30m", "-1d", "9999999999d", "1d1d", "1.5h", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRemindAfter(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseRemindAfter(%q) = %s, negative", s, d)
		}
		back, err := ParseRemindAfter(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseRemindAfter(%q) = %s; its form %q reads %s, %v", s, d, d.String(), back, err)
		}
	})
}
