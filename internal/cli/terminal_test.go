package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

func TestTerminalUpdates(t *testing.T) {
	t.Parallel()
	inline := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
		{{Text: "0", Value: "0"}, {Text: "1", Value: "1"}, {Text: "2", Value: "2"}},
		{{Text: "✓ Фитнес", Value: "fitness", Selected: true}},
	}}
	reply := &messenger.Keyboard{Kind: messenger.Reply, Rows: [][]messenger.Button{
		{{Text: "📱 Отправить номер", RequestContact: true}}, {{Text: "Пропустить"}},
	}}
	tests := []struct {
		name      string
		kb        *messenger.Keyboard
		lines     []string
		wantKind  messenger.UpdateKind
		wantValue string
		wantText  string
	}{
		{"caption beats number", inline, []string{"2"}, messenger.KindButton, "2", "2"},
		{"number", inline, []string{"4"}, messenger.KindButton, "fitness", "✓ Фитнес"},
		{"caption without mark", inline, []string{"фитнес"}, messenger.KindButton, "fitness", "✓ Фитнес"},
		{"free text", inline, []string{"Тверь"}, messenger.KindMessage, "", "Тверь"},
		{"reply button sends its caption", reply, []string{"2"}, messenger.KindMessage, "", "Пропустить"},
		{"contact button then phone", reply, []string{"1", "+79123456789"}, messenger.KindContact, "", "+79123456789"},
		{"no keyboard", nil, []string{"1"}, messenger.KindMessage, "", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			term := &terminal{out: &out, chat: messenger.ChatKey{Platform: messenger.Terminal, ID: "u"}}
			if _, err := term.Send(context.Background(), messenger.OutMessage{Text: "?", Keyboard: tt.kb}); err != nil {
				t.Fatal(err)
			}
			var upd messenger.Update
			for i, line := range tt.lines {
				var ready bool
				upd, ready = term.update(line)
				if ready != (i == len(tt.lines)-1) {
					t.Fatalf("line %d ready = %v", i, ready)
				}
			}
			if upd.Kind != tt.wantKind || upd.Value != tt.wantValue || upd.Text != tt.wantText {
				t.Fatalf("update = %+v", upd)
			}
			if upd.Kind == messenger.KindContact && (upd.Contact == nil || upd.Contact.UserID != "u") {
				t.Fatalf("contact = %+v", upd.Contact)
			}
		})
	}
}
