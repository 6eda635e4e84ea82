package redis

import (
	"context"
	"testing"

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
