package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestErrorsWrappedOnce: an error names each operation once — the store
// says "record changes telegram:7: …", and its callers do not say it again
// ("record changes telegram:7: record changes telegram:7: …").
func TestErrorsWrappedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    func(t *testing.T, p *proc) error
		phrase string // the operation, named exactly once
	}{
		{"load state", func(t *testing.T, p *proc) error {
			upd := messenger.Update{ID: "1", Chat: messenger.ChatKey{Platform: messenger.Telegram}, Kind: messenger.KindMessage, Text: "/start"}
			return p.h.Handle(context.Background(), &upd)
		}, "load state"},
		{"record changes or load client", func(t *testing.T, p *proc) error {
			if err := p.stores.CRM.Close(); err != nil {
				t.Fatal(err)
			}
			upd := messenger.Update{ID: "1", Chat: chatKey("7"), Kind: messenger.KindMessage, Text: "/start"}
			return p.h.Handle(context.Background(), &upd)
		}, "telegram:7"},
		{"create campaign", func(t *testing.T, p *proc) error {
			svc, err := BroadcastService(p.cfg, p.stores.CRM, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.stores.CRM.Close(); err != nil {
				t.Fatal(err)
			}
			_, err = svc.Create(context.Background(), broadcast.Campaign{Name: "x", Segment: "subscribed", Text: "Привет"})
			return err
		}, "create campaign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := open(t, embedded.cfg(t))
			err := tt.err(t, p)
			if err == nil {
				t.Fatal("no error")
			}
			if n := strings.Count(err.Error(), tt.phrase); n != 1 {
				t.Errorf("%q names %q %d times, want once", err, tt.phrase, n)
			}
		})
	}
}
