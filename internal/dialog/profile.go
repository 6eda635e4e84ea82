package dialog

import (
	"strings"

	"github.com/chathub/chathub/internal/crm"
)

// profileLines are the card fields /profile shows, with Russian captions.
var profileLines = []struct{ caption, field string }{
	{"Имя", "first_name"}, {"Фамилия", "last_name"}, {"Телефон", "phone"},
	{"Email", "email"}, {"Дата рождения", "birth_date"}, {"Возраст", "age"},
	{"Город", "city"}, {"Регион", "region"}, {"Род занятий", "occupation"},
}

// ProfileText renders what the CRM knows about a client, for /profile.
func ProfileText(cl *crm.Client, tx *Texts) string {
	if cl == nil {
		return tx.NoProfile
	}
	card := ClientCard(cl)
	var b strings.Builder
	b.WriteString("Ваши данные:\n")
	n := 0
	for _, l := range profileLines {
		v := card[l.field]
		if v == nil || v == "" {
			continue
		}
		b.WriteString(l.caption + ": " + toString(v) + "\n")
		n++
	}
	if n == 0 {
		return tx.NoProfile
	}
	if cl.Subscribed {
		b.WriteString("Рассылки: подписаны (отписаться: /stop)\n")
	} else {
		b.WriteString("Рассылки: не подписаны\n")
	}
	b.WriteString("Изменить данные: /start")
	return b.String()
}
