package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
)

// terminal is the console platform of `chathub chat`: it prints the bot's
// messages with numbered buttons and turns typed lines into updates, mapping a
// button's number or caption to a button press. What the client sees and
// the updates it sends follow localchat.Screen, as in the console's
// playground.
type terminal struct {
	mu     sync.Mutex
	out    io.Writer
	chat   messenger.ChatKey
	screen localchat.Screen
}

// Send implements messenger.Sender by printing the message.
func (t *terminal) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.screen.Show(msg)
	fmt.Fprintf(t.out, "бот: %s\n", strings.ReplaceAll(msg.Text, "\n", "\n     "))
	n := 0
	for _, row := range m.Buttons {
		cells := make([]string, 0, len(row))
		for _, b := range row {
			n++
			cells = append(cells, fmt.Sprintf("[%d] %s", n, b.Text))
		}
		fmt.Fprintf(t.out, "     %s\n", strings.Join(cells, "  "))
	}
	return messenger.Sent{MessageID: m.ID}, nil
}

// update turns a typed line into an update; ok is false when the line only
// chose the contact button and the phone comes on the next line.
func (t *terminal) update(line string) (messenger.Update, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	in := localchat.Input{Text: line, Contact: t.screen.AwaitingContact}
	if !in.Contact {
		in.Button = t.screen.Button(line)
	}
	upd, ok := t.screen.Update(t.chat, in)
	if !ok && t.screen.AwaitingContact {
		fmt.Fprintln(t.out, "     (введите номер телефона, который отправит кнопка)")
	}
	return upd, ok
}
