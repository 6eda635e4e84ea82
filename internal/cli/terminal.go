package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/chathub/chathub/internal/messenger"
)

// terminal is the console platform of `chathub chat`: it prints the bot's
// messages with numbered buttons and turns typed lines into updates, mapping a
// button's number or caption to a button press.
type terminal struct {
	mu      sync.Mutex
	out     io.Writer
	chat    messenger.ChatKey
	buttons []messenger.Button // of the last message with a keyboard
	seq     int
	// awaitingContact: the contact button was chosen; the next line is the phone.
	awaitingContact bool
}

// Send implements messenger.Sender by printing the message.
func (t *terminal) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	fmt.Fprintf(t.out, "бот: %s\n", strings.ReplaceAll(msg.Text, "\n", "\n     "))
	switch {
	case msg.Keyboard != nil:
		t.buttons = t.buttons[:0]
		for _, row := range msg.Keyboard.Rows {
			cells := make([]string, 0, len(row))
			for _, b := range row {
				t.buttons = append(t.buttons, b)
				cells = append(cells, fmt.Sprintf("[%d] %s", len(t.buttons), b.Text))
			}
			fmt.Fprintf(t.out, "     %s\n", strings.Join(cells, "  "))
		}
	case msg.RemoveKeyboard || msg.EditMessageID == "":
		t.buttons = t.buttons[:0]
	}
	return messenger.Sent{MessageID: strconv.Itoa(t.seq)}, nil
}

// update turns a typed line into an update; ok is false when the line only
// chose the contact button and the phone comes on the next line.
func (t *terminal) update(line string) (messenger.Update, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	upd := messenger.Update{ID: strconv.Itoa(t.seq), Chat: t.chat, Kind: messenger.KindMessage, Text: line}
	if t.awaitingContact {
		t.awaitingContact = false
		upd.Kind, upd.Contact = messenger.KindContact, &messenger.Contact{Phone: line, UserID: t.chat.ID}
		return upd, true
	}
	b, ok := t.button(line)
	switch {
	case !ok:
	case b.RequestContact:
		t.awaitingContact = true
		fmt.Fprintln(t.out, "     (введите номер телефона, который отправит кнопка)")
		return upd, false
	case b.Value != "":
		upd.Kind, upd.Value, upd.Text, upd.MessageID = messenger.KindButton, b.Value, b.Text, strconv.Itoa(t.seq-1)
	default:
		upd.Text = b.Text
	}
	return upd, true
}

// button finds the shown button a line means: its caption first, then its number.
func (t *terminal) button(line string) (messenger.Button, bool) {
	s := strings.TrimSpace(line)
	for _, b := range t.buttons {
		if strings.EqualFold(strings.TrimPrefix(b.Text, "✓ "), s) || strings.EqualFold(b.Text, s) {
			return b, true
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(t.buttons) {
		return t.buttons[n-1], true
	}
	return messenger.Button{}, false
}
