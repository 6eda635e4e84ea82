package vktest

// AttachmentTypes are the attachment types Attachment builds in detail.
func AttachmentTypes() []string {
	return []string{"photo", "video", "audio", "audio_message", "doc", "sticker", "wall", "link", "poll", "gift"}
}

// Attachment is one message attachment of type typ, owned by ownerID, in
// VK's wire format ({"type": typ, typ: {…}}): the types of AttachmentTypes
// carry the fields VK sends; any other type gets an object with an id only.
func Attachment(typ string, ownerID int) map[string]any {
	obj := map[string]any{"id": 457239017, "owner_id": ownerID, "access_key": "0a1b2c3d4e5f"}
	switch typ {
	case "photo":
		obj["album_id"], obj["date"], obj["text"] = -3, 1700000000, ""
		obj["sizes"] = []map[string]any{
			{"type": "s", "url": "https://sun9-1.userapi.com/s.jpg", "width": 75, "height": 56},
			{"type": "x", "url": "https://sun9-1.userapi.com/x.jpg", "width": 604, "height": 453},
		}
	case "video":
		obj["title"], obj["duration"], obj["date"], obj["views"] = "Видео", 12, 1700000000, 1
	case "audio":
		obj["artist"], obj["title"], obj["duration"], obj["url"] = "Артист", "Песня", 180, ""
	case "audio_message":
		obj["duration"], obj["waveform"] = 5, []int{0, 3, 7, 12, 7, 3, 0}
		obj["link_ogg"], obj["link_mp3"] = "https://psv4.userapi.com/v.ogg", "https://psv4.userapi.com/v.mp3"
	case "doc":
		obj["title"], obj["size"], obj["ext"], obj["type"] = "договор.pdf", 20480, "pdf", 1
		obj["url"], obj["date"] = "https://vk.com/doc1_457239017", 1700000000
	case "sticker":
		obj = map[string]any{"product_id": 1, "sticker_id": 9, "images": []map[string]any{
			{"url": "https://vk.com/sticker/1-9-128", "width": 128, "height": 128}}}
	case "wall":
		obj["from_id"], obj["to_id"], obj["date"], obj["text"] = -1, -1, 1700000000, "Пост сообщества"
		obj["post_type"] = "post"
	case "link":
		obj = map[string]any{"url": "https://example.com", "title": "Пример", "caption": "example.com", "description": ""}
	case "poll":
		obj["question"], obj["votes"], obj["anonymous"] = "Когда?", 0, true
		obj["answers"] = []map[string]any{{"id": 1, "text": "Сегодня", "votes": 0, "rate": 0}}
	case "gift":
		obj = map[string]any{"id": 1, "thumb_256": "https://vk.com/images/gift/1/256.jpg"}
	}
	return map[string]any{"type": typ, typ: obj}
}

// Geo is a message's geo field: a point on the map with its place.
func Geo() map[string]any {
	return map[string]any{"type": "point", "coordinates": map[string]any{"latitude": 55.755826, "longitude": 37.6173},
		"place": map[string]any{"country": "Россия", "city": "Москва", "title": "Москва, Россия"}}
}
