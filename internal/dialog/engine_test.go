package dialog

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

var (
	testChat = messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	testNow  = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

func loadGraph(t testing.TB, file string) *scenario.Graph {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := scenario.Load(file, src)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return g
}

func text(s string) *messenger.Update {
	return &messenger.Update{Chat: testChat, Kind: messenger.KindMessage, Text: s}
}

func button(v string) *messenger.Update {
	return &messenger.Update{Chat: testChat, Kind: messenger.KindButton, Value: v}
}

func contact(phone, user string) *messenger.Update {
	return &messenger.Update{Chat: testChat, Kind: messenger.KindContact, Contact: &messenger.Contact{Phone: phone, UserID: user}}
}

func setOf(ch *crm.Changes, field string) (any, bool) {
	for _, fv := range ch.Set {
		if fv.Field == field {
			return fv.Value, true
		}
	}
	for _, fv := range ch.Attributes {
		if "attributes."+fv.Field == field {
			return fv.Value, true
		}
	}
	return nil, false
}

func TestEngineStartRunsMessageStepsUntilAQuestion(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "testdata/kinds.yaml")
	var res Result
	NewEngine(EngineConfig{}).Start(g, &Turn{Chat: testChat, Now: testNow}, &res)
	if res.State.Step != "name" || res.State.Version != g.Version || res.State.Scenario != "kinds" {
		t.Fatalf("state = %+v", res.State)
	}
	if len(res.Replies) != 2 || res.Replies[0].Text != "Привет! Ваш подарок ждёт." || res.Replies[1].Text != "Имя?" {
		t.Fatalf("replies = %+v", res.Replies)
	}
}

func TestEngineSteps(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "testdata/kinds.yaml")
	e := NewEngine(EngineConfig{})
	age := 30
	tests := []struct {
		name      string
		step      string
		client    *crm.Client
		selected  []string
		upd       *messenger.Update
		wantStep  string // "" means the conversation ended
		wantReply string // substring of the first reply
		wantSet   map[string]any
		wantTags  []string
		check     func(t *testing.T, res *Result)
	}{
		// text
		{name: "text ok", step: "name", upd: text("  Анна "), wantStep: "age", wantReply: "Анна, возраст?", wantSet: map[string]any{"first_name": "Анна"}},
		{name: "text empty", step: "name", upd: text("   "), wantStep: "name", wantReply: "Напишите, пожалуйста, ответ"},
		{name: "text too short", step: "name", upd: text("А"), wantStep: "name", wantReply: "Слишком коротко: нужно хотя бы 2 символа."},
		{name: "text too long", step: "name", upd: text(strings.Repeat("я", 21)), wantStep: "name", wantReply: "Слишком длинно: можно максимум 20 символов."},
		{name: "text 10000 chars", step: "name", upd: text(strings.Repeat("я", 10000)), wantStep: "name", wantReply: "максимум 20 символов"},
		{name: "text regex emoji", step: "name", upd: text("Анна 😀"), wantStep: "name", wantReply: "не подходит по формату"},
		{name: "text regex digits", step: "name", upd: text("12345"), wantStep: "name", wantReply: "не подходит по формату"},
		{name: "sql metacharacters kept as data", step: "note", upd: text("'; DROP TABLE clients;--"), wantStep: "", wantReply: "Код '; DROP TABLE clients;-- принят"},
		{name: "sticker where text wanted", step: "name", upd: &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported}, wantStep: "name", wantReply: "понимаю только текст"},
		{name: "sticker beats the custom error", step: "city", upd: &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported}, wantStep: "city", wantReply: "понимаю только текст"},
		{name: "captioned photo is no answer", step: "name", upd: &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported,
			Media: messenger.MediaPhoto, Text: "Анна"}, wantStep: "name", wantReply: "понимаю только текст", check: noAnswer},
		{name: "captioned document is no choice", step: "gender", upd: &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported,
			Media: messenger.MediaDocument, Text: "2"}, wantStep: "gender", wantReply: "понимаю только текст", check: noAnswer},
		{name: "stale button on text step", step: "name", upd: button("male"), wantStep: "name", wantReply: "Выберите вариант"},
		// number
		{name: "number ok", step: "age", upd: text("30"), wantStep: "email", wantReply: "Email?", wantSet: map[string]any{"age": 30}},
		{name: "number comma", step: "age", upd: text("25,0"), wantStep: "email", wantSet: map[string]any{"age": 25}},
		{name: "number condition", step: "age", upd: text("16"), wantStep: "email", wantReply: "Только 18+", wantTags: []string{"minor"}},
		{name: "number not a number", step: "age", upd: text("тридцать"), wantStep: "age", wantReply: "Введите число"},
		{name: "number fraction for integer column", step: "age", upd: text("30.5"), wantStep: "age", wantReply: "целое"},
		{name: "number out of range", step: "age", upd: text("200"), wantStep: "age", wantReply: "от 14 до 100"},
		{name: "number skip", step: "age", upd: text("пропустить"), wantStep: "email", wantReply: "Email?", check: func(t *testing.T, res *Result) {
			if len(res.Changes.Answers) != 0 || len(res.Changes.Set) != 0 {
				t.Errorf("skip recorded %+v", res.Changes)
			}
		}},
		{name: "skip button", step: "age", upd: button(valueSkip), wantStep: "email"},
		// email
		{name: "email lower-cased", step: "email", upd: text(" Anna@Example.RU "), wantStep: "phone", wantSet: map[string]any{"email": "anna@example.ru"}},
		{name: "email invalid", step: "email", upd: text("anna@"), wantStep: "email", wantReply: "в адресе ошибка"},
		// phone
		{name: "phone russian 8", step: "phone", upd: text("8 (912) 345-67-89"), wantStep: "birth", wantSet: map[string]any{"phone": "+79123456789"}},
		{name: "phone 10 digits", step: "phone", upd: text("9123456789"), wantStep: "birth", wantSet: map[string]any{"phone": "+79123456789"}},
		{name: "phone international", step: "phone", upd: text("+44 20 7946 0958"), wantStep: "birth", wantSet: map[string]any{"phone": "+442079460958"}},
		{name: "phone letters", step: "phone", upd: text("позвоните мне"), wantStep: "phone", wantReply: "Не похоже на номер"},
		// date
		{name: "date dotted", step: "birth", upd: text("15.04.1990"), wantStep: "gender", wantSet: map[string]any{"birth_date": time.Date(1990, 4, 15, 0, 0, 0, 0, time.UTC)}},
		{name: "date iso", step: "birth", upd: text("1990-04-15"), wantStep: "gender", wantSet: map[string]any{"birth_date": time.Date(1990, 4, 15, 0, 0, 0, 0, time.UTC)}},
		{name: "date in the future", step: "birth", upd: text("01.01.2030"), wantStep: "birth", wantReply: "не может быть позже 23.11.2026"},
		{name: "date too early", step: "birth", upd: text("01.01.1800"), wantStep: "birth", wantReply: "раньше 01.01.1900"},
		{name: "date impossible", step: "birth", upd: text("31.02.1990"), wantStep: "birth", wantReply: "ДД.ММ.ГГГГ"},
		// single choice with buttons
		{name: "button press", step: "gender", upd: button("male"), wantStep: "city", wantSet: map[string]any{"gender": "male"}, wantTags: []string{"men"}},
		{name: "button by caption", step: "gender", upd: text("женский"), wantStep: "city", wantSet: map[string]any{"gender": "female"}},
		{name: "button by number", step: "gender", upd: text("2"), wantStep: "city", wantSet: map[string]any{"gender": "female"}},
		{name: "button unknown text", step: "gender", upd: text("не скажу"), wantStep: "gender", wantReply: "Выберите вариант", check: func(t *testing.T, res *Result) {
			if kb := res.Replies[0].Keyboard; kb == nil || len(kb.Rows[0]) != 2 {
				t.Errorf("re-ask lost the buttons: %+v", kb)
			}
		}},
		{name: "button unknown value", step: "gender", upd: button("other"), wantStep: "gender", wantReply: "Выберите вариант"},
		// free text choice
		{name: "choice free text", step: "city", upd: text("Тверь"), wantStep: "interests", wantSet: map[string]any{"city": "Тверь"}},
		{name: "choice option", step: "city", upd: text("1"), wantStep: "interests", wantSet: map[string]any{"city": "Москва"}},
		{name: "choice free text custom error", step: "city", upd: text("Я"), wantStep: "city", wantReply: "Город «Я» не подходит"},
		// multi-select
		{name: "multi toggle", step: "interests", upd: button("travel"), wantStep: "interests", wantReply: "Выбрано: Путешествия", check: func(t *testing.T, res *Result) {
			if !slices.Equal(res.State.Selected, []string{"travel"}) {
				t.Errorf("selected = %v", res.State.Selected)
			}
			if b := res.Replies[0].Keyboard.Rows[0][1]; !b.Selected || b.Text != "✓ Путешествия" {
				t.Errorf("button not marked: %+v", b)
			}
		}},
		{name: "multi untoggle", step: "interests", selected: []string{"travel", "books"}, upd: button("travel"), wantStep: "interests", wantReply: "Выбрано: Книги"},
		{name: "multi done", step: "interests", selected: []string{"fitness", "books"}, upd: button(valueDone), wantStep: "contact", wantSet: map[string]any{"attributes.interests": []string{"fitness", "books"}}},
		{name: "multi done empty", step: "interests", upd: button(valueDone), wantStep: "interests", wantReply: "Отметьте хотя бы 1 вариант и нажмите «Готово»."},
		{name: "multi typed list", step: "interests", upd: text("1, 3"), wantStep: "contact", wantSet: map[string]any{"attributes.interests": []string{"fitness", "books"}}},
		{name: "multi typed names", step: "interests", upd: text("путешествия фитнес"), wantStep: "contact", wantSet: map[string]any{"attributes.interests": []string{"travel", "fitness"}}},
		{name: "multi too many", step: "interests", upd: text("1 2 3"), wantStep: "interests", wantReply: "Можно отметить максимум 2 варианта."},
		// contact
		{name: "contact shared", step: "contact", upd: contact("79123456789", "42"), wantStep: "note", wantSet: map[string]any{"attributes.contact_phone": "+79123456789"}, check: func(t *testing.T, res *Result) {
			if !res.Replies[0].RemoveKeyboard {
				t.Error("contact keyboard not removed after the answer")
			}
		}},
		{name: "contact of someone else", step: "contact", upd: contact("+79123456789", "7"), wantStep: "contact", wantReply: "свой собственный"},
		{name: "contact typed", step: "contact", upd: text("+7 912 345 67 89"), wantStep: "note"},
		{name: "contact garbage", step: "contact", upd: text("нет"), wantStep: "contact", wantReply: "Отправить номер", check: func(t *testing.T, res *Result) {
			kb := res.Replies[0].Keyboard
			if kb == nil || kb.Kind != messenger.Reply || !kb.Rows[0][0].RequestContact || kb.Rows[1][0].Text != "Пропустить" {
				t.Errorf("contact keyboard = %+v", kb)
			}
		}},
		// vars, handoff, end, tags
		{name: "vars handoff end", step: "note", upd: text("A1"), wantStep: "", wantReply: "Код A1 принят", wantTags: []string{"lead"}, check: func(t *testing.T, res *Result) {
			if h := res.Changes.Handoff; h == nil || h.Reason != "wants a call" || h.Step != "manager" {
				t.Errorf("handoff = %+v", h)
			}
			if !slices.Equal(res.Changes.RemoveTags, []string{"cold"}) {
				t.Errorf("untag = %v", res.Changes.RemoveTags)
			}
		}},
		// template sees the stored client
		{name: "client card in template", step: "name", client: &crm.Client{FirstName: "Олег", Age: &age}, upd: text("Олег"), wantStep: "age", wantReply: "Олег, возраст?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := State{Scenario: g.ID, Version: g.Version, Step: tt.step, Selected: tt.selected}
			var res Result
			e.Answer(g, &st, &Turn{Chat: testChat, Update: tt.upd, Client: tt.client, Now: testNow}, &res)
			if res.State.Step != tt.wantStep {
				t.Fatalf("step = %q, want %q (replies %+v)", res.State.Step, tt.wantStep, res.Replies)
			}
			if tt.wantReply != "" && (len(res.Replies) == 0 || !strings.Contains(res.Replies[0].Text, tt.wantReply)) {
				t.Fatalf("replies = %+v, want first containing %q", res.Replies, tt.wantReply)
			}
			for field, want := range tt.wantSet {
				got, ok := setOf(&res.Changes, field)
				if !ok || !equalValue(got, want) {
					t.Errorf("%s = %#v (%v), want %#v", field, got, ok, want)
				}
			}
			for _, tag := range tt.wantTags {
				if !slices.Contains(res.Changes.AddTags, tag) {
					t.Errorf("tags = %v, want %q", res.Changes.AddTags, tag)
				}
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
			if tt.check != nil {
				tt.check(t, &res)
			}
		})
	}
}

// noAnswer checks that a turn recorded no answer and set no field.
func noAnswer(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Changes.Answers) != 0 || len(res.Changes.Set) != 0 {
		t.Errorf("recorded %+v", res.Changes)
	}
}

func equalValue(got, want any) bool {
	if w, ok := want.([]string); ok {
		g, ok := got.([]string)
		return ok && slices.Equal(g, w)
	}
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return got == want
}

func TestEngineRecordsAnswerHistory(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "testdata/kinds.yaml")
	st := State{Scenario: g.ID, Version: g.Version, Step: "phone"}
	var res Result
	NewEngine(EngineConfig{}).Answer(g, &st, &Turn{Chat: testChat, Update: text("89123456789"), Now: testNow}, &res)
	want := crm.Answer{Scenario: "kinds", Version: g.Version, Step: "phone", Field: "phone", Value: "+79123456789", CreatedAt: testNow}
	if len(res.Changes.Answers) != 1 || res.Changes.Answers[0] != want {
		t.Fatalf("answers = %+v, want %+v", res.Changes.Answers, want)
	}
}

func TestEngineRetryHint(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "testdata/kinds.yaml")
	e := NewEngine(EngineConfig{})
	st := State{Scenario: g.ID, Version: g.Version, Step: "age"}
	for i := 1; i <= 3; i++ {
		var res Result
		e.Answer(g, &st, &Turn{Chat: testChat, Update: text("много"), Now: testNow}, &res)
		st = res.State
		hinted := strings.Contains(res.Replies[0].Text, "/start")
		if hinted != (i == 3) || st.Retries != i {
			t.Fatalf("try %d: retries %d, hint %v: %q", i, st.Retries, hinted, res.Replies[0].Text)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	in := State{Scenario: "a", Version: "v", Step: "s", Selected: []string{"x"}, Vars: map[string]any{"k": "v"}, Retries: 2, StartedAt: testNow}
	data, err := encodeState(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out State
	if err := decodeState(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Step != "s" || out.Vars["k"] != "v" || !out.StartedAt.Equal(testNow) || out.Retries != 2 {
		t.Fatalf("round trip = %+v", out)
	}
	if data, _ := encodeState(&State{}); data != nil {
		t.Fatal("ended state must encode to nil (delete)")
	}
}
