package app

import (
	"context"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// TestTranscriptRecordsMedia: a client's photo with a caption, mid
// questionnaire, is no answer (the step is asked again) and lands in the
// transcript as media 'photo' with its caption and the platform's message
// id; a text answer keeps its id too.
func TestTranscriptRecordsMedia(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			p := open(t, b.cfg(t))
			chat := messenger.ChatKey{Platform: messenger.Telegram, ID: "551"}
			p.expect(chat, "/start", askName)
			photo := messenger.Update{Kind: messenger.KindUnsupported, Media: messenger.MediaPhoto, Text: "Анна",
				PlatformMsgID: "1042"}
			if got := p.handle(chat, photo); len(got) != 1 || got[0] == askAge {
				t.Fatalf("a captioned photo got %q, want the step asked again", got)
			}
			if c := p.client(chat); c.FirstName != "" {
				t.Fatalf("the caption was saved as the first name %q", c.FirstName)
			}
			if got := p.handle(chat, messenger.Update{Kind: messenger.KindMessage, Text: "Анна", PlatformMsgID: "1043"}); len(got) != 1 || got[0] != askAge {
				t.Fatalf("the answer got %q", got)
			}
			svc, err := p.stores.Handoffs()
			if err != nil {
				t.Fatal(err)
			}
			ms, err := svc.Transcript(context.Background(), p.client(chat).ID, handoff.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var gotPhoto, gotText bool
			for _, m := range ms {
				if m.Direction != crm.DirectionIn {
					continue
				}
				gotPhoto = gotPhoto || m.Media == "photo" && m.Text == "Анна" && m.PlatformMsgID == "1042"
				gotText = gotText || m.Media == "" && m.Text == "Анна" && m.PlatformMsgID == "1043"
			}
			if !gotPhoto || !gotText {
				t.Fatalf("transcript %+v lacks the photo (media photo, id 1042) or the answer (id 1043)", ms)
			}
		})
	}
}
