package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// gateLimiter grants one request per grant() (all once opened), so a test
// decides when the budget frees up.
type gateLimiter struct {
	grants chan struct{}
	once   sync.Once
	waits  atomic.Int32
	pauses atomic.Int32
}

func newGate() *gateLimiter { return &gateLimiter{grants: make(chan struct{}, 1000)} }

func (g *gateLimiter) Wait(ctx context.Context, n int) error {
	g.waits.Add(int32(n))
	select {
	case <-g.grants:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gateLimiter) Pause(context.Context, time.Duration) error {
	g.pauses.Add(1)
	return nil
}

func (g *gateLimiter) grant(n int) {
	for range n {
		g.grants <- struct{}{}
	}
}

func (g *gateLimiter) open() { g.once.Do(func() { close(g.grants) }) }

// waitPending waits until n calls wait in b's batcher.
func waitPending(t *testing.T, b *Bot, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for b.batch.pending() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls pending, want %d", b.batch.pending(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// sendResult is what one concurrent Send returned.
type sendResult struct {
	sent messenger.Sent
	err  error
}

// sendAll sends msgs concurrently; the returned func waits for the results.
func sendAll(b *Bot, msgs []messenger.OutMessage) func() []sendResult {
	out := make([]sendResult, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Go(func() {
			ctx := messenger.WithIdempotencyKey(context.Background(), "upd-"+m.Chat.ID+"/0")
			out[i].sent, out[i].err = b.Send(ctx, m)
		})
	}
	return func() []sendResult { wg.Wait(); return out }
}

// trickyTexts must reach VK unchanged through the VKScript of an execute.
var trickyTexts = []string{
	`"кавычки" и \ обратный слэш \"`,
	"</script>\n\tтаб & <b>жирный</b> &amp;",
	`]);API.messages.send({"peer_id":1,"message":"взлом"});return [`,
	"разделители строк \u2028\u2029 и \x00\x1f управляющие",
	"эмодзи 😀 и ${шаблон} `обратные` 'одинарные'",
	"// комментарий */ /* ещё",
}

func TestPendingSendsRideInOneExecute(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	gate := newGate()
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = gate })
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: `"yes"`}}}}
	var msgs []messenger.OutMessage
	for i := range 30 {
		m := messenger.OutMessage{Chat: vkChat(strconv.Itoa(100 + i)), Text: fmt.Sprintf("%d: %s", i, trickyTexts[i%len(trickyTexts)])}
		if i%7 == 0 {
			m.Keyboard = kb
		}
		msgs = append(msgs, m)
	}
	wait := sendAll(b, msgs)
	waitPending(t, b, 30) // the first caller waits for the grant, the rest queue
	gate.grant(1)         // 25 ride in one execute; the 26th caller leads now
	waitPending(t, b, 5)
	if !srv.WaitCalls("execute", 1, waitLong) {
		t.Fatal("no execute")
	}
	gate.grant(1)
	results := wait()
	if srv.Calls("execute") != 2 || srv.Requests() != 2 || srv.Calls("messages.send") != 30 {
		t.Fatalf("%d executes, %d requests, %d sends; want 2, 2, 30",
			srv.Calls("execute"), srv.Requests(), srv.Calls("messages.send"))
	}
	for i, r := range results {
		peer := 100 + i
		got := srv.Messages(peer)
		if r.err != nil || len(got) != 1 {
			t.Fatalf("chat %d: %v, %d messages", peer, r.err, len(got))
		}
		if got[0].Text != msgs[i].Text || r.sent.MessageID != strconv.Itoa(got[0].ID) || got[0].RandomID == 0 {
			t.Fatalf("chat %d got %+v (sent %+v), want text %q", peer, got[0], r.sent, msgs[i].Text)
		}
		if (msgs[i].Keyboard != nil) != (got[0].Keyboard != nil) {
			t.Fatalf("chat %d: keyboard %q", peer, got[0].RawKeyboard)
		}
		if msgs[i].Keyboard != nil && got[0].Keyboard.Buttons[0][0].Action.Payload != `{"v":"\"yes\""}` {
			t.Fatalf("payload %q", got[0].Keyboard.Buttons[0][0].Action.Payload)
		}
	}
	if gate.waits.Load() != 2 {
		t.Fatalf("%d limiter waits for 2 requests", gate.waits.Load())
	}
}

func TestSendAloneWhenBudgetIsFree(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	b, _ := newBot(t, srv, nil)
	for i := range 5 {
		if _, err := b.Send(context.Background(), messenger.OutMessage{Chat: vkChat("5"), Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Calls("execute") != 0 || srv.Calls("messages.send") != 5 || len(srv.Messages(5)) != 5 {
		t.Fatalf("%d executes, %d sends", srv.Calls("execute"), srv.Calls("messages.send"))
	}
}

func TestExecuteMapsEachCallsError(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	gate := newGate()
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = gate })
	srv.SetUnreachable(2, 901)
	srv.SetUnreachable(4, 18)
	var msgs []messenger.OutMessage
	for i := 1; i <= 5; i++ {
		msgs = append(msgs, messenger.OutMessage{Chat: vkChat(strconv.Itoa(i)), Text: "Вопрос"})
	}
	msgs[2].Text = strings.Repeat("я", 3000) + "\n" + strings.Repeat("ю", 3000) // two parts: the second goes later
	wait := sendAll(b, msgs)
	waitPending(t, b, 5)
	gate.open()
	results := wait()
	wantCode := map[int]int{2: 901, 4: 18}
	for i, r := range results {
		peer := i + 1
		if code, bad := wantCode[peer]; bad {
			if !errors.Is(r.err, messenger.ErrBlocked) || ErrorCode(r.err) != code || len(srv.Messages(peer)) != 0 {
				t.Errorf("chat %d: err %v, want blocked with code %d", peer, r.err, code)
			}
			if !strings.Contains(r.err.Error(), fmt.Sprintf("messages.send to %d", peer)) {
				t.Errorf("chat %d: error %q does not name the chat", peer, r.err)
			}
			continue
		}
		if r.err != nil || r.sent.MessageID != strconv.Itoa(srv.Messages(peer)[len(srv.Messages(peer))-1].ID) {
			t.Errorf("chat %d: %+v, %v", peer, r.sent, r.err)
		}
	}
	if len(srv.Messages(3)) != 2 || srv.Calls("execute") < 1 {
		t.Fatalf("split message: %d parts, %d executes", len(srv.Messages(3)), srv.Calls("execute"))
	}
}

func TestExecuteRateLimitedCallPausesAndRetries(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	gate := newGate()
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = gate })
	srv.FailNext("messages.send", 9) // the first call inside the execute
	msgs := []messenger.OutMessage{{Chat: vkChat("1"), Text: "a"}, {Chat: vkChat("2"), Text: "b"}, {Chat: vkChat("3"), Text: "c"}}
	wait := sendAll(b, msgs)
	waitPending(t, b, 3)
	gate.open()
	for i, r := range wait() {
		if r.err != nil || len(srv.Messages(i+1)) != 1 {
			t.Fatalf("chat %d: %v, %d messages", i+1, r.err, len(srv.Messages(i+1)))
		}
	}
	if gate.pauses.Load() != 1 {
		t.Fatalf("%d pauses, want 1", gate.pauses.Load())
	}
	// A whole execute refused as too many: one pause, every call retried.
	gate = newGate()
	b, _ = newBot(t, srv, func(c *Config) { c.Limiter = gate })
	srv.FailNext("execute", 6)
	wait = sendAll(b, []messenger.OutMessage{{Chat: vkChat("7"), Text: "x"}, {Chat: vkChat("8"), Text: "y"}})
	waitPending(t, b, 2)
	gate.open()
	for _, r := range wait() {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	if gate.pauses.Load() != 1 || len(srv.Messages(7)) != 1 || len(srv.Messages(8)) != 1 {
		t.Fatalf("%d pauses; messages %d, %d", gate.pauses.Load(), len(srv.Messages(7)), len(srv.Messages(8)))
	}
}

func TestRefusedExecuteFallsBackToSingleSends(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	gate := newGate()
	b, logs := newBot(t, srv, func(c *Config) { c.Limiter = gate })
	srv.FailNext("execute", 12)
	var msgs []messenger.OutMessage
	for i := 1; i <= 4; i++ {
		msgs = append(msgs, messenger.OutMessage{Chat: vkChat(strconv.Itoa(i)), Text: "Текст"})
	}
	wait := sendAll(b, msgs)
	waitPending(t, b, 4)
	gate.open()
	for i, r := range wait() {
		if r.err != nil || len(srv.Messages(i+1)) != 1 {
			t.Fatalf("chat %d: %v", i+1, r.err)
		}
	}
	if srv.Calls("execute") != 1 || srv.Calls("messages.send") != 4 || !strings.Contains(logs.String(), "refused an execute") {
		t.Fatalf("%d executes, %d sends; logs:\n%s", srv.Calls("execute"), srv.Calls("messages.send"), logs)
	}
}

func TestBatcherCancel(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	gate := newGate()
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = gate })
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	queuedCtx, cancelQueued := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	send := func(ctx context.Context, chat string) {
		_, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat(chat), Text: chat})
		errs <- err
	}
	go send(leaderCtx, "1")
	waitPending(t, b, 1)
	go send(queuedCtx, "2")
	waitPending(t, b, 2)
	go send(context.Background(), "3")
	waitPending(t, b, 3)
	cancelQueued() // a queued call leaves the queue
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued send = %v", err)
	}
	cancelLeader() // the leader gives up: chat 3's caller leads
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled leader = %v", err)
	}
	waitPending(t, b, 1)
	gate.grant(1)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages(1)) != 0 || len(srv.Messages(2)) != 0 || len(srv.Messages(3)) != 1 || srv.Calls("execute") != 0 {
		t.Fatalf("messages %d/%d/%d, executes %d", len(srv.Messages(1)), len(srv.Messages(2)),
			len(srv.Messages(3)), srv.Calls("execute"))
	}
}

func TestSplitExecute(t *testing.T) {
	t.Parallel()
	errs := func(codes ...int) api.ExecuteErrors {
		var out api.ExecuteErrors
		for _, c := range codes {
			method := "messages.send"
			if c < 0 {
				method, c = "execute", -c
			}
			out = append(out, api.ExecuteError{Method: method, Code: c, Msg: "m"})
		}
		return out
	}
	tests := []struct {
		name  string
		raw   string
		errs  api.ExecuteErrors
		n     int
		codes []int // per call: 0 ok, -1 an error without a code
		raws  []string
	}{
		{"all ok", `[101,102]`, nil, 2, []int{0, 0}, []string{"101", "102"}},
		{"errors in order", `[false,7,false]`, errs(901, 914), 3, []int{901, 0, 914}, []string{"", "7", ""}},
		{"execute's own entry skipped", `[1, false]`, errs(-15, 902, -15), 2, []int{0, 902}, []string{"1", ""}},
		{"no reason given", `[false]`, nil, 1, []int{-1}, []string{""}},
		{"too few values", `[1]`, nil, 2, []int{-1, -1}, []string{"", ""}},
		{"not an array", `{"a":1}`, nil, 1, []int{-1}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitExecute([]byte(tt.raw), tt.errs, tt.n)
			for i, r := range got {
				switch want := tt.codes[i]; {
				case want == 0 && (r.err != nil || string(r.raw) != tt.raws[i]):
					t.Errorf("call %d = %s, %v; want %s", i, r.raw, r.err, tt.raws[i])
				case want > 0 && ErrorCode(r.err) != want:
					t.Errorf("call %d = %v, want code %d", i, r.err, want)
				case want < 0 && (r.err == nil || ErrorCode(r.err) != 0):
					t.Errorf("call %d = %v, want an error without a code", i, r.err)
				}
			}
		})
	}
}

func TestExecuteCode(t *testing.T) {
	t.Parallel()
	calls := []*pendingCall{
		{method: "messages.send", params: api.Params{"peer_id": 5, "message": "Привет, \"<мир>\"\n", "random_id": int32(7)}},
		{method: "messages.edit", params: api.Params{"peer_id": 5, "message_id": 9, "keyboard": `{"inline":true}`, "flag": true}},
	}
	code, err := executeCode(calls)
	want := `return [API.messages.send({"message":"Привет, \"<мир>\"\n","peer_id":5,"random_id":7}),` +
		`API.messages.edit({"flag":"1","keyboard":"{\"inline\":true}","message_id":9,"peer_id":5})];`
	if err != nil || code != want {
		t.Fatalf("code =\n%s\nwant\n%s (%v)", code, want, err)
	}
	for _, bad := range []string{"execute", "messages.send(1);API.x", "users.get })"} {
		if _, err := executeCode([]*pendingCall{{method: bad}}); err == nil {
			t.Errorf("method %q accepted", bad)
		}
	}
}

func TestLocalLimiter(t *testing.T) {
	t.Parallel()
	l := newLocalLimiter(50) // one every 20ms
	ctx := context.Background()
	start := time.Now()
	for range 6 {
		if err := l.Wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 500*time.Millisecond {
		t.Fatalf("6 grants at 50/s took %s, want about 100ms", d)
	}
	_ = l.Pause(ctx, 150*time.Millisecond)
	_ = l.Pause(ctx, time.Millisecond) // does not shorten it
	start = time.Now()
	if err := l.Wait(ctx, 1); err != nil || time.Since(start) < 140*time.Millisecond {
		t.Fatalf("Wait in a pause returned after %s (%v)", time.Since(start), err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_ = l.Pause(ctx, time.Hour)
	if err := l.Wait(cctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an ended ctx = %v", err)
	}
	if err := l.Wait(ctx, 0); err == nil {
		t.Fatal("Wait(0) accepted")
	}
}

func TestDirectCallPausesAndRetries(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	lim := &countingLimiter{}
	b, _ := newBot(t, srv, func(c *Config) { c.Limiter = lim })
	srv.SetName(5, "Анна", "К")
	srv.FailNext("users.get", 6)
	updates := b.translate(context.Background(), toGroupEvents(t, []vktest.Event{srv.MessageEvent(vktest.InMessage{FromID: 5, Text: "x"})}))
	if len(updates) != 1 || updates[0].Profile == nil || updates[0].Profile.FirstName != "Анна" {
		t.Fatalf("updates %+v", updates)
	}
	if lim.pauses.Load() != 1 || lim.waits.Load() != 2 || srv.Calls("users.get") != 2 {
		t.Fatalf("%d pauses, %d waits, %d calls", lim.pauses.Load(), lim.waits.Load(), srv.Calls("users.get"))
	}
}

func TestConfigRateFields(t *testing.T) {
	t.Parallel()
	base := Config{Token: "t", GroupID: 1}
	for _, tt := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.RequestsPerSecond = -1 }, "requests per second -1"},
		{func(c *Config) { c.RequestsPerSecond = 5000 }, "requests per second 5000"},
		{func(c *Config) { c.MaxBatch = 26 }, "max batch 26"},
		{func(c *Config) { c.MaxBatch = -1 }, "max batch -1"},
	} {
		c := base
		tt.mod(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New = %v, want %q", err, tt.want)
		}
	}
	c := base.withDefaults()
	if c.RequestsPerSecond != 20 || c.MaxBatch != 25 {
		t.Fatalf("defaults %d, %d", c.RequestsPerSecond, c.MaxBatch)
	}
}

// FuzzExecuteCode: whatever the text, the generated code is the fixed call
// frame around one JSON object that gives the text back exactly.
func FuzzExecuteCode(f *testing.F) {
	for _, s := range trickyTexts {
		f.Add(s, `{"inline":true}`)
	}
	f.Fuzz(func(t *testing.T, text, kb string) {
		if !utf8.ValidString(text) || !utf8.ValidString(kb) {
			return // VK texts are UTF-8; invalid bytes would be replaced
		}
		code, err := executeCode([]*pendingCall{{method: "messages.send",
			params: api.Params{"peer_id": 5, "message": text, "keyboard": kb, "random_id": int32(9)}}})
		if err != nil {
			t.Fatal(err)
		}
		const head, tail = "return [API.messages.send(", ")];"
		if !strings.HasPrefix(code, head) || !strings.HasSuffix(code, tail) {
			t.Fatalf("code frame broken: %q", code)
		}
		var args struct {
			PeerID   int    `json:"peer_id"`
			Message  string `json:"message"`
			Keyboard string `json:"keyboard"`
			RandomID int32  `json:"random_id"`
		}
		dec := json.NewDecoder(strings.NewReader(strings.TrimSuffix(strings.TrimPrefix(code, head), tail)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&args); err != nil || dec.More() {
			t.Fatalf("arguments are not one JSON object (%v): %q", err, code)
		}
		if args.Message != text || args.Keyboard != kb || args.PeerID != 5 || args.RandomID != 9 {
			t.Fatalf("arguments %+v, want text %q", args, text)
		}
	})
}
