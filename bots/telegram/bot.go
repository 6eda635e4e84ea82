// Package telegram is chathub's Telegram adapter: it receives updates by long
// polling (Run) or webhook (WebhookHandler), translates them into
// messenger.Update for the inbound pipeline, and sends messenger.OutMessage
// through the Bot API (Send), mapping Bot API failures to the messenger errors.
//
// It uses github.com/go-telegram-bot-api/telegram-bot-api/v5 for the wire
// format, except for a plain text reply's sendMessage, the inbound path's
// one call per reply, and a button press's side calls (answerCallbackQuery,
// editMessageReplyMarkup), which it posts and decodes itself
// (sendmessage.go, sidecalls.go);
// every call gets the caller's context (the library has none of its own)
// and every error and log line has the token removed.
package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// requestTimeout bounds a call other than getUpdates.
const requestTimeout = 30 * time.Second

// pollGrace is added to the poll timeout for a getUpdates call's deadline.
const pollGrace = 10 * time.Second

// Bot is a Telegram bot: a messenger.Sender and a source of updates. It is
// safe for concurrent use.
type Bot struct {
	cfg   Config
	api   tgbotapi.BotAPI // template: copied per call with a context-bound client
	log   *slog.Logger
	marks *markTracker
	// markq sends the marks of handled presses (see BeginPress).
	markq *markQueue
	// answerSlots hold a token per callback answer in flight (see
	// maxSideCalls).
	answerSlots chan struct{}
	chunks      *chunkLog // how far split sends got, per idempotency key
	clock       func() time.Time
	minGap      time.Duration // first retry delay of polling and delivery
	maxGap      time.Duration // retry delay cap
	state       messenger.BotStateCell
	botID       int64 // the bot's user id, read from the token (0: unknown)
	// The URLs (token included) of the methods called without the
	// library: sendMessage, answerCallbackQuery, editMessageReplyMarkup,
	// editMessageText.
	sendMessageURL, answerCallbackURL, editReplyMarkupURL, editTextURL string
}

var _ messenger.Sender = (*Bot)(nil)

// New checks cfg and returns a Bot. It makes no network call (see Me).
func New(cfg Config) (*Bot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ep, err := endpoint(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	b := &Bot{
		cfg:         cfg,
		api:         tgbotapi.BotAPI{Token: cfg.Token, Client: cfg.HTTPClient, Buffer: 100},
		log:         newRedactingLogger(cfg.Logger, cfg.Token).With("platform", string(messenger.Telegram)),
		marks:       newMarkTracker(),
		answerSlots: make(chan struct{}, maxSideCalls),
		chunks:      newChunkLog(chunkLogSize, chunkLogTTL),
		clock:       time.Now,
		minGap:      cfg.RetryDelay,
		maxGap:      cfg.MaxRetryDelay,
		botID:       tokenBotID(cfg.Token),
	}
	b.markq = newMarkQueue(b.mark, func(k msgKey) {
		b.log.Debug("too many marks waiting; the chosen option is not marked", "chat_id", k.chat)
	})
	b.markq.stale = b.marks.editedSince
	b.api.SetAPIEndpoint(ep)
	b.sendMessageURL = fmt.Sprintf(ep, cfg.Token, "sendMessage")
	b.answerCallbackURL = fmt.Sprintf(ep, cfg.Token, "answerCallbackQuery")
	b.editReplyMarkupURL = fmt.Sprintf(ep, cfg.Token, "editMessageReplyMarkup")
	b.editTextURL = fmt.Sprintf(ep, cfg.Token, "editMessageText")
	return b, nil
}

// tokenBotID reads the bot's user id from its token ("<bot id>:<secret>");
// 0 when the token has no such prefix.
func tokenBotID(token string) int64 {
	head, _, ok := strings.Cut(token, ":")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(head, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// State is how the intake last found the Bot API: starting, ok,
// unreachable (polling retries), unauthorized or conflict (polling stopped).
// A webhook bot is ok once its webhook is set.
func (b *Bot) State() messenger.BotState { return b.state.Get() }

// Me calls getMe: it checks the token and returns the bot's username.
func (b *Bot) Me(ctx context.Context) (string, error) {
	var u tgbotapi.User
	if err := b.callParams(ctx, "getMe", nil, &u); err != nil {
		return "", err
	}
	return u.UserName, nil
}

// ctxClient binds the library's requests to a context.
type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

// Do implements tgbotapi.HTTPClient.
func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.c.Do(req.WithContext(c.ctx))
}

// client returns a copy of the API bound to ctx.
func (b *Bot) client(ctx context.Context) *tgbotapi.BotAPI {
	api := b.api
	api.Client = ctxClient{ctx: ctx, c: b.cfg.HTTPClient}
	return &api
}

// call sends a library request and decodes its result into out (when not nil).
func (b *Bot) call(ctx context.Context, method string, c tgbotapi.Chattable, out any) error {
	return b.callTimeout(ctx, requestTimeout, method, c, out)
}

// callTimeout is call with a deadline of at most d.
func (b *Bot) callTimeout(ctx context.Context, d time.Duration, method string, c tgbotapi.Chattable, out any) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	resp, err := b.client(ctx).Request(c)
	return b.result(ctx, method, resp, err, out)
}

// callRaw is callTimeout returning the result's JSON undecoded (nil when
// the answer had none).
func (b *Bot) callRaw(ctx context.Context, d time.Duration, method string, c tgbotapi.Chattable) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	resp, err := b.client(ctx).Request(c)
	if err := b.result(ctx, method, resp, err, nil); err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, nil
	}
	return resp.Result, nil
}

// callParams calls method with raw parameters (for what the library's
// configs lack, such as setWebhook's secret_token).
func (b *Bot) callParams(ctx context.Context, method string, p tgbotapi.Params, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := b.client(ctx).MakeRequest(method, p)
	return b.result(ctx, method, resp, err, out)
}

func (b *Bot) result(ctx context.Context, method string, resp *tgbotapi.APIResponse, err error, out any) error {
	if err != nil {
		return wrapError(ctx, method, b.cfg.Token, err)
	}
	if out == nil || resp == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, out); err != nil {
		return fmt.Errorf("telegram: %s: decode result: %w", method, err)
	}
	return nil
}

// WebhookPath is the path of WebhookURL ("/" when it has none; "" in
// polling mode): where WebhookHandler must be mounted.
func (b *Bot) WebhookPath() string {
	if b.cfg.WebhookURL == "" {
		return ""
	}
	u, err := url.Parse(b.cfg.WebhookURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}
