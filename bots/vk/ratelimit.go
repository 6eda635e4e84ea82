package vk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
)

// rateLimitRetries is how many times a request VK refused as too many
// (errors 6, 9, 29) is made again, each after pausing the whole budget.
const rateLimitRetries = 2

// localLimiter is the default Limiter: one process's budget of evenly
// spaced requests. It sleeps without holding its lock.
type localLimiter struct {
	interval time.Duration

	mu          sync.Mutex
	next        time.Time // earliest time of the next grant
	pausedUntil time.Time
}

func newLocalLimiter(perSecond int) *localLimiter {
	return &localLimiter{interval: time.Second / time.Duration(perSecond)}
}

// Wait implements Limiter.
func (l *localLimiter) Wait(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("wait for %d requests: want at least 1", n)
	}
	for {
		d := l.try(n)
		if d == 0 {
			return nil
		}
		if !sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// try grants n requests now (0) or says how long to wait.
func (l *localLimiter) try(n int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	switch {
	case now.Before(l.pausedUntil):
		return l.pausedUntil.Sub(now)
	case now.Before(l.next):
		return l.next.Sub(now)
	}
	l.next = now.Add(time.Duration(n) * l.interval)
	return 0
}

// Pause implements Limiter.
func (l *localLimiter) Pause(_ context.Context, d time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	return nil
}

// rateLimitCode returns VK's "too many requests" code inside err (6, 9 or
// 29), or 0.
func rateLimitCode(err error) api.ErrorType {
	var aerr *api.Error
	if errors.As(err, &aerr) {
		switch aerr.Code {
		case api.ErrTooMany, api.ErrFlood, api.ErrRateLimit:
			return aerr.Code
		}
	}
	return 0
}

// pauseTimeout bounds recording a pause.
const pauseTimeout = 5 * time.Second

// pause stops the whole budget after VK refused a request as too many. It
// is recorded even when the caller has given up meanwhile: VK's refusal
// concerns the whole community.
func (b *Bot) pause(ctx context.Context, method string, code api.ErrorType) {
	b.log.Warn("VK refused a request as too many; pausing the community's request budget",
		"method", method, "code", int(code), "pause", b.ratePause)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pauseTimeout)
	defer cancel()
	if err := b.limiter.Pause(ctx, b.ratePause); err != nil {
		b.log.Warn("pausing the request budget failed", "err", redactErr(b.cfg.Token, err))
	}
}

// limited makes every API call made through vksdk (groups.*, users.get)
// wait for the limiter first, and pause the budget and try again when VK
// refuses it as too many.
func (b *Bot) limited(next apiHandler) apiHandler {
	return func(method string, ps ...api.Params) (api.Response, error) {
		ctx := context.Background()
		for _, p := range ps {
			if c, ok := p[":context"].(context.Context); ok { // where Params.WithContext puts it
				ctx = c
			}
		}
		for attempt := 0; ; attempt++ {
			if err := b.limiter.Wait(ctx, 1); err != nil {
				return api.Response{}, fmt.Errorf("rate limiter: %w", err)
			}
			resp, err := next(method, ps...)
			code := rateLimitCode(err)
			if code == 0 || attempt == rateLimitRetries || ctx.Err() != nil {
				return resp, err
			}
			b.pause(ctx, method, code)
		}
	}
}
