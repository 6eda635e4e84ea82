package i18n

// segmentsRu and segmentsEn are Сегменты's messages (keys "segments.…").
var (
	segmentsRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	segmentsEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
