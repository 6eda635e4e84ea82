package dialog

import (
	"encoding/json"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

func TestOutboxEncoding(t *testing.T) {
	t.Parallel()
	replies := []messenger.OutMessage{{Chat: testChat, Text: "два"}, {Chat: testChat, Text: "три"}}
	tests := []struct {
		name    string
		from    int
		wantRaw string // prefix of the encoding
	}{
		{"from the first reply: the plain array of before", 0, `[`},
		{"from a later reply: with its index", 1, `{"from":1,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := encodeOutbox(tt.from, replies)
			if err != nil || len(b) < len(tt.wantRaw) || string(b[:len(tt.wantRaw)]) != tt.wantRaw {
				t.Fatalf("encodeOutbox = %s, %v; want it to start with %s", b, err, tt.wantRaw)
			}
			o, err := decodeOutbox(b)
			if err != nil || o.From != tt.from || len(o.Replies) != 2 || o.Replies[1].Text != "три" {
				t.Fatalf("decodeOutbox(%s) = %+v, %v", b, o, err)
			}
		})
	}
	for _, bad := range []string{`{"from":-1,"replies":[]}`, `{"from":"x"}`, `[{"Text":1}]`, `nul`} {
		if _, err := decodeOutbox([]byte(bad)); err == nil {
			t.Errorf("decodeOutbox(%s) accepted", bad)
		}
	}
}

// FuzzDecodeOutbox: any stored bytes decode or fail cleanly, and what
// decodes encodes back to the same record.
func FuzzDecodeOutbox(f *testing.F) {
	for _, s := range []string{`[]`, `[{"Text":"a"}]`, `{"from":2,"replies":[{"Text":"b"}]}`, ` {"from":0}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOutbox(b)
		if err != nil {
			return
		}
		again, err := encodeOutbox(o.From, o.Replies)
		if err != nil {
			t.Fatalf("encode %+v: %v", o, err)
		}
		o2, err := decodeOutbox(again)
		if err != nil || o2.From != o.From || len(o2.Replies) != len(o.Replies) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", again, o2, err, o)
		}
		a, _ := json.Marshal(o.Replies)
		c, _ := json.Marshal(o2.Replies)
		if string(a) != string(c) {
			t.Fatalf("replies changed in the round trip: %s -> %s", a, c)
		}
	})
}
