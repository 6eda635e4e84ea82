package dialog

import "strconv"

// Texts are the engine's own client-facing messages (Russian by default).
// Scenario texts override them per step (`validate.error`).
type Texts struct {
	// Fallback answers a message when no conversation runs and no trigger matches.
	Fallback string
	// UnknownCommand answers a command no scenario handles.
	UnknownCommand string
	// Unsubscribed confirms /stop of a subscribed client.
	Unsubscribed string
	// AlreadyUnsubscribed answers /stop of a client who unsubscribed before.
	AlreadyUnsubscribed string
	// NotSubscribed answers /stop of a client who never subscribed.
	NotSubscribed string
	// ForgetConfirm asks to confirm /forget (deletion of the client's data),
	// shown with the ForgetYes and ForgetNo buttons.
	ForgetConfirm string
	// ForgetYes and ForgetNo are the captions of the confirmation buttons.
	ForgetYes, ForgetNo string
	// Forgotten confirms that the client's data was deleted.
	Forgotten string
	// ForgetCancelled answers ForgetNo.
	ForgetCancelled string
	// NothingToForget answers /forget when nothing is stored.
	NothingToForget string
	// Unsupported answers a sticker, photo or voice where text is expected.
	Unsupported string
	// NoProfile answers /profile before anything is recorded.
	NoProfile string
	// Help answers /help; the commands of the loaded scenarios are listed
	// after it (HelpScenarios).
	Help string
	// HelpScenarios heads the list of scenario commands in /help.
	HelpScenarios string
	// Resumed (%s: the scenario's title) precedes the question of a
	// questionnaire resumed after another scenario it was interrupted for.
	Resumed string
	// HandoffAccepted confirms a request to talk to a person in working
	// hours (%s: the wait, «10 минут», see WaitText); from then on the bot
	// is silent and the client's messages go to the manager.
	HandoffAccepted string
	// HandoffAfterHours confirms a request outside working hours (%s: when
	// managers are back, «завтра в 09:00», see BackText).
	HandoffAfterHours string
	// BackToday, BackTomorrow (%s: the time), BackWeekday (%s: the
	// weekday with its preposition from Weekdays, %s: the time) and
	// BackDate (%d: the day, %s: the month from Months, %s: the time) say
	// when managers are back.
	BackToday, BackTomorrow, BackWeekday, BackDate string
	// BackLater says «в рабочее время» when the hours name no next opening.
	BackLater string
	// Weekdays are «в воскресенье», «в понедельник»... indexed by time.Weekday.
	Weekdays [7]string
	// Months are the month names in the genitive («января»...).
	Months [12]string
	// ContactButton is the caption of the share-contact button.
	ContactButton string
	// Selected prefixes the list of options chosen so far in a multi-select.
	Selected string
	// RetryHint is added after several wrong answers in a row.
	RetryHint string
	// Rejected answers a message whose changes the CRM refused for good (a
	// value it cannot store): the conversation stays where it was.
	Rejected string

	// CharForms and ChoiceForms are the Russian forms of «символ» and
	// «вариант» for a count ending in 1, 2–4 and the rest (1 символ,
	// 2 символа, 5 символов); see CountWord.
	CharForms   [3]string
	ChoiceForms [3]string
	// MinuteForms, HourForms and DayForms are the forms of «минута», «час»
	// and «день» after «за» (за 1 минуту, за 2 минуты, за 5 минут).
	MinuteForms, HourForms, DayForms [3]string

	EmptyAnswer    string
	TooShort       string // %s: minimum length with its word («2 символа»)
	TooLong        string // %s: maximum length with its word
	BadFormat      string
	BadNumber      string
	NotInteger     string
	NumberRange    string // %s, %s: min, max
	NumberMin      string // %s
	NumberMax      string // %s
	BadEmail       string
	BadPhone       string
	BadDate        string
	DateTooEarly   string // %s: earliest date
	DateTooLate    string // %s: latest date
	BadChoice      string
	TooFewChoices  string // %s: count with its word («2 варианта»); %s: the step's done caption
	TooManyChoices string // %s: count with its word
	BadContact     string
	ForeignContact string
}

// DefaultTexts returns the built-in Russian texts.
func DefaultTexts() Texts {
	return Texts{
		Fallback: "Здравствуйте! Чтобы начать, отправьте /start.",
		UnknownCommand: "Такой команды нет. Доступно: /start — начать заново, /profile — мои данные, /forget — удалить мои данные, " +
			"/manager — позвать менеджера, /stop — отписаться от рассылок, /help — все команды.",
		Unsubscribed:        "Вы отписались от рассылок. Больше не будем писать первыми. Вернуться можно командой /start.",
		AlreadyUnsubscribed: "Вы уже отписаны от рассылок: первыми мы не пишем. Вернуться можно командой /start.",
		NotSubscribed:       "Вы не подписаны на рассылки: без вашего согласия мы первыми не пишем.",
		ForgetConfirm: "Удалить все ваши данные: анкету, ответы, подписку и историю рассылок? " +
			"Отменить удаление будет нельзя.",
		ForgetYes:       "Да, удалить",
		ForgetNo:        "Нет, оставить",
		Forgotten:       "Ваши данные удалены. Если напишете снова, начнём знакомство заново.",
		ForgetCancelled: "Хорошо, ничего не удаляем.",
		NothingToForget: "О вас ничего не записано: удалять нечего.",
		Unsupported:     "Я понимаю только текст и кнопки. Ответьте, пожалуйста, текстом.",
		NoProfile:       "О вас пока ничего не записано. Отправьте /start, чтобы познакомиться.",
		Help: "Команды:\n/start — начать заново\n/profile — мои данные: посмотреть и исправить\n" +
			"/forget — удалить мои данные\n/manager — позвать менеджера\n/stop — отписаться от рассылок",
		HelpScenarios: "Ещё можно:",
		Resumed:       "Продолжим с того места, где остановились («%s»).",
		HandoffAccepted: "Передали ваш вопрос менеджеру: он ответит здесь, обычно за %s. " +
			"Пока ждёте, можно написать подробности — менеджер увидит всё, что вы напишете.",
		HandoffAfterHours: "Передали ваш вопрос менеджеру. Сейчас нерабочее время: менеджеры вернутся %s и ответят здесь. " +
			"Можно написать подробности — менеджер увидит всё, что вы напишете.",
		BackToday:    "сегодня в %s",
		BackTomorrow: "завтра в %s",
		BackWeekday:  "%s в %s",
		BackDate:     "%d %s в %s",
		BackLater:    "в рабочее время",
		Weekdays:     [7]string{"в воскресенье", "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу"},
		Months: [12]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
			"сентября", "октября", "ноября", "декабря"},
		ContactButton: "📱 Отправить номер",
		Selected:      "Выбрано: ",
		RetryHint:     "Если вопрос непонятен, отправьте /start, чтобы начать заново.",
		Rejected: "Не получилось сохранить ответ. Попробуйте ответить иначе или отправьте /manager, " +
			"чтобы позвать менеджера.",

		CharForms:      [3]string{"символ", "символа", "символов"},
		ChoiceForms:    [3]string{"вариант", "варианта", "вариантов"},
		MinuteForms:    [3]string{"минуту", "минуты", "минут"},
		HourForms:      [3]string{"час", "часа", "часов"},
		DayForms:       [3]string{"день", "дня", "дней"},
		EmptyAnswer:    "Напишите, пожалуйста, ответ.",
		TooShort:       "Слишком коротко: нужно хотя бы %s.",
		TooLong:        "Слишком длинно: можно максимум %s.",
		BadFormat:      "Ответ не подходит по формату, попробуйте ещё раз.",
		BadNumber:      "Введите число цифрами, например 25.",
		NotInteger:     "Введите целое число.",
		NumberRange:    "Введите число от %s до %s.",
		NumberMin:      "Введите число не меньше %s.",
		NumberMax:      "Введите число не больше %s.",
		BadEmail:       "Похоже, в адресе ошибка. Пример: name@example.ru",
		BadPhone:       "Не похоже на номер телефона. Пример: +7 912 345-67-89",
		BadDate:        "Введите дату в формате ДД.ММ.ГГГГ, например 15.04.1990.",
		DateTooEarly:   "Дата не может быть раньше %s.",
		DateTooLate:    "Дата не может быть позже %s.",
		BadChoice:      "Выберите вариант кнопкой или напишите его номер.",
		TooFewChoices:  "Отметьте хотя бы %s и нажмите «%s».",
		TooManyChoices: "Можно отметить максимум %s.",
		BadContact:     "Нажмите кнопку «Отправить номер» или напишите номер телефона.",
		ForeignContact: "Пожалуйста, отправьте свой собственный номер.",
	}
}

// CountWord writes n with the Russian form of its noun: forms are the forms
// for 1, 2–4 and 5 (1 символ, 2 символа, 5 символов, 11 символов,
// 21 символ, 104 символа).
func CountWord(n int, forms [3]string) string {
	m := n % 100
	if m < 0 {
		m = -m
	}
	form := forms[2]
	switch {
	case m >= 11 && m <= 14:
	case m%10 == 1:
		form = forms[0]
	case m%10 >= 2 && m%10 <= 4:
		form = forms[1]
	}
	return strconv.Itoa(n) + " " + form
}
