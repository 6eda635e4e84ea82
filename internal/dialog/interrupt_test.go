package dialog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// extraScenarios writes scenario files for a handler fixture: a poll whose
// option is another scenario's keyword, and a message-only greeting.
func extraScenarios(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"poll.yaml": `id: poll
title: Опрос
triggers: { keywords: [опрос] }
steps:
  ask:
    say: "Что вам интереснее?"
    choices: [Отзыв, Скидки]
    save: vars.pick
    next: bye
  bye:
    say: "Спасибо!"
    end: true
`,
		"hello.yaml": `id: hello
title: Приветствие
triggers: { keywords: [привет мир] }
steps:
  hi:
    say: "Привет и вам!"
    end: true
`,
	}
	var out []string
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestKeywordMidQuestionnaire(t *testing.T) {
	t.Parallel()
	atName := []*messenger.Update{text("/start"), button("yes")} // portrait asks «Как к вам обращаться?»
	tests := []struct {
		name        string
		setup       []*messenger.Update
		steps       []string // client messages after setup
		want        []string // substrings of the replies to the last message, in order
		scenario    string   // running afterwards
		step        string
		paused      string // scenario paused afterwards ("" none)
		savedName   string // first_name afterwards
		wantAnswers int    // answers recorded for portrait
	}{
		{name: "another scenario's keyword starts it and pauses the questionnaire", setup: atName,
			steps: []string{"отзыв"}, want: []string{"от 1 до 5"}, scenario: "feedback", step: "csat", paused: "portrait"},
		{name: "any case and spaces", setup: atName,
			steps: []string{"  ОТЗЫВ "}, want: []string{"от 1 до 5"}, scenario: "feedback", step: "csat", paused: "portrait"},
		{name: "the questionnaire resumes at its question when the other ends", setup: atName,
			steps:    []string{"отзыв", "5", "10", "Пропустить"},
			want:     []string{"Спасибо за отзыв", "Продолжим с того места, где остановились («Знакомство»).", "Как к вам обращаться?"},
			scenario: "portrait", step: "name"},
		{name: "after resuming the answer is taken", setup: atName,
			steps: []string{"отзыв", "5", "10", "Пропустить", "Анна"}, want: []string{"Анна, сколько вам лет"},
			scenario: "portrait", step: "age", savedName: "Анна"},
		{name: "a message-only scenario resumes at once", setup: atName,
			steps: []string{"привет мир"}, want: []string{"Привет и вам!", "Продолжим", "Как к вам обращаться?"},
			scenario: "portrait", step: "name"},
		{name: "a second interruption keeps the first questionnaire to resume", setup: atName,
			steps: []string{"отзыв", "бизнес"}, want: []string{"Подберём решение"}, scenario: "b2b", paused: "portrait"},
		{name: "the running scenario's own keyword is an answer", setup: atName,
			steps: []string{"Анкета"}, want: []string{"Анкета, сколько вам лет"}, scenario: "portrait", step: "age", savedName: "Анкета"},
		{name: "an option of the step is an answer, not a keyword",
			steps: []string{"опрос", "Отзыв"}, want: []string{"Спасибо!"}},
		{name: "a keyword when idle starts the scenario without pausing anything",
			steps: []string{"/stop", "отзыв"}, want: []string{"от 1 до 5"}, scenario: "feedback", step: "csat"},
		{name: "another scenario's command pauses the questionnaire too", setup: atName,
			steps: []string{"/feedback"}, want: []string{"от 1 до 5"}, scenario: "feedback", step: "csat", paused: "portrait"},
		{name: "a command during an interruption keeps the first questionnaire", setup: atName,
			steps: []string{"отзыв", "/business"}, want: []string{"Подберём решение"}, scenario: "b2b", paused: "portrait"},
		{name: "the running scenario's command restarts it", setup: atName,
			steps: []string{"/anketa"}, want: []string{"Согласны на обработку"}, scenario: "portrait", step: "consent"},
		{name: "/start restarts and drops the paused questionnaire", setup: atName,
			steps: []string{"отзыв", "/start"}, want: []string{"Согласны на обработку"}, scenario: "portrait", step: "consent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t, extraScenarios(t)...)
			for _, u := range tt.setup {
				f.say(t, u)
			}
			var got []string
			for _, m := range tt.steps {
				got = f.say(t, text(m))
			}
			joined := strings.Join(got, "\n")
			rest := joined
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("replies %q lack %q (in order %q)", joined, w, tt.want)
				}
				rest = rest[i+len(w):]
			}
			var st State
			if err := decodeState(f.states.st[testChat].Data, &st); err != nil {
				t.Fatal(err)
			}
			if st.Scenario != tt.scenario || tt.step != "" && st.Step != tt.step {
				t.Errorf("running %s/%s, want %s/%s", st.Scenario, st.Step, tt.scenario, tt.step)
			}
			paused := ""
			if st.Paused != nil {
				paused = st.Paused.Scenario
				if st.Paused.Step != "name" || st.Paused.Paused != nil {
					t.Errorf("paused = %+v, want portrait at name, one level", st.Paused)
				}
			}
			if paused != tt.paused {
				t.Errorf("paused %q, want %q", paused, tt.paused)
			}
			if c := f.clients.clients[testChat]; c.FirstName != tt.savedName {
				t.Errorf("first_name = %q, want %q (a keyword must not be saved as the answer)", c.FirstName, tt.savedName)
			}
		})
	}
}

func TestHelpListsScenarioCommands(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t, extraScenarios(t)...)
	got := strings.Join(f.say(t, text("/help")), "\n")
	for _, want := range []string{
		"/manager — позвать менеджера", "/forget — удалить мои данные",
		"/feedback или «отзыв» или «оценка» — Оценка обслуживания",
		"/business или /b2b или «бизнес» или «для бизнеса» — Заявка для бизнеса",
		"/anketa или «анкета» или «начать» — Знакомство",
		"«опрос» — Опрос",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/help lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "/start или") {
		t.Errorf("/help repeats a built-in command:\n%s", got)
	}
}
