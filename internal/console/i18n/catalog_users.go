package i18n

// usersRu and usersEn are Пользователи's messages (keys "users.…").
var (
	usersRu = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	usersEn = catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
)
