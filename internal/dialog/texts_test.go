package dialog

import (
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

func TestCountWord(t *testing.T) {
	t.Parallel()
	chars := DefaultTexts().CharForms
	choices := DefaultTexts().ChoiceForms
	tests := []struct {
		n     int
		forms [3]string
		want  string
	}{
		{1, chars, "1 символ"}, {2, chars, "2 символа"}, {4, chars, "4 символа"}, {5, chars, "5 символов"},
		{11, chars, "11 символов"}, {12, chars, "12 символов"}, {14, chars, "14 символов"}, {21, chars, "21 символ"},
		{22, chars, "22 символа"}, {60, chars, "60 символов"}, {101, chars, "101 символ"}, {111, chars, "111 символов"},
		{2000, chars, "2000 символов"}, {0, chars, "0 символов"},
		{1, choices, "1 вариант"}, {3, choices, "3 варианта"}, {5, choices, "5 вариантов"}, {13, choices, "13 вариантов"},
	}
	for _, tt := range tests {
		if got := CountWord(tt.n, tt.forms); got != tt.want {
			t.Errorf("CountWord(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// wordsGraph has limits whose words take each plural form and a
// multi-select whose finish button is not «Готово».
const wordsGraph = `id: words
start: one
steps:
  one:
    say: "Одна буква?"
    input: text
    validate: { min_len: 1, max_len: 1 }
    next: three
  three:
    say: "Три буквы?"
    input: text
    validate: { min_len: 3, max_len: 4 }
    next: many
  many:
    say: "Много букв?"
    input: text
    validate: { min_len: 5, max_len: 11 }
    next: pick
  pick:
    say: "Выберите два или три"
    choices: [А, Б, В, Г, Д, Е]
    multiple: true
    done: Дальше
    validate: { min: 2, max: 5 }
    next: end
  end:
    say: "Всё"
    end: true
`

func TestValidationTextsSayWordsAndTheStepsButton(t *testing.T) {
	t.Parallel()
	g, err := scenario.Load("words.yaml", []byte(wordsGraph))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(EngineConfig{})
	tests := []struct {
		step, answer string
		selected     []string
		want         string
	}{
		{"one", "ab", nil, "Слишком длинно: можно максимум 1 символ."},
		{"three", "ab", nil, "Слишком коротко: нужно хотя бы 3 символа."},
		{"three", "abcde", nil, "Слишком длинно: можно максимум 4 символа."},
		{"many", "ab", nil, "Слишком коротко: нужно хотя бы 5 символов."},
		{"many", strings.Repeat("я", 12), nil, "Слишком длинно: можно максимум 11 символов."},
		{"pick", "Дальше", []string{"А"}, "Отметьте хотя бы 2 варианта и нажмите «Дальше»."},
		{"pick", "1 2 3 4 5 6", nil, "Можно отметить максимум 5 вариантов."},
	}
	for _, tt := range tests {
		t.Run(tt.step+"/"+tt.answer, func(t *testing.T) {
			t.Parallel()
			st := State{Scenario: g.ID, Version: g.Version, Step: tt.step, Selected: tt.selected}
			var res Result
			e.Answer(g, &st, &Turn{Chat: testChat, Update: text(tt.answer), Now: testNow}, &res)
			if len(res.Replies) == 0 || res.Replies[0].Text != tt.want {
				t.Fatalf("replies = %+v, want %q", res.Replies, tt.want)
			}
			for _, abbr := range []string{"симв.", "вар.", "«Готово»"} {
				if strings.Contains(res.Replies[0].Text, abbr) {
					t.Errorf("reply %q contains %q", res.Replies[0].Text, abbr)
				}
			}
		})
	}
}
