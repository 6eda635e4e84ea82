package i18n

// scenariosRu and scenariosEn are Сценарии's messages (keys "scenarios.…").
var (
	scenariosRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	scenariosEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
