package dialog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/chathub/chathub/internal/messenger"
)

// outbox is the record of an update's replies not yet confirmed delivered:
// Replies are the replies from index From of the update on (the ones
// before went out already). Its encoding is the plain JSON array of the
// replies when From is 0, else {"from": n, "replies": [...]}.
type outbox struct {
	From    int                    `json:"from"`
	Replies []messenger.OutMessage `json:"replies"`
}

func encodeOutbox(from int, replies []messenger.OutMessage) ([]byte, error) {
	if from == 0 {
		return json.Marshal(replies)
	}
	return json.Marshal(outbox{From: from, Replies: replies})
}

func decodeOutbox(b []byte) (outbox, error) {
	var o outbox
	var err error
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		err = json.Unmarshal(b, &o)
	} else {
		err = json.Unmarshal(b, &o.Replies)
	}
	if err == nil && o.From < 0 {
		err = fmt.Errorf("negative reply index %d", o.From)
	}
	return o, err
}
