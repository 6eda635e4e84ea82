package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// nopTeamStore is a TeamChatStore that knows no posts.
type nopTeamStore struct{}

func (nopTeamStore) ClaimAnnouncements(context.Context, time.Time, time.Duration, int) ([]handoff.Request, error) {
	return nil, nil
}
func (nopTeamStore) MarkAnnounced(context.Context, int64, string, string, time.Time) error {
	return nil
}
func (nopTeamStore) AddPost(context.Context, int64, string, string) error { return nil }
func (nopTeamStore) HandoffByPost(context.Context, string, string) (handoff.Request, error) {
	return handoff.Request{}, handoff.ErrNotFound
}
func (nopTeamStore) PendingForwards(context.Context, int) ([]handoff.Forward, error) { return nil, nil }
func (nopTeamStore) AdvanceForward(context.Context, int64, int64, int64) (bool, error) {
	return false, nil
}

type nopTeamService struct{}

func (nopTeamService) Get(context.Context, int64) (handoff.Request, error) {
	return handoff.Request{}, nil
}
func (nopTeamService) Take(context.Context, int64, string) (handoff.Request, error) {
	return handoff.Request{}, nil
}
func (nopTeamService) Reply(context.Context, int64, string, string, time.Duration) (crm.Message, error) {
	return crm.Message{}, nil
}
func (nopTeamService) Return(context.Context, int64, string, string) error { return nil }

type recordingSender struct{ sent []messenger.OutMessage }

func (r *recordingSender) Send(_ context.Context, m messenger.OutMessage) (messenger.Sent, error) {
	r.sent = append(r.sent, m)
	return messenger.Sent{MessageID: "1"}, nil
}

func TestNewTeamChat(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	tc, err := newTeamChat(cfg, nopTeamStore{}, nopTeamService{}, &recordingSender{}, nil, logger)
	if tc != nil || err != nil {
		t.Fatalf("without MANAGERS_TELEGRAM_CHAT_ID: %v, %v", tc, err)
	}
	cfg.TeamChat.ChatID = -100
	if _, err := newTeamChat(cfg, nopTeamStore{}, nopTeamService{}, &recordingSender{}, nil, logger); err == nil ||
		!strings.Contains(err.Error(), "no Telegram bot") {
		t.Fatalf("without a Telegram bot: err = %v", err)
	}
	cfg.FileBots = []config.Bot{{Name: "shop", Platform: messenger.Telegram}}
	tc, err = newTeamChat(cfg, nopTeamStore{}, nopTeamService{}, &recordingSender{}, nil, logger)
	if err != nil || tc.Chat() != (messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "-100"}) {
		t.Fatalf("newTeamChat = %v, %v", tc, err)
	}
}

func TestTeamChatRouter(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	team := messenger.ChatKey{Platform: messenger.Telegram, ID: "-100"}
	snd := &recordingSender{}
	tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{Store: nopTeamStore{}, Service: nopTeamService{}, Sender: snd, Chat: team})
	if err != nil {
		t.Fatal(err)
	}
	var dialog []string
	h := handlerFunc(func(_ context.Context, upd *messenger.Update) error { dialog = append(dialog, upd.ID); return nil })
	ctx := context.Background()
	client := &messenger.Update{ID: "1", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}, Text: "привет"}
	teamUpd := &messenger.Update{ID: "2", Chat: team, Text: "Алло", Team: true, ReplyToID: "5", MessageID: "6"}
	stray := &messenger.Update{ID: "3", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "-7"}, Text: "x", Team: true, ReplyToID: "5"}
	for _, r := range []struct {
		tc  *handoff.TeamChat
		upd *messenger.Update
	}{{tc, client}, {tc, teamUpd}, {tc, stray}, {nil, teamUpd}} {
		if err := newTeamChatRouter(h, r.tc, logger).Handle(ctx, r.upd); err != nil {
			t.Fatal(err)
		}
	}
	if len(dialog) != 1 || dialog[0] != "1" {
		t.Fatalf("dialog got %v, want only the client's update", dialog)
	}
	if len(snd.sent) != 1 || snd.sent[0].Chat != team || snd.sent[0].ReplyToID != "6" {
		t.Fatalf("team chat answers = %+v, want one hint to the team update", snd.sent)
	}
}

type handlerFunc func(context.Context, *messenger.Update) error

func (f handlerFunc) Handle(ctx context.Context, upd *messenger.Update) error { return f(ctx, upd) }

// TestTeamChatPlatforms: Профиль offers linking for Telegram only when the
// managers' Telegram chat is configured.
func TestTeamChatPlatforms(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	if got := teamChatPlatforms(cfg); len(got) != 0 {
		t.Errorf("without a team chat: %v", got)
	}
	cfg.TeamChat.ChatID = -1001234567890
	if got := teamChatPlatforms(cfg); len(got) != 1 || got[0] != account.PlatformTelegram {
		t.Errorf("with MANAGERS_TELEGRAM_CHAT_ID: %v", got)
	}
}
