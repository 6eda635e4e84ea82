package i18n

// tourRu and tourEn are the messages the demo's tour added to other areas'
// pages (kept here so those areas' catalogs stay as they are): Обзор's
// recently finished campaigns, the playground platform's label and the
// open hand-offs counted in the right plural form.
var (
	tourRu = catalog{text: map[string]string{
		"overview.finished.title":      "Недавно завершённые рассылки",
		"overview.state.done":          "завершена",
		"overview.state.cancelled":     "отменена",
		"overview.platform.playground": "Песочница",
	}, plural: map[string]map[Form]string{
		"overview.handoffs.count": {One: "открытый запрос: клиент ждёт ответа человека.",
			Few: "открытых запроса: клиенты ждут ответа человека.", Many: "открытых запросов: клиенты ждут ответа человека."},
	}}
	tourEn = catalog{text: map[string]string{
		"overview.finished.title":      "Recently finished campaigns",
		"overview.state.done":          "done",
		"overview.state.cancelled":     "cancelled",
		"overview.platform.playground": "Playground",
	}, plural: map[string]map[Form]string{
		"overview.handoffs.count": {One: "open request: a client waiting for a person to answer.",
			Other: "open requests: clients waiting for a person to answer."},
	}}
)
