package i18n

// composeRu and composeEn are the campaign composer's messages (keys
// "compose.…").
var (
	composeRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	composeEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
