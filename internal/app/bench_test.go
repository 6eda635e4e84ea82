package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/storetest"
)

// discardSender accepts every message.
type discardSender struct{}

func (discardSender) Send(context.Context, messenger.OutMessage) (messenger.Sent, error) {
	return messenger.Sent{MessageID: "1"}, nil
}

// portraitScript is one client's way through the portrait scenario; each
// entry is one full step (one update handled end to end).
var portraitScript = []messenger.Update{
	{Kind: messenger.KindMessage, Text: "/start"},
	{Kind: messenger.KindButton, Value: "yes"},
	{Kind: messenger.KindMessage, Text: "Анна"},
	{Kind: messenger.KindMessage, Text: "43"},
	{Kind: messenger.KindMessage, Text: "Самара"},
	{Kind: messenger.KindButton, Value: "married"},
	{Kind: messenger.KindButton, Value: "fitness"},
	{Kind: messenger.KindButton, Value: "__done"},
	{Kind: messenger.KindMessage, Text: "+79123456789"},
}

// BenchmarkFullStep measures a full dialog step on the production parts: state
// in Redis (load + compare-and-set), client card read and answer write in
// PostgreSQL, the engine in between; 64 chats in parallel, each walking the
// portrait scenario. Target: ≥ 3,000 steps/s on 2 cores.
func BenchmarkFullStep(b *testing.B) {
	storetest.SkipUnlessServices(b)
	benchFullStep(b, fullStepConfig(b))
}

// BenchmarkFullStepEmbedded is the same on the zero-config default (SQLite
// file + in-process Redis), for comparison.
func BenchmarkFullStepEmbedded(b *testing.B) {
	cfg := config.Default()
	cfg.DatabaseURL = b.TempDir() + "/bench.db"
	cfg.ScenariosDir = "../../scenarios"
	benchFullStep(b, cfg)
}

func benchFullStep(b *testing.B, cfg config.Config) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores, err := Open(ctx, cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer stores.Close()
	h, err := stores.Handler(cfg, discardSender{})
	if err != nil {
		b.Fatal(err)
	}
	var chats, failures atomic.Int64
	b.SetParallelism(32) // 32 × GOMAXPROCS(2) = 64 chats
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		chat := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(chats.Add(1))}
		for i := 0; pb.Next(); i++ {
			upd := portraitScript[i%len(portraitScript)]
			upd.Chat, upd.ID = chat, fmt.Sprint(i)
			if err := h.Handle(ctx, &upd); err != nil {
				failures.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d steps failed", n)
	}
}
