package dialog

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

func TestProfileShowsEverythingStored(t *testing.T) {
	t.Parallel()
	birth := time.Date(1990, 4, 15, 0, 0, 0, 0, time.UTC)
	age, kids := 36, 2
	cl := &crm.Client{
		FirstName: "Анна", LastName: "Петрова", Username: "anna_p", Phone: "+79123456789", Email: "anna@example.ru",
		Gender: "female", BirthDate: &birth, Age: &age, City: "Самара", Region: "Самарская область",
		FamilyStatus: "married", ChildrenCount: &kids, IncomeLevel: "middle", Occupation: "врач",
		Source: "promo", Language: "ru", LifecycleStage: "lead", Temperature: "warm", AssignedManager: "olga",
		Timezone: "Europe/Samara", Subscribed: true, ConsentAt: &birth,
		Tags:       []string{"survey"},
		Attributes: map[string]any{"interests": []any{"fitness", "travel"}, "nps": float64(9)},
	}
	tx := DefaultTexts()
	got := ProfileText(cl, &tx)
	for _, want := range []string{
		"Имя: Анна", "Фамилия: Петрова", "Имя пользователя: @anna_p", "Телефон: +79123456789", "Email: anna@example.ru",
		"Пол: женский", "Дата рождения: 15.04.1990", "Возраст: 36", "Город: Самара", "Регион: Самарская область",
		"Часовой пояс: Europe/Samara", "Язык: ru", "Семейное положение: в браке", "Дети: 2", "Уровень дохода: средний",
		"Род занятий: врач", "Откуда вы к нам пришли: promo", "Статус клиента: интересуется",
		"Интерес к предложениям: тёплый", "Ваш менеджер: olga",
		"  interests: fitness, travel", "  nps: 9", "Отметки: survey",
		"Согласие на обработку данных: дано", "Рассылки: подписаны", "/forget",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("profile lacks %q:\n%s", want, got)
		}
	}
	// The card offers the same listing to scenario texts.
	if card := ClientCard(cl); !strings.Contains(toString(card["profile_text"]), "Семейное положение: в браке") {
		t.Errorf("card profile_text = %v", card["profile_text"])
	}
	if got := ProfileText(&crm.Client{}, &tx); got != DefaultTexts().NoProfile {
		t.Errorf("empty client: %q", got)
	}
}

func TestStopSaysWhatIsTrue(t *testing.T) {
	t.Parallel()
	unsubscribedAt := testNow.Add(-time.Hour)
	tests := []struct {
		name       string
		client     *crm.Client // stored before /stop; nil: none
		want       string
		unsubsribe bool
	}{
		{"subscribed", &crm.Client{Subscribed: true}, "Вы отписались от рассылок", true},
		{"unsubscribed before", &crm.Client{UnsubscribedAt: &unsubscribedAt}, "Вы уже отписаны от рассылок", false},
		{"never subscribed", &crm.Client{}, "Вы не подписаны на рассылки", false},
		{"unknown client", nil, "Вы не подписаны на рассылки", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			if tt.client != nil {
				c := *tt.client
				c.Platform, c.PlatformUserID = testChat.Platform, testChat.ID
				f.clients.clients[testChat] = &c
			}
			got := strings.Join(f.say(t, text("/stop")), "\n")
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("reply %q, want %q", got, tt.want)
			}
			c := f.clients.clients[testChat]
			if tt.unsubsribe && (c.Subscribed || c.UnsubscribedAt == nil) {
				t.Errorf("not unsubscribed: %+v", c)
			}
			var before *time.Time
			if tt.client != nil {
				before = tt.client.UnsubscribedAt
			}
			if !tt.unsubsribe && c.UnsubscribedAt != before {
				t.Errorf("unsubscribed_at changed for a client who was not subscribed: %v", c.UnsubscribedAt)
			}
		})
	}
}

func TestForgetDeletesTheClientAfterConfirmation(t *testing.T) {
	t.Parallel()
	known := func(f *handlerFixture) {
		f.clients.clients[testChat] = &crm.Client{Platform: testChat.Platform, PlatformUserID: testChat.ID, FirstName: "Анна", Subscribed: true}
	}
	tests := []struct {
		name    string
		setup   func(f *handlerFixture)
		steps   []*messenger.Update
		want    string // last reply
		deleted bool
		state   bool // a conversation is still running
	}{
		{"command asks, yes deletes", known, []*messenger.Update{text("/forget"), button(forgetYes)}, "Ваши данные удалены", true, false},
		{"scenario button asks, yes deletes", known, []*messenger.Update{button(ForgetValue), button(forgetYes)}, "Ваши данные удалены", true, false},
		{"no keeps everything", known, []*messenger.Update{text("/forget"), button(forgetNo)}, "ничего не удаляем", false, false},
		{"the question keeps the questionnaire's place", nil,
			[]*messenger.Update{text("/start"), button("yes"), text("/forget"), button(forgetNo)}, "ничего не удаляем", false, true},
		{"mid-questionnaire yes deletes and ends it", nil,
			[]*messenger.Update{text("/start"), button("yes"), text("Анна"), text("/forget"), button(forgetYes)}, "Ваши данные удалены", true, false},
		{"nothing stored", nil, []*messenger.Update{text("/forget")}, "удалять нечего", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			var last []string
			for i, u := range tt.steps {
				u.ID = "u" + string(rune('0'+i))
				last = f.say(t, u)
			}
			if got := strings.Join(last, "\n"); !strings.Contains(got, tt.want) {
				t.Fatalf("last reply %q, want %q", got, tt.want)
			}
			_, exists := f.clients.clients[testChat]
			if exists == tt.deleted {
				t.Errorf("client exists = %v, want deleted = %v", exists, tt.deleted)
			}
			if running := f.states.st[testChat].Data != nil; running != tt.state {
				t.Errorf("conversation running = %v, want %v", running, tt.state)
			}
		})
	}
}

func TestForgetAsksWithButtons(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.clients.clients[testChat] = &crm.Client{Platform: testChat.Platform, PlatformUserID: testChat.ID, FirstName: "Анна"}
	if err := f.h.Handle(t.Context(), text("/forget")); err != nil {
		t.Fatal(err)
	}
	msgs := f.sender.take()
	if len(msgs) != 1 || msgs[0].Keyboard == nil || len(msgs[0].Keyboard.Rows) != 1 {
		t.Fatalf("confirmation = %+v", msgs)
	}
	row := msgs[0].Keyboard.Rows[0]
	if row[0].Value != forgetYes || row[1].Value != forgetNo || row[0].Text != "Да, удалить" {
		t.Errorf("buttons = %+v", row)
	}
	if _, ok := f.clients.clients[testChat]; !ok {
		t.Error("the question alone deleted the client")
	}
}

func TestShippedProfileScenarioShowsEverythingAndOffersDeletion(t *testing.T) {
	t.Parallel()
	age := 36
	f := newHandlerFixture(t, "../../scenarios/profile.yaml")
	f.clients.clients[testChat] = &crm.Client{Platform: testChat.Platform, PlatformUserID: testChat.ID,
		FirstName: "Анна", Gender: "female", Age: &age, FamilyStatus: "married", City: "Самара", Subscribed: true,
		Attributes: map[string]any{"interests": []any{"fitness", "travel"}}}
	if err := f.h.Handle(t.Context(), text("/profile")); err != nil {
		t.Fatal(err)
	}
	msgs := f.sender.take()
	if len(msgs) != 1 {
		t.Fatalf("replies = %+v", msgs)
	}
	for _, want := range []string{"Имя: Анна", "Пол: женский", "Возраст: 36", "Семейное положение: в браке",
		"interests: fitness, travel", "Город: Самара", "Рассылки: подписаны"} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("/profile lacks %q:\n%s", want, msgs[0].Text)
		}
	}
	var del *messenger.Button
	for _, row := range msgs[0].Keyboard.Rows {
		for i := range row {
			if row[i].Value == ForgetValue {
				del = &row[i]
			}
		}
	}
	if del == nil {
		t.Fatalf("no deletion button in %+v", msgs[0].Keyboard)
	}
	if got := strings.Join(f.say(t, button(del.Value)), ""); !strings.Contains(got, "Удалить все ваши данные") {
		t.Fatalf("the deletion button answered %q", got)
	}
	if got := strings.Join(f.say(t, button(forgetYes)), ""); !strings.Contains(got, "Ваши данные удалены") {
		t.Fatalf("confirmation answered %q", got)
	}
	if _, ok := f.clients.clients[testChat]; ok {
		t.Error("client still stored")
	}
}

// TestForgetThenBlockedLeavesNoRecord: when the «Ваши данные удалены» reply
// finds the client has blocked the bot, the block is not recorded: that
// would write a client row again right after deleting it.
func TestForgetThenBlockedLeavesNoRecord(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.clients.clients[testChat] = &crm.Client{Platform: testChat.Platform, PlatformUserID: testChat.ID, FirstName: "Анна"}
	ask := text("/forget")
	ask.ID = "u1"
	f.say(t, ask)
	f.sender.mu.Lock()
	f.sender.err = messenger.ErrBlocked
	f.sender.mu.Unlock()
	yes := button(forgetYes)
	yes.ID = "u2"
	if err := f.h.Handle(t.Context(), yes); err != nil {
		t.Fatal(err)
	}
	if c, ok := f.clients.clients[testChat]; ok {
		t.Fatalf("client recorded again after /forget: %+v", c)
	}
}
