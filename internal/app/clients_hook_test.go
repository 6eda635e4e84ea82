package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// TestClientsHookWrapsEveryHandler: the CRM wrapper the benchmarks install
// (Stores.clients) is what every dialog handler writes through, the
// environment bot's included; once it was not, and a benchmark "without the
// transcript" ran with it.
func TestClientsHookWrapsEveryHandler(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.ScenariosDir = filepath.Join("..", "..", "scenarios")
	ctx := context.Background()
	stores, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	var writes atomic.Int64
	stores.clients = func(c dialog.ClientStore) dialog.ClientStore {
		return recordingCRM{c, func(*crm.Changes) { writes.Add(1) }}
	}
	bots, err := stores.BotHandlers(cfg, discardSender{})
	if err != nil {
		t.Fatal(err)
	}
	terminal, err := stores.Handler(cfg, discardSender{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		handle func(context.Context, *messenger.Update) error
	}{
		{"the environment's bot", bots.Handle},
		{"the terminal's handler", terminal.Handle},
	}
	for i, tt := range tests {
		before := writes.Load()
		upd := messenger.Update{ID: "1", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: string(rune('1' + i))}, Kind: messenger.KindMessage, Text: "/start"}
		if err := tt.handle(ctx, &upd); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if writes.Load() == before {
			t.Errorf("%s wrote its turn around Stores.clients", tt.name)
		}
	}
}
