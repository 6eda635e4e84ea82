package redis

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// TestDeleteState: erasing a chat deletes its conversation state, leaves
// another chat's alone, and deleting again is not an error.
func TestDeleteState(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newTestStore(t, b.client(t), Config{})
			ctx := context.Background()
			key := messenger.ChatKey{Platform: "telegram", ID: "42"}
			other := messenger.ChatKey{Platform: "telegram", Bot: "shop", ID: "42"}
			for _, k := range []messenger.ChatKey{key, other} {
				if _, err := s.SaveState(ctx, k, dialog.StoredState{Data: []byte(`{"scenario":"portrait"}`), Update: "7"}); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if err := s.DeleteState(ctx, key); err != nil {
					t.Fatalf("DeleteState: %v", err)
				}
			}
			if st, err := s.LoadState(ctx, key); err != nil || st.Rev != 0 || st.Data != nil {
				t.Errorf("state after DeleteState = %+v, %v; want none", st, err)
			}
			if st, err := s.LoadState(ctx, other); err != nil || st.Rev == 0 {
				t.Errorf("the other chat's state = %+v, %v; want kept", st, err)
			}
			if err := s.DeleteState(ctx, messenger.ChatKey{}); err == nil {
				t.Error("DeleteState accepted an empty key")
			}
		})
	}
}

// TestDeleteStateDropsParkedUpdates: a chat's parked updates (whole
// messages: a phone, a text) go with its state, and the chat leaves the
// parked index, so an erased client's waiting messages are never handled
// later to bring the client back.
func TestDeleteStateDropsParkedUpdates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := b.client(t)
			s := newTestStore(t, c, Config{})
			ctx := context.Background()
			key := messenger.ChatKey{Platform: "telegram", ID: "43"}
			leave, _, err := s.Enter(ctx, key, "1", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = leave(ctx, false) }()
			upd := &messenger.Update{ID: "2", Chat: key, Kind: messenger.KindMessage, Text: "мой телефон +7 912 555 11 22"}
			if parked, _, err := s.Park(ctx, upd); err != nil || !parked {
				t.Fatalf("Park = %v, %v; want parked", parked, err)
			}
			if err := s.DeleteState(ctx, key); err != nil {
				t.Fatal(err)
			}
			if n := c.Exists(ctx, s.keys.parked(key)).Val(); n != 0 {
				t.Error("the parked updates outlived DeleteState")
			}
			if chats, err := s.ParkedChats(ctx, 10); err != nil || len(chats) != 0 {
				t.Errorf("ParkedChats = %v, %v; want none", chats, err)
			}
		})
	}
}
