package dialog

// Texts are the engine's own client-facing messages (Russian by default).
// Scenario texts override them per step (`validate.error`).
type Texts struct {
	// Fallback answers a message when no conversation runs and no trigger matches.
	Fallback string
	// UnknownCommand answers a command no scenario handles.
	UnknownCommand string
	// Unsubscribed confirms /stop.
	Unsubscribed string
	// Unsupported answers a sticker, photo or voice where text is expected.
	Unsupported string
	// NoProfile answers /profile before anything is recorded.
	NoProfile string
	// Help answers /help.
	Help string
	// HandoffAccepted confirms /manager (a request to talk to a person).
	HandoffAccepted string
	// ContactButton is the caption of the share-contact button.
	ContactButton string
	// Selected prefixes the list of options chosen so far in a multi-select.
	Selected string
	// RetryHint is added after several wrong answers in a row.
	RetryHint string
	// Rejected answers a message whose changes the CRM refused for good (a
	// value it cannot store): the conversation stays where it was.
	Rejected string

	EmptyAnswer    string
	TooShort       string // %d: minimum length
	TooLong        string // %d: maximum length
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
	TooFewChoices  string // %d
	TooManyChoices string // %d
	BadContact     string
	ForeignContact string
}

// DefaultTexts returns the built-in Russian texts.
func DefaultTexts() Texts {
	return Texts{
		Fallback:       "Здравствуйте! Чтобы начать, отправьте /start.",
		UnknownCommand: "Такой команды нет. Доступно: /start — начать заново, /profile — мои данные, /manager — позвать менеджера, /stop — отписаться от рассылок.",
		Unsubscribed:   "Вы отписались от рассылок. Больше не будем писать первыми. Вернуться можно командой /start.",
		Unsupported:    "Я понимаю только текст и кнопки. Ответьте, пожалуйста, текстом.",
		NoProfile:      "О вас пока ничего не записано. Отправьте /start, чтобы познакомиться.",
		Help: "Команды:\n/start — начать заново\n/profile — мои данные: посмотреть и исправить\n" +
			"/manager — позвать менеджера\n/stop — отписаться от рассылок",
		HandoffAccepted: "Передали ваш вопрос менеджеру: он ответит здесь в течение 10 минут в рабочее время. " +
			"Пока можно продолжить с того места, где остановились.",
		ContactButton: "📱 Отправить номер",
		Selected:      "Выбрано: ",
		RetryHint:     "Если вопрос непонятен, отправьте /start, чтобы начать заново.",
		Rejected: "Не получилось сохранить ответ. Попробуйте ответить иначе или отправьте /manager, " +
			"чтобы позвать менеджера.",

		EmptyAnswer:    "Напишите, пожалуйста, ответ.",
		TooShort:       "Слишком коротко: нужно не меньше %d симв.",
		TooLong:        "Слишком длинно: не больше %d симв.",
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
		TooFewChoices:  "Отметьте не меньше %d вар. и нажмите «Готово».",
		TooManyChoices: "Можно отметить не больше %d вар.",
		BadContact:     "Нажмите кнопку «Отправить номер» или напишите номер телефона.",
		ForeignContact: "Пожалуйста, отправьте свой собственный номер.",
	}
}
