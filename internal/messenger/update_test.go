package messenger

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestUpdatePressMarkJSON: a press's mark travels through JSON (the relay's
// queue, parked updates) byte for byte, is left out when empty, and an
// update queued before the field existed decodes without one.
func TestUpdatePressMarkJSON(t *testing.T) {
	t.Parallel()
	mark := json.RawMessage(`{"inline_keyboard":[[{"text":"✓ A \u0026 B","callback_data":"a"}]]}`)
	for _, tt := range []struct {
		name string
		in   string // an encoded update; "" encodes want
		want json.RawMessage
	}{
		{"with a mark", "", mark},
		{"without one", "", nil},
		{"queued before", `{"ID":"7","Chat":{"Platform":"telegram","Bot":"","ID":"1"},"Kind":1,"Value":"a","MessageID":"5"}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			if tt.in == "" {
				var err error
				if data, err = json.Marshal(&Update{ID: "7", Kind: KindButton, PressMark: tt.want}); err != nil {
					t.Fatal(err)
				}
				if tt.want == nil && bytes.Contains(data, []byte("PressMark")) {
					t.Errorf("an update without a mark encodes one: %s", data)
				}
			}
			var u Update
			if err := json.Unmarshal(data, &u); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(u.PressMark, tt.want) {
				t.Errorf("PressMark = %s, want %s", u.PressMark, tt.want)
			}
		})
	}
}
