package vktest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Photo upload limits and constants of the fake.
const (
	// MaxUploadBytes is the largest picture the upload server takes.
	MaxUploadBytes = 50 << 20
	// uploadServerID is the "server" the upload server answers with.
	uploadServerID = 853216
	// messagesAlbum is VK's album id of message photos.
	messagesAlbum = -64
)

// Photo is a picture saved with photos.saveMessagesPhoto.
type Photo struct {
	ID        int
	OwnerID   int
	AccessKey string
	// Size is the uploaded file's length; Type its sniffed MIME type.
	Size int
	Type string
}

// Attachment is how messages.send names the photo: "photo<owner>_<id>_<key>".
func (p Photo) Attachment() string {
	return fmt.Sprintf("photo%d_%d_%s", p.OwnerID, p.ID, p.AccessKey)
}

// photoStore is the fake's photo uploads: upload URLs handed out (by their
// secret), uploads not yet saved (by hash) and saved photos (by id).
type photoStore struct {
	secrets    map[string]bool
	uploaded   map[string]upload
	saved      map[int]Photo
	nextID     int
	uploads    int // POSTs to the upload server
	failUpload []int
}

type upload struct {
	photo string // the "photo" string handed out
	size  int
	mime  string
}

func (p *photoStore) init() {
	if p.secrets == nil {
		p.secrets, p.uploaded, p.saved, p.nextID = map[string]bool{}, map[string]upload{}, map[int]Photo{}, 457239000
	}
}

// Uploads counts the POSTs the upload server received.
func (s *Server) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.photos.uploads
}

// Photos returns every saved photo.
func (s *Server) Photos() []Photo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Photo, 0, len(s.photos.saved))
	for _, p := range s.photos.saved {
		out = append(out, p)
	}
	return out
}

// FailNextUpload makes the upload server answer its next POST with HTTP
// status (500, 502…) or, for status 0, with VK's JSON error for a file that
// is not a picture. Failures queue.
func (s *Server) FailNextUpload(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.photos.failUpload = append(s.photos.failUpload, status)
}

// photosGetMessagesUploadServer hands out an upload URL whose query carries
// a secret, as VK's does.
func (s *Server) photosGetMessagesUploadServer(p url.Values) (any, *apiError) {
	if _, err := strconv.Atoi(firstNonEmpty(p.Get("peer_id"), "0")); err != nil {
		return nil, paramError("peer_id is not a number")
	}
	secret := randomHex(16)
	s.mu.Lock()
	s.photos.init()
	s.photos.secrets[secret] = true
	s.mu.Unlock()
	return map[string]any{
		"album_id":   messagesAlbum,
		"upload_url": fmt.Sprintf("%s/upload?act=do_add&mid=0&aid=%d&gid=%d&hash=%s", s.srv.URL, messagesAlbum, s.groupID, secret),
		"user_id":    0,
		"group_id":   s.groupID,
	}, nil
}

// serveUpload is the upload server: a multipart POST with field "photo"
// answered {"server", "photo", "hash"}, or {"error"} for what is not a
// picture. It is no API method: not rate limited, not counted in Calls.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.photos.init()
	s.photos.uploads++
	ok := s.photos.secrets[r.URL.Query().Get("hash")]
	var fail *int
	if q := s.photos.failUpload; len(q) > 0 {
		fail, s.photos.failUpload = &q[0], q[1:]
	}
	s.notifyLocked()
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodPost:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case !ok:
		writeJSON(w, map[string]any{"error": "ERR_UPLOAD_BAD_HASH: invalid upload hash"})
		return
	case fail != nil && *fail != 0:
		http.Error(w, http.StatusText(*fail), *fail)
		return
	case fail != nil:
		writeJSON(w, map[string]any{"error": "ERR_UPLOAD_FILE_NOT_IMAGE: file is not an image"})
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		writeJSON(w, map[string]any{"server": uploadServerID, "photo": "[]", "hash": randomHex(16)})
		return
	}
	f, _, err := r.FormFile("photo")
	if err != nil {
		writeJSON(w, map[string]any{"server": uploadServerID, "photo": "[]", "hash": randomHex(16)})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUploadBytes+1))
	mime := http.DetectContentType(data)
	if err != nil || len(data) == 0 || len(data) > MaxUploadBytes || !strings.HasPrefix(mime, "image/") {
		writeJSON(w, map[string]any{"error": "ERR_UPLOAD_FILE_NOT_IMAGE: file is not an image"})
		return
	}
	hash := randomHex(16)
	photo, _ := json.Marshal([]map[string]any{{"markers_restarted": true, "photo": randomHex(5) + ":w",
		"sizes": []any{}, "latitude": 0, "longitude": 0, "kid": randomHex(16)}})
	s.mu.Lock()
	s.photos.uploaded[hash] = upload{photo: string(photo), size: len(data), mime: mime}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"server": uploadServerID, "photo": string(photo), "hash": hash})
}

// photosSaveMessagesPhoto saves an upload: server, photo and hash must be
// what the upload server answered (error 121 otherwise); each upload is
// saved once.
func (s *Server) photosSaveMessagesPhoto(p url.Values) (any, *apiError) {
	if p.Get("photo") == "" {
		return nil, paramError("photo is undefined")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.photos.init()
	up, ok := s.photos.uploaded[p.Get("hash")]
	if !ok || up.photo != p.Get("photo") || p.Get("server") != strconv.Itoa(uploadServerID) {
		return nil, errCode(121)
	}
	delete(s.photos.uploaded, p.Get("hash"))
	s.photos.nextID++
	ph := Photo{ID: s.photos.nextID, OwnerID: -s.groupID, AccessKey: randomHex(9), Size: up.size, Type: up.mime}
	s.photos.saved[ph.ID] = ph
	s.notifyLocked()
	return []map[string]any{{
		"album_id": messagesAlbum, "date": time.Now().Unix(), "id": ph.ID, "owner_id": ph.OwnerID,
		"access_key": ph.AccessKey, "sizes": []any{}, "text": "", "has_tags": false,
	}}, nil
}

// checkAttachmentsLocked validates messages.send's attachment parameter: a
// comma-separated list of saved photos, each with its access key.
func (s *Server) checkAttachmentsLocked(raw string) ([]string, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, a := range strings.Split(raw, ",") {
		a = strings.TrimSpace(a)
		rest, ok := strings.CutPrefix(a, "photo")
		fields := strings.Split(rest, "_")
		if !ok || len(fields) < 2 || len(fields) > 3 {
			return nil, paramError("attachment " + a + " is invalid")
		}
		owner, err1 := strconv.Atoi(fields[0])
		id, err2 := strconv.Atoi(fields[1])
		ph, known := s.photos.saved[id]
		key := ""
		if len(fields) == 3 {
			key = fields[2]
		}
		if err1 != nil || err2 != nil || !known || ph.OwnerID != owner || ph.AccessKey != key {
			return nil, paramError("attachment " + a + " is invalid")
		}
		out = append(out, a)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
