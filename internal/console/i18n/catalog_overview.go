package i18n

// overviewRu and overviewEn are Обзор's messages (keys "overview.…").
var (
	overviewRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	overviewEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
