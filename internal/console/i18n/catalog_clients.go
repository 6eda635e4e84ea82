package i18n

// clientsRu and clientsEn are Клиенты's messages (keys "clients.…").
var (
	clientsRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	clientsEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
