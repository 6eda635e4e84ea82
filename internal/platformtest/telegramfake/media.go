package telegramfake

import "strconv"

// MediaFields are the Bot API message fields SendMedia can send.
func MediaFields() []string {
	return []string{"photo", "video", "video_note", "animation", "voice", "audio", "document",
		"sticker", "location", "venue", "poll", "dice"}
}

// SendMedia queues a message from the user carrying one medium, in the Bot
// API's wire format: field is the message field that names it (one of
// MediaFields: "photo", "voice", "location"…); caption, when set, goes
// with the media that take one (photo, video, animation, audio, document,
// voice). An animation comes with its document, as Telegram sends it; a
// venue with its location. It returns the update id; an unknown field
// panics (a test's mistake).
func (s *Server) SendMedia(userID int64, field, caption string) int {
	fields, captioned := mediaFields(field)
	if captioned && caption != "" {
		fields["caption"] = caption
	}
	return s.userMessage(userID, fields, nil)
}

// mediaFields are the message fields of one medium and whether it takes a
// caption.
func mediaFields(field string) (map[string]any, bool) {
	id := randomHex(8)
	file := func(prefix string, more map[string]any) map[string]any {
		m := map[string]any{"file_id": prefix + "-" + id, "file_unique_id": "uniq" + id, "file_size": 20480}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	point := map[string]any{"latitude": 55.755826, "longitude": 37.6173}
	switch field {
	case "photo":
		return map[string]any{"photo": []map[string]any{
			file("AgACphoto", map[string]any{"width": 90, "height": 68, "file_size": 1200}),
			file("AgACphoto", map[string]any{"width": 800, "height": 600}),
		}}, true
	case "video":
		return map[string]any{"video": file("BAACvideo", map[string]any{"width": 1280, "height": 720, "duration": 12,
			"mime_type": "video/mp4"})}, true
	case "video_note":
		return map[string]any{"video_note": file("DQACnote", map[string]any{"length": 240, "duration": 7})}, false
	case "animation":
		gif := map[string]any{"width": 320, "height": 240, "duration": 3, "file_name": "funny.mp4", "mime_type": "video/mp4"}
		return map[string]any{"animation": file("CgACanim", gif), "document": file("CgACanim", map[string]any{
			"file_name": "funny.mp4", "mime_type": "video/mp4"})}, true
	case "voice":
		return map[string]any{"voice": file("AwACvoice", map[string]any{"duration": 5, "mime_type": "audio/ogg"})}, true
	case "audio":
		return map[string]any{"audio": file("CQACaudio", map[string]any{"duration": 180, "performer": "Артист",
			"title": "Песня", "mime_type": "audio/mpeg"})}, true
	case "document":
		return map[string]any{"document": file("BQACdoc", map[string]any{"file_name": "договор.pdf",
			"mime_type": "application/pdf"})}, true
	case "sticker":
		return map[string]any{"sticker": file("CAACsticker", map[string]any{"type": "regular", "width": 512,
			"height": 512, "is_animated": false, "is_video": false, "emoji": "👍"})}, false
	case "location":
		return map[string]any{"location": point}, false
	case "venue":
		return map[string]any{"location": point, "venue": map[string]any{"location": point, "title": "Кафе",
			"address": "Тверская, 1"}}, false
	case "poll":
		return map[string]any{"poll": map[string]any{"id": "poll" + id, "question": "Когда?",
			"options":           []map[string]any{{"text": "Сегодня", "voter_count": 0}, {"text": "Завтра", "voter_count": 0}},
			"total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular",
			"allows_multiple_answers": false}}, false
	case "dice":
		return map[string]any{"dice": map[string]any{"emoji": "🎲", "value": 4}}, false
	}
	panic("telegramfake: SendMedia of unknown field " + strconv.Quote(field))
}
