package vk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Bounds of the photo cache (see photoCache).
const (
	// photoCacheSize is how many pictures' attachments are remembered.
	photoCacheSize = 1024
	// photoFailureTTL is how long a picture that failed for good (a 404, not
	// a picture, VK refused it) is answered with that failure before it is
	// tried again: a campaign's recipients fail at once instead of each
	// downloading it again.
	photoFailureTTL = time.Minute
	// uploadTimeout bounds one upload (download, two API calls, the POST),
	// whoever waits for it.
	uploadTimeout = 2 * time.Minute
)

// photoResult is an upload's outcome: an attachment, or a permanent error
// remembered until expires.
type photoResult struct {
	attachment string
	err        error
	expires    time.Time
}

// photoFlight is an upload in progress; done is closed once res is set.
type photoFlight struct {
	done chan struct{}
	res  photoResult
}

// photoCache remembers, per picture URL, the attachment its upload gave,
// so a campaign uploads its picture once per process rather than once per
// recipient; concurrent first sends of one URL share one upload. It is
// bounded (an LRU of photoCacheSize attachments) and safe for concurrent
// use. Failures that are permanent are remembered for photoFailureTTL;
// transient ones are not remembered (the next send tries again).
type photoCache struct {
	upload func(ctx context.Context, url string) (string, error)
	now    func() time.Time

	results *lru[string, photoResult]
	mu      sync.Mutex
	flights map[string]*photoFlight
}

func newPhotoCache(size int, upload func(ctx context.Context, url string) (string, error)) *photoCache {
	return &photoCache{upload: upload, now: time.Now, results: newLRU[string, photoResult](size), flights: map[string]*photoFlight{}}
}

// attachment returns the attachment of the picture at url, uploading it
// when no upload of it is remembered or in progress. The upload runs with
// ctx's values but not its cancellation (bounded by uploadTimeout), so a
// caller giving up does not fail the others waiting for it; ctx ending
// returns ctx's error to that caller alone.
func (c *photoCache) attachment(ctx context.Context, url string) (string, error) {
	c.mu.Lock()
	if r, ok := c.results.Get(url); ok {
		if r.err == nil || c.now().Before(r.expires) {
			c.mu.Unlock()
			return r.attachment, r.err
		}
		c.results.Delete(url)
	}
	f, ok := c.flights[url]
	if !ok {
		f = &photoFlight{done: make(chan struct{})}
		c.flights[url] = f
		go c.fly(context.WithoutCancel(ctx), url, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.res.attachment, f.res.err
	case <-ctx.Done():
		return "", fmt.Errorf("vk: waiting for the upload of %s: %w", imageName(url), ctx.Err())
	}
}

// fly makes f's upload and records its outcome.
func (c *photoCache) fly(ctx context.Context, url string, f *photoFlight) {
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	att, err := c.upload(ctx, url)
	res := photoResult{attachment: att, err: err}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.results.Put(url, res)
	case errors.Is(err, messenger.ErrBadRequest):
		res.expires = c.now().Add(photoFailureTTL)
		c.results.Put(url, res)
	}
	f.res = res
	delete(c.flights, url)
	close(f.done)
}
