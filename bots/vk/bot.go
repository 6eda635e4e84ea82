// Package vk is the VK adapter: it turns Bots Long Poll or Callback API
// events into messenger.Update batches for a messenger.Sink, and sends
// messenger.OutMessage through messages.send / messages.edit
// (messenger.Sender), translating VK errors into the messenger errors.
//
// API calls go through github.com/SevereCloud/vksdk/v2 with its built-in
// limiter off (Limit = 0): the 20 requests/s budget of a community is shared
// by every process and every kind of call, so the project's own limiter
// (Config.Limiter: the shared Redis one in production) paces every API
// request instead, and VK's "too many requests" answers pause it. Replies
// pending at the same moment (many chats answered at once) are coalesced
// into one execute request of up to 25 calls, so a busy bot is not capped at
// 20 replies per second (see batcher).
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
	raw      apiHandler // vksdk's handler without the limiter: for granted requests
	limiter  Limiter
	batch    *batcher
	log      *slog.Logger
	profiles *lru[int, messenger.Profile]
	pending  *lru[uint64, string]
	photos   *photoCache
	epoch    string
	seq      atomic.Uint64
	groupID  atomic.Int64

	// Delivery retry backoff of the long-poll loop (tests shorten it).
	backoffMin, backoffMax time.Duration
	// ratePause is how long a "too many requests" answer pauses the budget
	// (tests shorten it).
	ratePause time.Duration
	state     messenger.BotStateCell
}

var _ messenger.Sender = (*Bot)(nil)

// New checks cfg, applies its defaults and builds a Bot. It makes no request.
func New(cfg Config) (*Bot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err // validation messages never quote the token
	}
	vk := api.NewVK(cfg.Token)
	vk.Limit = 0 // the project's limiter paces calls, see the package doc
	vk.MethodURL = cfg.APIURL
	vk.Client = cfg.HTTPClient
	b := &Bot{
		cfg: cfg, vk: vk, raw: vk.DefaultHandler, limiter: cfg.Limiter,
		log:      cfg.Logger.With("platform", string(messenger.VK)),
		profiles: newLRU[int, messenger.Profile](profileCacheSize),
		pending:  newLRU[uint64, string](pendingCacheSize),
		epoch:    rand.Text(), backoffMin: time.Second, backoffMax: 30 * time.Second, ratePause: rateLimitPause,
	}
	if b.limiter == nil {
		b.limiter = newLocalLimiter(cfg.RequestsPerSecond)
	}
	vk.Handler = b.limited(vk.DefaultHandler)
	b.photos = newPhotoCache(photoCacheSize, b.uploadPhoto)
	b.batch = newBatcher(cfg.MaxBatch, b.limiter, b.sendBatch)
	b.groupID.Store(int64(cfg.GroupID))
	return b, nil
}

// State is how the Long Poll intake last found VK: starting, ok,
// unreachable (it retries), unauthorized (errors 5, 27, 28) or failed
// (another permanent API error), the last two having stopped Run.
func (b *Bot) State() messenger.BotState { return b.state.Get() }

// GroupID is the community id: the configured one, or the one groups.getById
// reported once Run started.
func (b *Bot) GroupID() int { return int(b.groupID.Load()) }

// apiHandler is the signature of vksdk's api.VK.Handler.
type apiHandler = func(method string, params ...api.Params) (api.Response, error)

// params returns api.Params carrying ctx, with a deadline when ctx has none.
func params(ctx context.Context, kv api.Params) (api.Params, context.CancelFunc) {
	ctx, cancel := callContext(ctx)
	if kv == nil {
		kv = api.Params{}
	}
	return kv.WithContext(ctx), cancel
}

// callContext gives ctx a deadline of callTimeout when it has none.
func callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, callTimeout)
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
