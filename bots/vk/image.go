package vk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/chathub/chathub/internal/messenger"
)

// imageTypes are the picture formats a message's image may have, by MIME
// type, with the file extension the upload names them with.
var imageTypes = map[string]string{
	"image/jpeg": "jpg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// picture is a downloaded image.
type picture struct {
	data []byte
	// mime is its sniffed type, one of imageTypes.
	mime string
}

// fileName is the name the picture is uploaded under.
func (i picture) fileName() string { return "image." + imageTypes[i.mime] }

// downloadImage fetches the picture at rawURL with the image client: an
// answer 200 of at most MaxImageBytes whose content is a JPEG, PNG, GIF or
// WebP picture. The content decides (net/http's sniffing), not the
// Content-Type header: a mislabelled picture still goes, an error page
// labelled image/jpeg does not. Every failure is messenger.ErrBadRequest:
// the picture is the campaign's, and retrying each recipient would only
// hammer its host.
func (b *Bot) downloadImage(ctx context.Context, rawURL string) (picture, error) {
	shown := imageName(rawURL)
	fail := func(format string, args ...any) (picture, error) {
		return picture{}, fmt.Errorf("vk: image %s: %s: %w", shown, fmt.Sprintf(format, args...), messenger.ErrBadRequest)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("not an absolute http(s) URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/gif, image/webp")
	resp, err := b.cfg.ImageClient.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return picture{}, fmt.Errorf("vk: image %s: download: %w", shown, cerr)
		}
		return fail("download: %v", transportCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail("download: HTTP %d", resp.StatusCode)
	}
	max := b.cfg.MaxImageBytes
	if resp.ContentLength > max {
		return fail("%d bytes, at most %d", resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return picture{}, fmt.Errorf("vk: image %s: download: %w", shown, ctx.Err())
	case err != nil:
		return fail("download: %v", transportCause(err))
	case int64(len(data)) > max:
		return fail("over %d bytes", max)
	case len(data) == 0:
		return fail("empty answer")
	}
	mime := http.DetectContentType(data)
	if _, ok := imageTypes[mime]; !ok {
		return fail("not a JPEG, PNG, GIF or WebP picture (Content-Type %q, content %q)", resp.Header.Get("Content-Type"), mime)
	}
	return picture{data: data, mime: mime}, nil
}

// imageName is rawURL for errors and logs: without its query and fragment,
// which may carry a signature.
func imageName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// transportCause is err without the *url.Error wrapper, whose message
// repeats the whole URL (the upload URL carries secrets).
func transportCause(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
