package scenario

import (
	"fmt"
	"strings"
	"testing"
)

// bigScenario generates a valid scenario of n steps cycling through the
// input kinds, with templates, conditions and validation.
func bigScenario(n int) []byte {
	var b strings.Builder
	b.WriteString("id: big\ntitle: Большой сценарий\nvars: { reward: \"скидка\" }\nsteps:\n")
	for i := range n {
		next := fmt.Sprintf("s%d", i+1)
		if i == n-1 {
			fmt.Fprintf(&b, "  s%d: { say: \"Спасибо, {{ .client.first_name }}! Ваш подарок: {{ .vars.reward }}\", end: true }\n", i)
			break
		}
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "  s%d:\n    say: \"Как вас зовут? (вопрос %d)\"\n    input: text\n    validate: { min_len: 2, max_len: 60, regex: \"^[А-Яа-яЁё -]+$\", error: \"Напишите имя буквами, {{ .client.first_name }}\" }\n    save: attributes.name_%d\n    skip: true\n    next: %s\n", i, i, i, next)
		case 1:
			fmt.Fprintf(&b, "  s%d:\n    say: \"{{ default \\\"Друг\\\" .client.first_name }}, сколько вам лет?\"\n    input: number\n    validate: { min: 14, max: 100 }\n    save: vars.age_%d\n    next:\n      - { if: \"answer < 18\", goto: %s }\n      - { if: \"answer >= 65 && vars.reward != ''\", goto: %s }\n      - { goto: %s }\n", i, i, next, next, next)
		case 2:
			fmt.Fprintf(&b, "  s%d:\n    say: \"Что вам интересно?\"\n    choices: [Фитнес, Путешествия, Образование, { text: Кулинария, value: cooking }]\n    multiple: true\n    validate: { min: 1, max: 3 }\n    save: attributes.interests_%d\n    tag: [survey]\n    next:\n      - { if: \"'Фитнес' in answer\", goto: %s }\n      - { goto: %s }\n", i, i, next, next)
		case 3:
			fmt.Fprintf(&b, "  s%d:\n    say: \"Согласны?\"\n    buttons:\n      - { text: Да, value: yes, next: %s, tag: agreed }\n      - { text: Нет, value: no, next: %s, untag: agreed }\n", i, next, next)
		case 4:
			fmt.Fprintf(&b, "  s%d:\n    say: \"Дата рождения?\"\n    input: date\n    validate: { min_date: \"1900-01-01\", max_date: today }\n    save: attributes.date_%d\n    next: %s\n", i, i, next)
		case 5:
			fmt.Fprintf(&b, "  s%d: { say: \"Спасибо! Идём дальше.\", tag: step_%d, next: %s }\n", i, i, next)
		}
	}
	return []byte(b.String())
}

func TestBigScenarioLoads(t *testing.T) {
	t.Parallel()
	g, err := Load("big.yaml", bigScenario(500))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Order) != 500 {
		t.Fatalf("steps = %d", len(g.Order))
	}
}

func BenchmarkLoad500Steps(b *testing.B) {
	src := bigScenario(500)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("big.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}
