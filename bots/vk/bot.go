// Package vk is the VK adapter: it turns Bots Long Poll or Callback API
// events into messenger.Update batches for a messenger.Sink, and sends
// messenger.OutMessage through messages.send / messages.edit
// (messenger.Sender), translating VK errors into the messenger errors.
//
// API calls go through github.com/SevereCloud/vksdk/v2 with its built-in
// limiter off (Limit = 0): the 20 requests/s budget of a community is shared
// by every process and every kind of call, so the project's own shared limiter
// plugs in through Config.Limiter and paces every API call instead.
package vk

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

const (
	// profileCacheSize bounds the users.get cache.
	profileCacheSize = 10_000
	// pendingCacheSize bounds the remembered ids of sends that failed transiently.
	pendingCacheSize = 10_000
	// callTimeout bounds one API call when the caller's context has no deadline.
	callTimeout = 30 * time.Second
)

// Bot is one VK community: a messenger.Sender, a Bots Long Poll runner (Run)
// and a Callback API handler (CallbackHandler). It is safe for concurrent use.
type Bot struct {
	cfg      Config
	vk       *api.VK
	log      *slog.Logger
	profiles *lru[int, messenger.Profile]
	pending  *lru[uint64, string]
	epoch    string
	seq      atomic.Uint64
	groupID  atomic.Int64

	// Delivery retry backoff of the long-poll loop (tests shorten it).
	backoffMin, backoffMax time.Duration
}

var _ messenger.Sender = (*Bot)(nil)

// New checks cfg, applies its defaults and builds a Bot. It makes no request.
func New(cfg Config) (*Bot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err // validation messages never quote the token
	}
	vk := api.NewVK(cfg.Token)
	vk.Limit = 0 // the project's shared limiter paces calls, see the package doc
	vk.MethodURL = cfg.APIURL
	vk.Client = cfg.HTTPClient
	if cfg.Limiter != nil {
		vk.Handler = limited(cfg.Limiter, vk.Handler)
	}
	b := &Bot{
		cfg: cfg, vk: vk, log: cfg.Logger.With("platform", string(messenger.VK)),
		profiles: newLRU[int, messenger.Profile](profileCacheSize),
		pending:  newLRU[uint64, string](pendingCacheSize),
		epoch:    rand.Text(), backoffMin: time.Second, backoffMax: 30 * time.Second,
	}
	b.groupID.Store(int64(cfg.GroupID))
	return b, nil
}

// GroupID is the community id: the configured one, or the one groups.getById
// reported once Run started.
func (b *Bot) GroupID() int { return int(b.groupID.Load()) }

// apiHandler is the signature of vksdk's api.VK.Handler.
type apiHandler = func(method string, params ...api.Params) (api.Response, error)

// limited makes every API call wait for the limiter first.
func limited(l Limiter, next apiHandler) apiHandler {
	return func(method string, ps ...api.Params) (api.Response, error) {
		ctx := context.Background()
		for _, p := range ps {
			if c, ok := p[":context"].(context.Context); ok { // where Params.WithContext puts it
				ctx = c
			}
		}
		if err := l.Wait(ctx); err != nil {
			return api.Response{}, fmt.Errorf("rate limiter: %w", err)
		}
		return next(method, ps...)
	}
}

// params returns api.Params carrying ctx, with a deadline when ctx has none.
func params(ctx context.Context, kv api.Params) (api.Params, context.CancelFunc) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
	}
	if kv == nil {
		kv = api.Params{}
	}
	return kv.WithContext(ctx), cancel
}

// resolveGroupID asks groups.getById for the token's community when no
// GroupID was configured.
func (b *Bot) resolveGroupID(ctx context.Context) error {
	if b.GroupID() != 0 {
		return nil
	}
	p, cancel := params(ctx, nil)
	defer cancel()
	groups, err := b.vk.GroupsGetByID(p)
	if err != nil {
		return b.wrap(ctx, "groups.getById", err)
	}
	if len(groups) == 0 || groups[0].ID <= 0 {
		return fmt.Errorf("vk: groups.getById: no community for the token")
	}
	b.groupID.Store(int64(groups[0].ID))
	return nil
}
