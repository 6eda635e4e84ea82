package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Defaults of TeamChatConfig.
const (
	DefaultTeamChatLease     = 30 * time.Second
	DefaultTeamChatBatch     = 20
	DefaultTeamChatReplyWait = 5 * time.Second
)

// maxQuestion caps the question quoted in an announcement, so the post
// stays one Telegram message (a reply threads to one message id).
const maxQuestion = 3000

// TeamService is what the team chat does with requests (*Service
// implements it).
type TeamService interface {
	Get(ctx context.Context, id int64) (Request, error)
	Take(ctx context.Context, id int64, manager string) (Request, error)
	Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error)
	Return(ctx context.Context, id int64, by, scenario string) error
}

// AnnouncementPoster is an optional TeamChatStore method: the post
// announcing request id in chat, so forwarded client messages are threaded
// as replies to it; ErrNotFound when none.
type AnnouncementPoster interface {
	AnnouncementPost(ctx context.Context, id int64, chat string) (string, error)
}

// TeamChatConfig configures a TeamChat.
type TeamChatConfig struct {
	// Store, Service, Sender and Chat are required. Chat is the team chat
	// (its platform, bot and id); Sender delivers to it.
	Store   TeamChatStore
	Service TeamService
	Sender  messenger.Sender
	Chat    messenger.ChatKey
	// Lease is how long a claimed announcement belongs to this process.
	// Default 30s.
	Lease time.Duration
	// Batch is how many requests one Tick announces and forwards. Default 20.
	Batch int
	// ReplyWait is how long a manager's reply waits to be sent before the
	// team chat is told it is queued. Default 5s.
	ReplyWait time.Duration
	// Managers ties the team chat's members to console logins: a linked
	// manager acts under their login, and `/link CODE` links a member
	// (teamchat_link.go). nil: everybody acts under their platform name
	// (ManagerName) and /link is refused.
	Managers Managers
	// PostWait is how long a manager's reply to a post not recorded yet
	// waits for the posts in flight to be recorded before it is answered
	// as a reply to no request. Default 3s.
	PostWait time.Duration
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// TeamChat is a managers' team chat (MANAGERS_TELEGRAM_CHAT_ID in Telegram,
// MANAGERS_VK_PEER_ID in VK): it posts each new request with the client's
// card and question, forwards the client's later messages as replies to
// that post, and turns the managers' replies to those posts into answers
// to the client (/take and /done in reply do what «Взять» and «Вернуть
// боту» do). Tick runs in every process's Worker; the store's claims make
// each post happen once per team chat. Several team chats (TeamChats) work
// side by side, each with its own posts, claims and forwarded marks.
type TeamChat struct {
	cfg  TeamChatConfig
	chat string
	log  *slog.Logger

	mu         sync.Mutex
	pauseUntil time.Time // after a failed post (see pause)

	posting postsInFlight
}

// failurePause is how long Tick leaves the team chat alone after a post
// failed (the bot removed from the group, Telegram down), so a broken chat
// is not retried every poll; a rate limit pauses for its RetryAfter.
const failurePause = 10 * time.Second

var _ Ticker = (*TeamChat)(nil)

// NewTeamChat checks cfg and returns a TeamChat.
func NewTeamChat(cfg TeamChatConfig) (*TeamChat, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if cfg.Service == nil {
		errs = append(errs, errors.New("Service is required"))
	}
	if cfg.Sender == nil {
		errs = append(errs, errors.New("Sender is required"))
	}
	if cfg.Chat.ID == "" || !cfg.Chat.Platform.Valid() {
		errs = append(errs, fmt.Errorf("Chat %q is not a chat", cfg.Chat))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("handoff: team chat: %w", err)
	}
	cfg.Lease = positiveOr(cfg.Lease, DefaultTeamChatLease)
	cfg.Batch = positiveOr(cfg.Batch, DefaultTeamChatBatch)
	cfg.ReplyWait = positiveOr(cfg.ReplyWait, DefaultTeamChatReplyWait)
	cfg.PostWait = positiveOr(cfg.PostWait, DefaultTeamChatPostWait)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TeamChat{cfg: cfg, chat: StoreKey(cfg.Chat), log: cfg.Logger.With("team_chat", cfg.Chat.String())}, nil
}

// Chat is the team chat's key.
func (tc *TeamChat) Chat() messenger.ChatKey { return tc.cfg.Chat }

// StoreKey is how the store names team chat chat (TeamChatStore's chat):
// a Telegram group by its id alone (as the first team chat's posts were
// recorded), any other platform's chat as "platform:id", so no two
// platforms' chats share a key. The bot is not part of it: the chat stays
// the same chat when another bot of the platform posts there.
func StoreKey(chat messenger.ChatKey) string {
	if chat.Platform == messenger.Telegram {
		return chat.ID
	}
	return string(chat.Platform) + ":" + chat.ID
}

// TeamChats are the team chats of a process (at most one per platform),
// ticked one after the other; each pauses on its own failures, so a broken
// chat holds up no other. A nil or empty TeamChats ticks nothing.
type TeamChats []*TeamChat

var _ Ticker = TeamChats(nil)

// Tick ticks every team chat and joins their errors.
func (tcs TeamChats) Tick(ctx context.Context) error {
	var errs []error
	for _, tc := range tcs {
		if ctx.Err() != nil {
			break
		}
		errs = append(errs, tc.Tick(ctx))
	}
	return errors.Join(errs...)
}

// Find returns the team chat whose chat is chat, or nil.
func (tcs TeamChats) Find(chat messenger.ChatKey) *TeamChat {
	for _, tc := range tcs {
		if tc != nil && tc.cfg.Chat == chat {
			return tc
		}
	}
	return nil
}

// Tick announces the requests the team chat was not told of and forwards
// the clients' new messages. A failed post ends the Tick and pauses the
// team chat (10s, or a rate limit's RetryAfter); it is tried again after
// (an announcement once its claim's lease passed). A nil TeamChat (none
// configured) does nothing, so it may sit in WorkerConfig.TeamChat.
func (tc *TeamChat) Tick(ctx context.Context) error {
	if tc == nil || tc.paused() {
		return nil
	}
	err := tc.announce(ctx)
	if !isRateLimit(err) {
		err = errors.Join(err, tc.forward(ctx))
	}
	return err
}

func (tc *TeamChat) paused() bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.cfg.Now().Before(tc.pauseUntil)
}

// pause stops Ticks for a while after a failed post.
func (tc *TeamChat) pause(err error) {
	d := failurePause
	var rl *messenger.RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		d = rl.RetryAfter
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.pauseUntil = tc.cfg.Now().Add(d)
}

// announce posts every claimed request's card.
func (tc *TeamChat) announce(ctx context.Context) error {
	reqs, err := tc.cfg.Store.ClaimAnnouncements(ctx, tc.chat, tc.cfg.Now(), tc.cfg.Lease, tc.cfg.Batch)
	if err != nil {
		return fmt.Errorf("handoff: team chat: claim announcements: %w", err)
	}
	var errs []error
	for i := range reqs {
		r := &reqs[i]
		key := messenger.WithIdempotencyKey(ctx, "handoff-announce:"+strconv.FormatInt(r.ID, 10))
		err, markErr := tc.postAndRecord(key, messenger.OutMessage{Chat: tc.cfg.Chat, Text: Card(r)}, func(post string) error {
			return tc.cfg.Store.MarkAnnounced(ctx, r.ID, tc.chat, post, tc.cfg.Now())
		})
		if err != nil {
			tc.log.Warn("announcing a request in the team chat failed; trying again later", "handoff_id", r.ID, "err", err)
			tc.pause(err)
			errs = append(errs, fmt.Errorf("handoff: team chat: announce request %d: %w", r.ID, err))
			break // the claims of the rest expire; they are tried again then
		}
		if markErr != nil {
			errs = append(errs, fmt.Errorf("handoff: team chat: mark request %d announced: %w", r.ID, markErr))
		}
	}
	return errors.Join(errs...)
}

// forward posts the clients' new messages as replies to their request's
// announcement. A process first moves the request's forwarded mark past
// the batch (only one wins it), then posts; when a post fails the mark goes
// back to the last message posted, so the rest is posted by a later Tick.
func (tc *TeamChat) forward(ctx context.Context) error {
	fws, err := tc.cfg.Store.PendingForwards(ctx, tc.chat, tc.cfg.Batch)
	if err != nil {
		return fmt.Errorf("handoff: team chat: pending forwards: %w", err)
	}
	var errs []error
	for _, fw := range fws {
		if len(fw.Messages) == 0 {
			continue
		}
		last := fw.Messages[len(fw.Messages)-1].ID
		won, err := tc.cfg.Store.AdvanceForward(ctx, fw.Request.ID, tc.chat, fw.From, last)
		if err != nil {
			errs = append(errs, fmt.Errorf("handoff: team chat: claim forwards of request %d: %w", fw.Request.ID, err))
			continue
		}
		if !won {
			continue // another process posts them
		}
		if err := tc.post(ctx, fw, last); err != nil {
			tc.pause(err)
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// post sends fw's messages under the announcement; on a failure it gives
// the unsent ones back (the forwarded mark from last to the last sent).
func (tc *TeamChat) post(ctx context.Context, fw Forward, last int64) error {
	thread := tc.announcement(ctx, fw.Request.ID)
	done := fw.From
	for _, m := range fw.Messages {
		key := messenger.WithIdempotencyKey(ctx, "handoff-forward:"+strconv.FormatInt(m.ID, 10))
		msg := messenger.OutMessage{Chat: tc.cfg.Chat, Text: forwardText(&fw.Request, m), ReplyToID: thread}
		err, addErr := tc.postAndRecord(key, msg, func(post string) error {
			return tc.cfg.Store.AddPost(ctx, fw.Request.ID, tc.chat, post)
		})
		if err != nil {
			tc.log.Warn("forwarding a client message to the team chat failed; trying again later",
				"handoff_id", fw.Request.ID, "message_id", m.ID, "err", err)
			if _, rerr := tc.cfg.Store.AdvanceForward(ctx, fw.Request.ID, tc.chat, last, done); rerr != nil {
				tc.log.Error("giving unsent forwards back failed; they stay in the console only", "handoff_id", fw.Request.ID, "err", rerr)
			}
			return fmt.Errorf("handoff: team chat: forward message %d: %w", m.ID, err)
		}
		done = m.ID
		if addErr != nil {
			tc.log.Warn("recording a forwarded post failed; replies to it will not reach the client",
				"handoff_id", fw.Request.ID, "err", addErr)
		}
	}
	return nil
}

// announcement is the request's announcing post to thread under ("" when
// the store cannot tell).
func (tc *TeamChat) announcement(ctx context.Context, id int64) string {
	p, ok := tc.cfg.Store.(AnnouncementPoster)
	if !ok {
		return ""
	}
	post, err := p.AnnouncementPost(ctx, id, tc.chat)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			tc.log.Warn("reading the announcement post failed; forwarding without the thread", "handoff_id", id, "err", err)
		}
		return ""
	}
	return post
}

func isRateLimit(err error) bool {
	var rl *messenger.RateLimitError
	return errors.As(err, &rl)
}

// Card is the announcement of request r: the client's card summary, where
// the conversation was, the question and how to answer.
func Card(r *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🔔 Обращение №%d\n", r.ID)
	line := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, value)
		}
	}
	line("Клиент", r.ClientName)
	line("Телефон", r.Phone)
	line("Город", r.City)
	line("Теги", strings.Join(r.Tags, ", "))
	line("Платформа", platformName(r.Chat.Platform))
	step := r.Scenario
	if r.Step != "" {
		step += ", шаг " + r.Step
	}
	line("Сценарий", step)
	line("Ответственный", r.AssignedManager)
	if q := strings.TrimSpace(r.Question); q != "" {
		fmt.Fprintf(&b, "Вопрос: «%s»\n", cut(q, maxQuestion))
	}
	b.WriteString("\nОтветьте на это сообщение, чтобы написать клиенту; /take — взять, /done — вернуть боту.")
	return b.String()
}

// forwardText is a client's message as the team chat shows it.
func forwardText(r *Request, m crm.Message) string {
	name := r.ClientName
	if name == "" {
		name = "Клиент"
	}
	body := m.Text
	switch {
	case m.Button != "" && body == "":
		body = "нажал кнопку «" + m.Button + "»"
	case m.Media != "" && body == "":
		body = "[" + MediaName(m.Media) + "]"
	case m.Media != "":
		body = "[" + MediaName(m.Media) + "] " + body
	}
	return fmt.Sprintf("💬 %s (№%d):\n%s", name, r.ID, cut(body, maxQuestion))
}

// MediaName is a media kind (messenger.Media*) in Russian words, as the
// team chat's forwards show it and the console's Переписка reads in
// Russian: «фото», «голосовое сообщение»; an unknown kind is «вложение».
func MediaName(kind string) string {
	if name, ok := mediaNames[kind]; ok {
		return name
	}
	return mediaNames[messenger.MediaOther]
}

var mediaNames = map[string]string{
	messenger.MediaContact: "контакт", messenger.MediaPhoto: "фото", messenger.MediaVideo: "видео",
	messenger.MediaVoice: "голосовое сообщение", messenger.MediaAudio: "аудиофайл",
	messenger.MediaSticker: "стикер", messenger.MediaDocument: "файл",
	messenger.MediaLocation: "геопозиция", messenger.MediaOther: "вложение",
}

func platformName(p messenger.Platform) string {
	switch p {
	case messenger.Telegram:
		return "Telegram"
	case messenger.VK:
		return "ВКонтакте"
	}
	return string(p)
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
