package dialog

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// memEraser erases from the fixture's stores, as erasure.Eraser does from
// PostgreSQL and Redis.
type memEraser struct {
	f     *handlerFixture
	calls int
}

func (e *memEraser) Erase(_ context.Context, key messenger.ChatKey) (bool, error) {
	e.calls++
	e.f.states.mu.Lock()
	delete(e.f.states.st, key)
	e.f.states.mu.Unlock()
	e.f.clients.mu.Lock()
	defer e.f.clients.mu.Unlock()
	_, found := e.f.clients.clients[key]
	delete(e.f.clients.clients, key)
	return found, nil
}

// TestForgetThroughEraser: with an Eraser configured, a confirmed /forget
// mid-questionnaire erases through it (not RecordChanges), the turn saves
// its farewell over the deleted state, and a redelivery of that update
// only resends the farewell.
func TestForgetThroughEraser(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	graphs := map[string]*scenario.Graph{"portrait": loadGraph(t, "../../scenarios/portrait.yaml")}
	er := &memEraser{f: f}
	h, err := NewHandler(HandlerConfig{
		States: f.states, Clients: f.clients, Eraser: er, Scenarios: &memCatalog{graphs: graphs}, Sender: f.sender,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	var last []string
	steps := []*messenger.Update{text("/start"), button("yes"), text("Анна"), text("/forget"), button(forgetYes)}
	for i, u := range steps {
		u.ID = "u" + string(rune('0'+i))
		last = f.say(t, u)
	}
	if got := strings.Join(last, "\n"); !strings.Contains(got, "Ваши данные удалены") {
		t.Fatalf("last reply %q", got)
	}
	if er.calls != 1 {
		t.Errorf("eraser called %d times, want 1", er.calls)
	}
	if _, ok := f.clients.clients[testChat]; ok {
		t.Error("client still stored")
	}
	if slices.Contains(f.clients.updates, "u4") {
		t.Error("the /forget turn went to RecordChanges as well")
	}
	st := f.states.st[testChat]
	if st.Data != nil || st.Update != "u4" || st.Rev != 1 {
		t.Errorf("state after /forget = %+v; want only the record of u4, written afresh", st)
	}
	again := button(forgetYes)
	again.ID = "u4"
	if got := strings.Join(f.say(t, again), ""); !strings.Contains(got, "Ваши данные удалены") || er.calls != 1 {
		t.Errorf("redelivery answered %q with %d erasures", got, er.calls)
	}
}
