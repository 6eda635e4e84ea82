package vk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

// maxUploadAnswer bounds what the upload server may answer.
const maxUploadAnswer = 1 << 20

// uploadPhoto puts the picture at imageURL into VK and returns the
// attachment that shows it in a message ("photo<owner>_<id>[_<access key>]"):
// it downloads the picture (downloadImage), asks
// photos.getMessagesUploadServer for an upload URL (peer_id 0: a community's
// photo that may be attached for any peer), POSTs the picture there as the
// multipart field "photo" and saves the upload with
// photos.saveMessagesPhoto. The two API calls go through the community's
// budget like every call; the upload POST is no API method and does not.
//
// Errors: the download's, and VK refusing the picture (an API error other
// than a rate limit or an internal error, an upload answered with an error
// or no photo) are messenger.ErrBadRequest; rate limits, VK's internal
// error and network failures keep their transient meaning.
func (b *Bot) uploadPhoto(ctx context.Context, imageURL string) (string, error) {
	img, err := b.downloadImage(ctx, imageURL)
	if err != nil {
		return "", err
	}
	shown := imageName(imageURL)
	ctx, cancel := callContext(ctx)
	defer cancel()
	raw, err := b.call(ctx, "photos.getMessagesUploadServer", api.Params{"peer_id": 0})
	if err != nil {
		return "", refused(b.wrap(ctx, "photos.getMessagesUploadServer for "+shown, err))
	}
	var server struct {
		UploadURL string `json:"upload_url"`
	}
	if err := json.Unmarshal(raw, &server); err != nil || server.UploadURL == "" {
		return "", fmt.Errorf("vk: photos.getMessagesUploadServer for %s: no upload_url in %.60q: %w", shown, raw, messenger.ErrTransient)
	}
	up, err := b.postPhoto(ctx, server.UploadURL, img)
	if err != nil {
		return "", fmt.Errorf("vk: upload %s: %w", shown, err)
	}
	raw, err = b.call(ctx, "photos.saveMessagesPhoto", api.Params{"server": up.Server, "photo": up.Photo, "hash": up.Hash})
	if err != nil {
		return "", refused(b.wrap(ctx, "photos.saveMessagesPhoto for "+shown, err))
	}
	att, err := attachmentOf(raw)
	if err != nil {
		return "", fmt.Errorf("vk: photos.saveMessagesPhoto for %s: %w: %w", shown, err, messenger.ErrBadRequest)
	}
	b.log.Debug("picture uploaded", "image", shown, "bytes", len(img.data))
	return att, nil
}

// refused gives a VK API error of the upload flow its meaning: rate
// limits, internal errors, network failures and the caller's cancellation
// stay as wrap classified them; anything else is VK refusing the picture
// (messenger.ErrBadRequest).
func refused(err error) error {
	var rl *messenger.RateLimitError
	switch {
	case errors.Is(err, messenger.ErrTransient), errors.As(err, &rl), errors.Is(err, messenger.ErrBadRequest),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: %w", err, messenger.ErrBadRequest)
}

// uploadAnswer is what VK's upload server answers a photo POST with.
type uploadAnswer struct {
	Server int    `json:"server"`
	Photo  string `json:"photo"`
	Hash   string `json:"hash"`
	Error  string `json:"error"`
}

// postPhoto POSTs img to uploadURL as multipart field "photo". The URL is
// never shown: its query carries the upload's secrets. A network failure or
// a 5xx is transient; any other non-200 answer, an error answer or an
// answer without a photo is messenger.ErrBadRequest.
func (b *Bot) postPhoto(ctx context.Context, uploadURL string, img picture) (uploadAnswer, error) {
	u, err := url.Parse(uploadURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return uploadAnswer{}, fmt.Errorf("the upload_url VK gave is not an http(s) URL: %w", messenger.ErrBadRequest)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("photo", img.fileName())
	if err == nil {
		_, err = fw.Write(img.data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("build the upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL, &body)
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("build the upload request: %w", messenger.ErrBadRequest)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return uploadAnswer{}, fmt.Errorf("POST to %s: %w", u.Host, cerr)
		}
		return uploadAnswer{}, fmt.Errorf("POST to %s: %s: %w", u.Host, redact(b.cfg.Token, transportCause(err).Error()), messenger.ErrTransient)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxUploadAnswer))
	switch {
	case err != nil:
		return uploadAnswer{}, fmt.Errorf("read the answer of %s: %s: %w", u.Host, transportCause(err), messenger.ErrTransient)
	case resp.StatusCode >= 500:
		return uploadAnswer{}, fmt.Errorf("%s answered HTTP %d: %w", u.Host, resp.StatusCode, messenger.ErrTransient)
	case resp.StatusCode != http.StatusOK:
		return uploadAnswer{}, fmt.Errorf("%s answered HTTP %d: %w", u.Host, resp.StatusCode, messenger.ErrBadRequest)
	}
	var up uploadAnswer
	if err := json.Unmarshal(raw, &up); err != nil {
		return uploadAnswer{}, fmt.Errorf("%s answered %.60q: %w", u.Host, raw, messenger.ErrBadRequest)
	}
	if up.Error != "" || up.Photo == "" || up.Photo == "[]" || up.Hash == "" {
		return uploadAnswer{}, fmt.Errorf("VK refused the picture (%s): %w", firstNonEmpty(up.Error, "no photo in the answer"), messenger.ErrBadRequest)
	}
	return up, nil
}

// savedPhoto is one photo photos.saveMessagesPhoto answers.
type savedPhoto struct {
	ID        int    `json:"id"`
	OwnerID   int    `json:"owner_id"`
	AccessKey string `json:"access_key"`
}

// attachmentOf reads photos.saveMessagesPhoto's answer as an attachment.
func attachmentOf(raw json.RawMessage) (string, error) {
	var photos []savedPhoto
	if err := json.Unmarshal(raw, &photos); err != nil || len(photos) == 0 || photos[0].ID == 0 {
		return "", fmt.Errorf("no photo in the answer %.60q", raw)
	}
	p := photos[0]
	att := "photo" + strconv.Itoa(p.OwnerID) + "_" + strconv.Itoa(p.ID)
	if p.AccessKey != "" {
		att += "_" + p.AccessKey
	}
	return att, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
