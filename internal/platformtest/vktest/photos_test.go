package vktest

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/SevereCloud/vksdk/v2/api"
)

// TestUploadMessagesPhoto: vksdk's own upload helper (upload server,
// multipart POST, save) works against the fake, and messages.send takes
// the saved photo as an attachment, with its access key only.
func TestUploadMessagesPhoto(t *testing.T) {
	t.Parallel()
	s := New(t)
	vk := newVK(s, s.Token())
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	saved, err := vk.UploadMessagesPhoto(0, &buf)
	if err != nil || len(saved) != 1 || saved[0].OwnerID != -s.GroupID() || saved[0].AccessKey == "" {
		t.Fatalf("upload = %+v, %v", saved, err)
	}
	if s.Uploads() != 1 || len(s.Photos()) != 1 || s.Photos()[0].Type != "image/png" {
		t.Fatalf("%d uploads, photos %+v", s.Uploads(), s.Photos())
	}
	att := s.Photos()[0].Attachment()
	tests := []struct {
		name, attachment string
		code             int
	}{
		{"saved photo", att, 0},
		{"without its access key", att[:strings.LastIndex(att, "_")], 100},
		{"unknown photo", "photo-777_1_abc", 100},
		{"not a photo", "doc1_2", 100},
	}
	for _, tt := range tests {
		_, err := vk.MessagesSend(api.Params{"peer_id": 5, "message": "", "attachment": tt.attachment, "random_id": 0})
		if apiCode(err) != tt.code {
			t.Fatalf("%s: err = %v, want code %d", tt.name, err, tt.code)
		}
	}
	if msgs := s.Messages(5); len(msgs) != 1 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0] != att {
		t.Fatalf("messages %+v", msgs)
	}
	// A file that is not a picture is refused; saving an unknown upload is an invalid hash.
	if _, err := vk.UploadMessagesPhoto(0, strings.NewReader("not a picture")); err == nil {
		t.Fatal("a text file was saved as a photo")
	}
	if _, err := vk.PhotosSaveMessagesPhoto(api.Params{"server": 1, "photo": "[]", "hash": "x"}); apiCode(err) != 121 {
		t.Fatalf("save of an unknown upload: %v, want code 121", err)
	}
}
