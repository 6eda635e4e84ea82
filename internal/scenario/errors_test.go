package scenario

import (
	"errors"
	"strings"
	"testing"
)

// loadErrors loads src as "t.yaml" and returns its error lines.
func loadErrors(t *testing.T, src string) []string {
	t.Helper()
	g, err := Load("t.yaml", []byte(src))
	if err == nil {
		return nil
	}
	if g != nil {
		t.Errorf("Load returned a graph with errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList", err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // prefixes of the error lines, in order
	}{
		{"yaml syntax: unclosed flow mapping", `id: x
steps:
  a: {say: "Привет", end: true
  b: 1
`, []string{`t.yaml:3:1: YAML syntax error: did not find expected ',' or '}'`}},
		{"yaml syntax: bad indentation", `id: x
steps:
  a:
    say: Привет
   end: true
`, []string{`t.yaml:5:1: YAML syntax error: did not find expected key; check indentation`}},
		{"yaml syntax: scanner", `id: x
steps:
  a:
    say: Привет: мир
`, []string{`t.yaml:4:1: YAML syntax error: mapping values are not allowed in this context`}},
		{"yaml syntax: tab", "id: x\nsteps:\n\ta: 1\n",
			[]string{`t.yaml:3:1: YAML syntax error: found character that cannot start any token`}},
		{"empty file", "# только комментарий\n",
			[]string{`t.yaml:1:1: the file is empty; a scenario needs at least id: and steps:`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`t.yaml:1:1: a scenario file must be a mapping of key: value lines, got a list`}},
		{"two documents", "id: x\nsteps:\n  a: { say: x, end: true }\n---\nid: y\n",
			[]string{`t.yaml:4:1: a file holds one scenario; move this second document (after ---) to a file of its own`}},
		{"unknown command values", `id: x
steps:
  a:
    say: "Что дальше?"
    buttons:
      - { text: "Менеджер", value: "cmd:manager" }
      - { text: "Опечатка", value: "cmd:bogus" }
      - { text: "Отзыв", value: "cmd:scenario:feedback" }
      - { text: "Пусто", value: "cmd:scenario:" }
      - "cmd:forget:yes"
    end: true
`, []string{
			`t.yaml:7:36: the value "cmd:bogus" in button 2 of step "a" is not a command the bot knows; use one of cmd:stop, cmd:forget, cmd:manager`,
			`t.yaml:9:33: the value "cmd:scenario:" in button 4 of step "a" names no scenario id after cmd:scenario:`,
			`t.yaml:10:9: the value "cmd:forget:yes" in button 5 of step "a" is not a command the bot knows`,
		}},
		{"unknown keys", `id: x
stpes: {}
common: 1
steps:
  name:
    sya: "Как вас зовут?"
    end: true
`, []string{
			`t.yaml:2:1: unknown key "stpes" at the top level; did you mean "steps"?`,
			`t.yaml:3:1: unknown key "common" at the top level; allowed keys: id, title, description, triggers, start, skip_word, vars, steps (or start it with x- to hold YAML anchors)`,
			`t.yaml:6:5: unknown key "sya" in step "name"; did you mean "say"?`,
		}},
		{"wrong value types", `id: x
steps:
  a:
    say: "Имя?"
    input: text
    multiple: yes
    end: "да"
    validate: { min_len: два, max_len: [1] }
    tag: {a: b}
`, []string{
			`t.yaml:6:15: "multiple" in step "a" must be true or false, got "yes"`,
			`t.yaml:7:10: "end" in step "a" must be true or false, got "да"`,
			`t.yaml:8:26: "min_len" in validate: of step "a" must be a whole number, 0 or more, got "два"`,
			`t.yaml:8:40: "max_len" in validate: of step "a" must be a whole number, 0 or more, got a list`,
			`t.yaml:9:10: "tag" in step "a" must be a text or a list of texts, got a mapping`,
		}},
		{"missing id and bad id", "title: Без id\nsteps:\n  a: { say: \"Привет\", end: true }\n",
			[]string{"t.yaml:1:1: missing id: add `id: <name>`"}},
		{"invalid id", "id: Portrait X\nsteps:\n  a: { say: x, end: true }\n",
			[]string{`t.yaml:1:5: id "Portrait X" may hold only lower-case latin letters, digits, _ and -; rename it, e.g. "portrait_x"`}},
		{"missing steps", "id: x\n", []string{"t.yaml:1:1: missing steps: add `steps:`"}},
		{"unknown step references", `id: x
start: nmae
steps:
  name:
    say: "Имя?"
    buttons:
      - { text: Да, next: ctiy }
      - { text: Нет, next: nowhere }
  city:
    say: "Город?"
    input: text
    next:
      - { if: "answer == 'Москва'", goto: nmae }
      - { goto: ctiy }
`, []string{
			`t.yaml:2:8: unknown step "nmae" in start:; did you mean "name"?`,
			`t.yaml:7:27: unknown step "ctiy" in button 1 of step "name"; did you mean "city"?`,
			`t.yaml:8:28: unknown step "nowhere" in button 2 of step "name"; add a step with that id`,
			`t.yaml:13:43: unknown step "nmae" in next: entry 1 of step "city"; did you mean "name"?`,
			`t.yaml:14:17: unknown step "ctiy" in next: entry 2 of step "city"; did you mean "city"?`,
		}},
		{"unknown next", "id: x\nsteps:\n  a: { say: x, next: b }\n",
			[]string{`t.yaml:3:22: unknown step "b" in next: of step "a"; add a step with that id`}},
		{"unreachable step", `id: x
steps:
  a: { say: "Привет", end: true }
  b: { say: "Пока", end: true }
`, []string{`t.yaml:4:3: step "b" is never reached from the start step "a"; lead to it with next: from another step, or remove it`}},
		{"duplicate step ids and keys", `id: x
steps:
  a: { say: "Привет", next: b, say: "Ещё" }
  b: { say: "Пока", end: true }
  a: { say: "Ещё", end: true }
`, []string{
			`t.yaml:3:32: duplicate key "say" in step "a" (first at line 3); remove or rename one of them`,
			`t.yaml:5:3: duplicate step id "a" in steps: (first at line 3); remove or rename one of them`,
		}},
		{"bad expressions", `id: x
steps:
  age:
    say: "Сколько вам лет?"
    input: number
    next:
      - { if: "answer < ", goto: ok }
      - { if: "answer == 'x'", goto: ok }
      - { if: "foo > 1", goto: ok }
      - { if: "answer + 1", goto: ok }
      - { goto: ok }
  ok: { say: "Ок", end: true }
`, []string{
			`t.yaml:7:15: bad condition "answer < " in next: entry 1 of step "age": unexpected token EOF (at 1:9 of the condition)`,
			`t.yaml:8:15: bad condition "answer == 'x'" in next: entry 2 of step "age": invalid operation: == (mismatched types float64 and string)`,
			`t.yaml:9:15: bad condition "foo > 1" in next: entry 3 of step "age": unknown name foo`,
			`t.yaml:10:15: bad condition "answer + 1" in next: entry 4 of step "age": expected bool`,
		}},
		{"bad templates", `id: x
steps:
  a:
    say: "{{ .client.first_name | nosuch }}"
    input: text
    validate: { error: "{{ if }}" }
    next: b
  b: { say: "{{ join .answer }}", next: c }
  c: { say: "{{ upper 5 }}", next: d }
  d: { say: "{{ range 100000000 }}x{{ end }}", next: e }
  e: { say: "{{ define \"t\" }}x{{ end }}", next: f }
  f: { say: "{{ $n := 100000000 }}{{ range $n }}x{{ end }}", next: g }
  g: { say: "{{ range .client.age }}x{{ end }}", end: true }
`, []string{
			`t.yaml:4:35: bad template in say: of step "a": unknown function "nosuch"; fix the {{ }} action`,
			`t.yaml:6:24: bad template in error: of step "a": text line 1: missing value for if`,
			`t.yaml:8:13: template in say: of step "b" fails when rendered: text line 1:3: at <join>: wrong number of args for join: want 2 got 1`,
			`t.yaml:9:13: template in say: of step "c" fails when rendered: text line 1:9: at <5>: expected string; found 5`,
			`t.yaml:10:13: bad template in say: of step "d": {{range}} over a number or a function's result is not supported`,
			`t.yaml:11:13: bad template in say: of step "e": {{define}} and {{block}} are not supported`,
			`t.yaml:12:13: bad template in say: of step "f": {{range}} over a number or a function's result is not supported`,
			`t.yaml:13:13: bad template in say: of step "g": {{range}} over a number or a function's result is not supported`,
		}},
		{"unknown fields in save", `id: x
steps:
  a: { say: "Имя", input: text, save: frist_name, next: b }
  b: { say: "Хобби", input: text, save: hobby, next: c }
  c: { say: "Хобби", input: text, save: atributes.hobby, next: d }
  d: { say: "x", input: text, save: "attributes.a b", next: e }
  e: { say: "x", input: text, save: "vars.1x", end: true }
`, []string{
			`t.yaml:3:39: unknown field "frist_name" in save: of step "a"; did you mean "first_name"?`,
			`t.yaml:4:41: unknown field "hobby" in save: of step "b"; save to attributes.hobby, or to a core field: age, assigned_manager,`,
			`t.yaml:5:41: unknown field "atributes.hobby" in save: of step "c"; did you mean "attributes.hobby"?`,
			`t.yaml:6:37: attribute "attributes.a b" in save: of step "d" must be attributes.<key>`,
			`t.yaml:7:37: variable "vars.1x" in save: of step "e" must be vars.<name>`,
		}},
		{"save type mismatches", `id: x
steps:
  b: { say: "Возраст", input: text, save: age, next: c }
  c: { say: "ДР", input: text, save: birth_date, next: d }
  d: { say: "ДР", input: number, save: birth_date, next: e }
  e:
    say: "Пол"
    buttons: [Мужчина, { text: Женщина, value: female }]
    save: gender
    next: g
  g: { say: "Интересы", choices: [a, b], multiple: true, save: city, next: h }
  h: { say: "Телефон", input: contact, save: city, next: k }
  k: { say: "x", input: text, save: phone, next: l }
  l: { say: "x", input: text, save: email, next: m }
  m: { say: "Дети", buttons: ["0", "1", "2+"], save: children_count, next: n }
  n: { say: "x", input: contact, save: vars.tel, next: o }
  o: { say: "x", input: text, save: gender, next: p }
  p: { say: "x", buttons: [Да, Нет], save: subscribed, next: q }
  q: { say: "x", choices: [a, b], free_text: true, save: income_level, end: true }
`, []string{
			`t.yaml:3:43: step "b" saves a text answer to "age", an integer field; use input: number`,
			`t.yaml:4:38: step "c" saves a text answer to "birth_date", a date field; use input: date`,
			`t.yaml:5:40: step "d" saves a number to "birth_date", a date field; use input: date`,
			`t.yaml:8:15: button "Мужчина" of step "e" has the value "Мужчина", which "gender" does not take; set value: to one of male, female`,
			`t.yaml:11:64: step "g" allows several answers (multiple: true), a list, which only attributes.<key> can hold; save to attributes.city`,
			`t.yaml:12:46: input: contact in step "h" gives a phone number; save it to phone or attributes.<key>`,
			`t.yaml:13:37: step "k" saves a text answer to "phone", which holds phone numbers in international format; use input: phone or input: contact`,
			`t.yaml:14:37: step "l" saves a text answer to "email", which holds checked addresses; use input: email`,
			`t.yaml:15:41: button "2+" of step "m" has the value "2+", but "children_count" is an integer field`,
			`t.yaml:16:40: input: contact in step "n" gives a phone number`,
			`t.yaml:17:37: step "o" saves a text answer to "gender", which takes only male, female; use buttons with those values`,
			`t.yaml:18:28: button "Да" of step "p" has the value "Да", which "subscribed" does not take`,
			`t.yaml:18:32: button "Нет" of step "p" has the value "Нет", which "subscribed" does not take`,
			`t.yaml:19:46: free_text: true in step "q" lets any text through, but "income_level" takes only economy, middle, premium`,
		}},
		{"validation rules", `id: x
steps:
  a:
    say: "Возраст"
    input: number
    validate: { min: 100, max: 14, min_len: 2 }
    next: b
  b:
    say: "Имя"
    input: text
    validate: { regex: "([a-z]+", min_len: 10, max_len: 2, min_date: today }
    next: c
  c:
    say: "Дата"
    input: date
    validate: { min_date: "2020-01-01", max_date: "2000-01-01" }
    next: d
  d:
    say: "Дата"
    input: date
    validate: { min_date: вчера, max_date: 2000-13-01 }
    next: e
  e:
    say: "Интересы"
    choices: [a, b]
    multiple: true
    validate: { min: 3, max: 0.5 }
    end: true
`, []string{
			`t.yaml:6:22: validate.min (100) is greater than validate.max (14) in step "a", so no answer can pass; swap them`,
			`t.yaml:6:36: validate.min_len in step "a" does not apply to number input; it works with text and email steps and choices with free_text: true; bound a number with min: and max:`,
			`t.yaml:11:24: "regex" in validate: of step "b" does not compile: error parsing regexp: missing closing )`,
			`t.yaml:11:44: validate.min_len (10) is greater than validate.max_len (2) in step "b"`,
			`t.yaml:11:60: validate.min_date in step "b" does not apply to text input; it works with date steps`,
			`t.yaml:16:27: validate.min_date is after validate.max_date in step "c"`,
			`t.yaml:21:27: "min_date" in validate: of step "d" must be today or a date written YYYY-MM-DD, e.g. 1990-01-31, got "вчера"`,
			`t.yaml:21:44: "max_date" in validate: of step "d" must be today or a date written YYYY-MM-DD`,
			`t.yaml:27:22: validate.min (3) is greater than validate.max (0.5) in step "e"`,
			`t.yaml:27:22: validate.min in step "e" asks for 3 choices but there are only 2 options; lower it`,
			`t.yaml:27:30: validate.max in step "e" counts chosen options, so it must be a whole number`,
		}},
		{"next lists", `id: x
steps:
  a:
    say: "Возраст"
    input: number
    next:
      - { if: "answer < 18", goto: b }
      - { if: "answer > 60", goto: b }
  b:
    say: "x"
    input: text
    next:
      - { goto: c }
      - { goto: c }
  c:
    say: "x"
    input: text
    next:
      - { if: "true" }
      - c
      - { goto: d, then: c }
  d: { say: "x", next: [], end: true }
`, []string{
			`t.yaml:8:9: the last entry of next: in step "a" has an if:; end the list with an unconditional {goto: <step id>}`,
			`t.yaml:14:9: next: entry 2 of step "b" is never used: entry 1 has no if: and always matches`,
			`t.yaml:19:9: next: entry 1 of step "c" has no goto:; add goto: <step id>`,
			`t.yaml:20:9: next: entry 2 of step "c" must be a mapping like {if: "answer < 18", goto: minor} or {goto: city}, got "c"`,
			`t.yaml:21:20: unknown key "then" in next: entry 3 of step "c"; allowed keys: if, goto`,
			`t.yaml:22:18: step "d" has both end: true and next:; remove one of them`,
			`t.yaml:22:24: next: in step "d" is an empty list`,
		}},
		{"steps leading nowhere", `id: x
steps:
  a: { say: "Привет", next: b }
  b:
    say: "Выберите"
    buttons: [{ text: Да, next: c }, Нет]
  c:
    say: "Город"
    buttons: [{ text: Москва, next: a }]
    free_text: true
`, []string{
			`t.yaml:6:38: button "Нет" of step "b" has no next: and the step has none; add next: to it or to the step, or end: true to the step`,
			`t.yaml:7:3: step "c" routes only its buttons, but a typed or skipped answer (free_text/skip) has nowhere to go; add next: to the step`,
		}},
		{"step without next or end", "id: x\nsteps:\n  a: { say: \"Привет\" }\n",
			[]string{`t.yaml:3:3: step "a" leads nowhere; add next: <step id> or end: true`}},
		{"save, validate, skip without input", `id: x
steps:
  a: { say: "Привет", save: first_name, validate: {min: 1}, skip: true, next: b }
  b: { say: "x", end: true }
`, []string{
			`t.yaml:3:29: save: in step "a" has nothing to save: the step asks for no answer; add input: or buttons:, or remove save:`,
			`t.yaml:3:41: validate: in step "a" has nothing to check: the step asks for no answer`,
			`t.yaml:3:67: skip: true in step "a" has nothing to skip: the step asks for no answer; remove skip:`,
		}},
		{"loops of steps without input", `id: x
steps:
  a: { say: "1", next: b }
  b: { say: "2", next: c }
  c: { say: "3", next: [ { if: "client.age == 1", goto: a }, { goto: d } ] }
  d: { say: "4", next: d }
`, []string{
			`t.yaml:3:3: steps "a", "b", "c" ask nothing and lead to each other in a loop, so the bot would send messages forever`,
			`t.yaml:6:3: step "d" asks nothing and leads back to itself, so the bot would send messages forever`,
		}},
		{"triggers", `id: x
triggers: { commands: [start, "старт", Start], keywords: ["  "], payloads: ["*", "a b"], other: 1 }
skip_word: ""
steps:
  a: { say: x, end: true }
`, []string{
			`t.yaml:2:31: command "старт" in triggers: may hold only latin letters, digits and _`,
			`t.yaml:2:40: command "start" is listed twice in triggers: (first at line 2); remove one`,
			`t.yaml:2:59: keyword in triggers: is empty`,
			`t.yaml:2:77: payload "*" in triggers: may hold only`,
			`t.yaml:2:82: payload "a b" in triggers: may hold only`,
			`t.yaml:2:90: unknown key "other" in triggers:; allowed keys: commands, keywords, payloads`,
			`t.yaml:3:12: "skip_word" at the top level is empty; write a text or remove the key`,
		}},
		{"inputs and options", `id: x
steps:
  a:
    say: "x"
    input: choise
    buttons: [Да]
    choices: [Нет]
    done: "Ок"
    next: b
  b:
    say: "x"
    input: text
    buttons: [Да, Да]
    end: true
`, []string{
			`t.yaml:5:12: unknown input "choise" in step "a"; did you mean "choice"?`,
			`t.yaml:7:5: step "a" has both buttons: and choices:`,
			`t.yaml:8:11: done: in step "a" is the finish button of a multi-select; add multiple: true or remove done:`,
			`t.yaml:12:12: step "b" has buttons but input: text; remove input: (options imply choice) or the buttons`,
			`t.yaml:13:19: button 2 of step "b" repeats the text "Да" of button 1; make each caption unique`,
		}},
		{"option shapes", `id: x
steps:
  a:
    say: "x"
    choices: [{ text: Да, next: b }, { text: "Очень длинная подпись кнопки, которая не влезет в ВК" }]
    next: b
  b:
    say: "x"
    buttons: [{ text: A, next: d }, { value: b }, Готово]
    multiple: true
    next: d
  d:
    say: "x"
    input: choice
    end: true
`, []string{
			`t.yaml:5:27: choices cannot have "next" (in choice 1 of step "a"); use buttons: for options with their own next/tag/untag`,
			`t.yaml:5:38: the caption "Очень длинная подпись кнопки, которая не влезет в ВК" in choice 2 of step "a" is longer than 40 characters`,
			`t.yaml:9:32: button "A" of step "b" cannot have next: because several options may be chosen`,
			`t.yaml:9:37: button 2 of step "b" has no text:; add the caption the client sees`,
			`t.yaml:9:51: button "Готово" of step "b" has the caption of the finish button`,
			`t.yaml:14:12: step "d" has input: choice but no options; add buttons: or choices:`,
		}},
		{"consent and flags", `id: x
steps:
  a:
    say: "Согласны?"
    buttons: [{ text: Ага, value: ok }, { text: Нет, value: no }]
    save: consent
    next: b
  b: { say: "x", input: number, save: consent, next: d }
  d: { say: "x", buttons: [{text: Да, value: yes}, {text: Нет, value: no}], save: subscribed, tag: [a, a], untag: a, handoff: "", end: true }
`, []string{
			`t.yaml:6:11: save: consent in step "a" records consent only for a yes, but no option has the value yes, да, true or 1; set value: yes on the agreeing button`,
			`t.yaml:8:39: save: consent in step "b" needs a yes/no answer`,
			`t.yaml:9:3: tag "a" is both in tag: and untag: in step "d"; keep it in one of them`,
			`t.yaml:9:104: "tag" in step "d" lists "a" twice; remove one`,
			`t.yaml:9:127: "handoff" in step "d" (true, false or a reason) is empty`,
		}},
		{"alias bomb", `id: x
x-a: &a [1,1,1,1,1,1,1,1,1,1]
x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
steps: { a: { say: x, end: true } }
`, []string{`t.yaml:1:1: the file has more than 200000 values once its aliases (*name) are expanded`}},
		{"free text to capped columns", `id: x
steps:
  a: { say: "Город?", input: text, save: city, next: b }
  b: { say: "Город?", buttons: [Москва], free_text: true, validate: { min_len: 2 }, save: city, next: c }
  c: { say: "Имя?", input: text, validate: { max_len: 300 }, save: first_name, next: d }
  d: { say: "Город?", input: text, validate: { max_len: 255 }, save: city, next: e }
  e: { say: "Имя?", input: text, save: first_name, end: true }
`, []string{
			`t.yaml:3:42: step "a" saves free text to "city", an indexed field, without validate.max_len; set one (at most 255)`,
			`t.yaml:4:91: step "b" saves free text to "city", an indexed field, without validate.max_len`,
			`t.yaml:5:68: step "c" saves free text to "first_name", which takes at most 255 characters, but its validate.max_len is 300`,
		}},
		{"vars", "id: x\nvars: { name: \"Мир\", \"1bad\": 2 }\nsteps:\n  a: { say: x, end: true }\n",
			[]string{`t.yaml:2:22: variable name "1bad" in vars: may hold only latin letters, digits and _`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := loadErrors(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("error %d:\n got  %s\n want %s...", i, got[i], want)
				}
			}
		})
	}
}
