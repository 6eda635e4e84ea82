package i18n

// campaignsRu and campaignsEn are Рассылки's messages (keys "campaigns.…").
var (
	campaignsRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	campaignsEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
