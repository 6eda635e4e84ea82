package telegramfake

import (
	"net/http"
	"net/url"
	"strings"
)

// MaxCaptionLen is Telegram's limit on a photo caption, in UTF-16 code units.
const MaxCaptionLen = 1024

// RejectPhoto makes every later sendPhoto of the picture at rawURL fail as
// Telegram does when it cannot download it: 400 "Bad Request: failed to
// get HTTP URL content".
func (s *Server) RejectPhoto(rawURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.badPhotos == nil {
		s.badPhotos = map[string]bool{}
	}
	s.badPhotos[rawURL] = true
}

// sendPhoto serves sendPhoto: photo is an http(s) URL (Telegram fetches it;
// the fake does not), a file_id the fake handed out, or an uploaded file of
// a multipart request; caption is at most MaxCaptionLen. It counts against
// the rate limit like sendMessage.
func (s *Server) sendPhoto(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseLocked(w, p) {
		return
	}
	c, err := s.targetLocked(p)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	photo, err := s.photoLocked(r, p)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	caption := p["caption"]
	if TextLen(caption) > MaxCaptionLen {
		writeAPIError(w, badRequest("message caption is too long"))
		return
	}
	switch p["parse_mode"] {
	case "", "MarkdownV2", "Markdown", "HTML":
	default:
		writeAPIError(w, badRequest("unsupported parse_mode"))
		return
	}
	markup, err := readMarkup(p)
	if err != nil {
		writeAPIError(w, badRequest(err.Error()))
		return
	}
	replyTo, err := c.replyTarget(p)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	m := s.storeLocked(c, &Sent{Photo: photo, Caption: caption, ParseMode: p["parse_mode"], ReplyMarkup: markup, ReplyTo: replyTo})
	writeOK(w, m.json(c))
}

// photoLocked reads the photo parameter as Telegram checks it.
func (s *Server) photoLocked(r *http.Request, p params) (string, error) {
	photo := p["photo"]
	if photo == "" && r.MultipartForm != nil {
		if files := r.MultipartForm.File["photo"]; len(files) > 0 {
			return "upload:" + files[0].Filename, nil
		}
	}
	switch {
	case photo == "":
		return "", badRequest("there is no photo in the request")
	case strings.HasPrefix(photo, "photo-"): // a file_id of an earlier photo
		return photo, nil
	case s.badPhotos[photo]:
		return "", badRequest("failed to get HTTP URL content")
	}
	u, err := url.Parse(photo)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badRequest("wrong file identifier/HTTP URL specified")
	}
	return photo, nil
}
