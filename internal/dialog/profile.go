package dialog

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/crm"
)

// profileLines are the card fields /profile shows, in order, with Russian
// captions. Every field of the card a client's data can be in is listed
// (152-FZ: a person may see all the data kept about them); values of the
// enumerated fields are translated by profileValues.
var profileLines = []struct{ caption, field string }{
	{"Имя", "first_name"}, {"Фамилия", "last_name"}, {"Имя пользователя", "username"},
	{"Телефон", "phone"}, {"Email", "email"}, {"Пол", "gender"},
	{"Дата рождения", "birth_date"}, {"Возраст", "age"},
	{"Город", "city"}, {"Регион", "region"}, {"Часовой пояс", "timezone"}, {"Язык", "language"},
	{"Семейное положение", "family_status"}, {"Дети", "children_count"},
	{"Уровень дохода", "income_level"}, {"Род занятий", "occupation"},
	{"Откуда вы к нам пришли", "source"}, {"Статус клиента", "lifecycle_stage"},
	{"Интерес к предложениям", "temperature"}, {"Ваш менеджер", "assigned_manager"},
}

// profileValues translate the stored codes of enumerated fields.
var profileValues = map[string]map[string]string{
	"gender":          {"male": "мужской", "female": "женский"},
	"family_status":   {"single": "не в браке", "married": "в браке", "divorced": "в разводе", "widowed": "вдовец / вдова"},
	"income_level":    {"economy": "эконом", "middle": "средний", "premium": "премиум"},
	"lifecycle_stage": {"new": "новый", "lead": "интересуется", "customer": "покупатель", "regular": "постоянный", "lost": "давно не заходил"},
	"temperature":     {"cold": "холодный", "warm": "тёплый", "hot": "горячий"},
}

// profileText is the card as a Russian listing of everything stored; the
// card carries it as "profile_text" (rendered when printed, so cards that
// never show it cost nothing). It reads the card map itself, so the
// changes a call overlays on the card show too.
type profileText map[string]any

// noData is profile_text of a client with nothing stored.
const noData = "Пока о вас ничего не записано."

// String lists every stored value, one per line (noData when nothing is).
func (p profileText) String() string {
	if s := p.lines(); s != "" {
		return s
	}
	return noData
}

// lines lists every stored value, one per line; "" when nothing is stored.
func (p profileText) lines() string {
	var b strings.Builder
	for _, l := range profileLines {
		v := p[l.field]
		if v == nil || v == "" {
			continue
		}
		s := toString(v)
		if tr, ok := profileValues[l.field][s]; ok {
			s = tr
		}
		if l.field == "username" {
			s = "@" + s
		}
		b.WriteString(l.caption + ": " + s + "\n")
	}
	if attrs, _ := p["attributes"].(map[string]any); len(attrs) > 0 {
		b.WriteString("Ответы анкет:\n")
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			b.WriteString("  " + k + ": " + attrString(attrs[k]) + "\n")
		}
	}
	if tags, _ := p["tags"].([]string); len(tags) > 0 {
		b.WriteString("Отметки: " + strings.Join(tags, ", ") + "\n")
	}
	if b.Len() == 0 {
		return ""
	}
	if p["consent"] == true {
		b.WriteString("Согласие на обработку данных: дано\n")
	}
	if p["subscribed"] == true {
		b.WriteString("Рассылки: подписаны (отписаться: /stop)")
	} else {
		b.WriteString("Рассылки: не подписаны")
	}
	return b.String()
}

// attrString renders an attribute value: lists joined by commas, booleans
// as да/нет.
func attrString(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, attrString(e))
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	case bool:
		if x {
			return "да"
		}
		return "нет"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return "—"
	}
	return fmt.Sprint(v)
}

// ProfileText renders everything the CRM keeps about a client, for the
// built-in /profile, with how to correct it and how to delete it.
func ProfileText(cl *crm.Client, tx *Texts) string {
	if cl == nil {
		return tx.NoProfile
	}
	body := profileText(ClientCard(cl)).lines()
	if body == "" {
		return tx.NoProfile
	}
	return "Ваши данные:\n" + body + "\nИзменить данные: /start\nУдалить мои данные: /forget"
}
