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

func (nopTeamStore) ClaimAnnouncements(context.Context, string, time.Time, time.Duration, int) ([]handoff.Request, error) {
	return nil, nil
}
func (nopTeamStore) MarkAnnounced(context.Context, int64, string, string, time.Time) error {
	return nil
}
func (nopTeamStore) AddPost(context.Context, int64, string, string) error { return nil }
func (nopTeamStore) HandoffByPost(context.Context, string, string) (handoff.Request, error) {
	return handoff.Request{}, handoff.ErrNotFound
}
func (nopTeamStore) PendingForwards(context.Context, string, int) ([]handoff.Forward, error) {
	return nil, nil
}
func (nopTeamStore) AdvanceForward(context.Context, int64, string, int64, int64) (bool, error) {
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

func TestNewTeamChats(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	build := func(cfg config.Config) (handoff.TeamChats, error) {
		return newTeamChats(cfg, nopTeamStore{}, nopTeamService{}, &recordingSender{}, nil, logger)
	}
	cfg := config.Default()
	if tcs, err := build(cfg); len(tcs) != 0 || err != nil {
		t.Fatalf("without MANAGERS_TELEGRAM_CHAT_ID nor MANAGERS_VK_PEER_ID: %v, %v", tcs, err)
	}
	cfg.TeamChat.ChatID = -100
	if _, err := build(cfg); err == nil || !strings.Contains(err.Error(), "no Telegram bot") {
		t.Fatalf("without a Telegram bot: err = %v", err)
	}
	cfg.FileBots = []config.Bot{{Name: "shop", Platform: messenger.Telegram}}
	tcs, err := build(cfg)
	if err != nil || len(tcs) != 1 || tcs[0].Chat() != (messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "-100"}) {
		t.Fatalf("newTeamChats = %v, %v", tcs, err)
	}
	cfg.TeamChat.VKPeerID = 2000000001
	if _, err := build(cfg); err == nil || !strings.Contains(err.Error(), "no VK bot runs") {
		t.Fatalf("without a VK bot: err = %v", err)
	}
	cfg.FileBots = append(cfg.FileBots, config.Bot{Name: "club", Platform: messenger.VK})
	tcs, err = build(cfg)
	if err != nil || len(tcs) != 2 || tcs[1].Chat() != (messenger.ChatKey{Platform: messenger.VK, Bot: "club", ID: "2000000001"}) {
		t.Fatalf("both team chats = %v, %v", tcs, err)
	}
	cfg.TeamChat.ChatID = 0
	if tcs, err = build(cfg); err != nil || len(tcs) != 1 || tcs[0].Chat().Platform != messenger.VK {
		t.Fatalf("the VK team chat alone = %v, %v", tcs, err)
	}
}

func TestTeamChatRouter(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tgTeam := messenger.ChatKey{Platform: messenger.Telegram, ID: "-100"}
	vkTeam := messenger.ChatKey{Platform: messenger.VK, Bot: "club", ID: "2000000001"}
	snd := &recordingSender{}
	var tcs handoff.TeamChats
	for _, chat := range []messenger.ChatKey{tgTeam, vkTeam} {
		tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{Store: nopTeamStore{}, Service: nopTeamService{}, Sender: snd, Chat: chat})
		if err != nil {
			t.Fatal(err)
		}
		tcs = append(tcs, tc)
	}
	var dialog []string
	h := handlerFunc(func(_ context.Context, upd *messenger.Update) error { dialog = append(dialog, upd.ID); return nil })
	ctx := context.Background()
	client := &messenger.Update{ID: "1", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}, Text: "привет"}
	tgUpd := &messenger.Update{ID: "2", Chat: tgTeam, Text: "Алло", Team: true, ReplyToID: "5", MessageID: "6"}
	vkUpd := &messenger.Update{ID: "3", Chat: vkTeam, Text: "Алло", Team: true, ReplyToID: "5", MessageID: "7"}
	stray := &messenger.Update{ID: "4", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "-7"}, Text: "x", Team: true, ReplyToID: "5"}
	otherBot := &messenger.Update{ID: "5", Chat: messenger.ChatKey{Platform: messenger.VK, ID: "2000000001"}, Text: "x", Team: true, ReplyToID: "5"}
	for _, r := range []struct {
		tcs handoff.TeamChats
		upd *messenger.Update
	}{{tcs, client}, {tcs, tgUpd}, {tcs, vkUpd}, {tcs, stray}, {tcs, otherBot}, {nil, tgUpd}} {
		if err := newTeamChatRouter(h, r.tcs, logger).Handle(ctx, r.upd); err != nil {
			t.Fatal(err)
		}
	}
	if len(dialog) != 1 || dialog[0] != "1" {
		t.Fatalf("dialog got %v, want only the client's update", dialog)
	}
	if len(snd.sent) != 2 || snd.sent[0].Chat != tgTeam || snd.sent[0].ReplyToID != "6" ||
		snd.sent[1].Chat != vkTeam || snd.sent[1].ReplyToID != "7" {
		t.Fatalf("team chat answers = %+v, want one hint in each team chat", snd.sent)
	}
}

type handlerFunc func(context.Context, *messenger.Update) error

func (f handlerFunc) Handle(ctx context.Context, upd *messenger.Update) error { return f(ctx, upd) }

// TestTeamChatPlatforms: Профиль offers linking for each platform whose
// managers' chat is configured.
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
	cfg.TeamChat.VKPeerID = 2000000001
	if got := teamChatPlatforms(cfg); len(got) != 2 || got[1] != account.PlatformVK {
		t.Errorf("with both chats: %v", got)
	}
	cfg.TeamChat.ChatID = 0
	if got := teamChatPlatforms(cfg); len(got) != 1 || got[0] != account.PlatformVK {
		t.Errorf("with MANAGERS_VK_PEER_ID alone: %v", got)
	}
}
