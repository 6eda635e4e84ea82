package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
)

func TestAutoPipeline(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"ConcurrentTurns", testPipeConcurrentTurns},
		{"OneFailureStaysItsOwn", testPipeOneFailure},
		{"NoScriptRetriedPerCommand", testPipeNoScript},
		{"CallerGivesUpWhileQueued", testPipeCallerGivesUp},
		{"CloseDrains", testPipeCloseDrains},
		{"NetworkErrorFailsTheBatch", testPipeNetworkError},
	})
}

// TestAutoPipelineScriptFlush is not parallel: SCRIPT FLUSH empties the
// script cache of the whole server, and the tests that count a turn's
// commands (TestSaveAtLeave, TestGatePreloads, ...) would count the
// reloads it causes. A sequential test ends before the parallel ones of
// the package start.
func TestAutoPipelineScriptFlush(t *testing.T) {
	runSuite(t, backends, []suiteCase{{"ScriptFlush", testPipeScriptFlush}})
}

// pipeCounter counts what a client sends: single commands, pipelines of
// more than one command and the largest pipeline, and commands by name.
type pipeCounter struct {
	singles, pipelines, largest atomic.Int64
	mu                          sync.Mutex
	names                       map[string]int
}

func (c *pipeCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *pipeCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.singles.Add(1)
		c.count(cmd)
		return next(ctx, cmd)
	}
}

func (c *pipeCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if n := int64(len(cmds)); n > 1 && storeCommands(cmds) {
			c.pipelines.Add(1)
			for old := c.largest.Load(); n > old && !c.largest.CompareAndSwap(old, n); old = c.largest.Load() {
			}
		}
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

// storeCommands reports whether cmds are the Store's (not, say, the
// HELLO and CLIENT SETINFO a new connection sends as a pipeline).
func storeCommands(cmds []goredis.Cmder) bool {
	for _, cmd := range cmds {
		switch cmd.Name() {
		case "evalsha", "eval", "hmget":
		default:
			return false
		}
	}
	return true
}

func (c *pipeCounter) count(cmd goredis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = map[string]int{}
	}
	c.names[cmd.Name()]++
	// A script run on one of testPipeNoScript's keys (":k<n>") is also
	// counted as "<name>@k", apart from the store's own scripts (the
	// liveness heartbeat's can run any time).
	if args := cmd.Args(); len(args) > 3 && (cmd.Name() == "eval" || cmd.Name() == "evalsha") {
		if key, ok := args[3].(string); ok && scriptTestKey.MatchString(key) {
			c.names[cmd.Name()+"@k"]++
		}
	}
}

var scriptTestKey = regexp.MustCompile(`:k[0-9]+$`)

// sent returns how many commands named name were sent.
func (c *pipeCounter) sent(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[name]
}

// gateHook holds the first command (or pipeline) the client sends until
// open: with one flusher, everything submitted meanwhile waits in the queue
// and goes out as one batch.
type gateHook struct {
	once, opened sync.Once
	entered      chan struct{}
	release      chan struct{}
}

// open lets the held command go; it is safe to call more than once.
func (g *gateHook) open() { g.opened.Do(func() { close(g.release) }) }

func newGate() *gateHook {
	return &gateHook{entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateHook) hold() {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
}

func (g *gateHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *gateHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		g.hold()
		return next(ctx, cmd)
	}
}

func (g *gateHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		g.hold()
		return next(ctx, cmds)
	}
}

// slowHook delays every round trip, so commands pile up behind it as they
// would behind a busy network.
type slowHook time.Duration

func (h slowHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h slowHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		time.Sleep(time.Duration(h))
		return next(ctx, cmd)
	}
}

func (h slowHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		time.Sleep(time.Duration(h))
		return next(ctx, cmds)
	}
}

// pipedStore is a Store with cfg on its own client to addr (c's server
// unless addr is set) carrying hooks; its keys are cleaned up through c and
// it is closed when the test ends.
func pipedStore(t *testing.T, c goredis.UniversalClient, addr string, cfg Config, hooks ...goredis.Hook) *Store {
	t.Helper()
	var own goredis.UniversalClient
	if addr == "" {
		own = ownClient(t, c, -1, 500*time.Millisecond)
	} else {
		skipOnCluster(t, c)
		o := c.(*goredis.Client).Options()
		own = goredis.NewClient(&goredis.Options{Addr: addr, DB: o.DB, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
		t.Cleanup(func() { _ = own.Close() })
	}
	for _, h := range hooks {
		own.AddHook(h)
	}
	cfg.Prefix = newTestStore(t, c, Config{}).Config().Prefix // cleans the prefix up afterwards
	s, err := New(own, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // before the client closes
	return s
}

// waitQueued waits until n commands wait in s's auto-pipeline queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.pipe.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d commands queued after 5s, want %d", len(s.pipe.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// plug sends one command that the gate holds, so that the single flusher
// is busy, and returns when the gate holds it; the returned channel gets
// the plug's error.
func plug(t *testing.T, s *Store, g *gateHook) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := s.LoadState(context.Background(), messenger.ChatKey{Platform: messenger.Telegram, ID: "plug"})
		errc <- err
	}()
	select {
	case <-g.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the plug command never reached the client")
	}
	return errc
}

// within fails t unless wg is done within d.
func within(t *testing.T, wg *sync.WaitGroup, d time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %s", what, d)
	}
}

// testPipeConcurrentTurns: 200 chats at once each take a turn, save, leave,
// get a duplicate recognised and take a second turn; every result is right
// both ways, and only auto-pipelining sends pipelines.
func testPipeConcurrentTurns(t *testing.T, c goredis.UniversalClient) {
	for _, tc := range []struct {
		name      string
		cfg       Config
		pipelined bool
	}{
		{"auto", Config{}, true},
		{"direct", Config{NoAutoPipeline: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counter := &pipeCounter{}
			s := pipedStore(t, c, "", tc.cfg, counter, slowHook(300*time.Microsecond))
			const chats = 200
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range chats {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := twoTurns(t.Context(), s, messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("c", i)}); err != nil {
						t.Error(err)
					}
				}()
			}
			close(start)
			within(t, &wg, 30*time.Second, "200 chats")
			for _, id := range []string{"c0", "c99", "c199"} {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: id}
				if n := c.Exists(context.Background(), s.keys.lock(key), s.keys.state(key)).Val(); n != 0 {
					t.Errorf("chat %s: %d of its lock and state keys left, want none", id, n)
				}
			}
			got := counter.pipelines.Load()
			switch {
			case tc.pipelined && got == 0:
				t.Fatalf("no pipeline of several commands in %d commands from %d chats at once; want batches", counter.singles.Load(), chats)
			case !tc.pipelined && got != 0:
				t.Fatalf("%d pipelines with auto-pipelining off", got)
			}
			t.Logf("%d single commands, %d pipelines, largest %d", counter.singles.Load(), got, counter.largest.Load())
		})
	}
}

// twoTurns walks one chat through two updates, checking every answer.
func twoTurns(ctx context.Context, s *Store, key messenger.ChatKey) error {
	leave, dup, err := s.Enter(ctx, key, "u1", time.Minute)
	if err != nil || dup {
		return fmt.Errorf("%s: first Enter = dup %v, %v", key, dup, err)
	}
	if st, err := s.LoadState(ctx, key); err != nil || st.Rev != 0 {
		return fmt.Errorf("%s: first load = %+v, %v; want nothing stored", key, st, err)
	}
	data := []byte(`{"step":"` + key.ID + `"}`)
	if rev, err := s.SaveState(ctx, key, dialog.StoredState{Data: data, Update: "u1", Outbox: []byte(`[1]`)}); err != nil || rev != 1 {
		return fmt.Errorf("%s: save = %d, %v; want rev 1", key, rev, err)
	}
	if err := leave(ctx, true); err != nil {
		return fmt.Errorf("%s: leave: %w", key, err)
	}
	if _, dup, err := s.Enter(ctx, key, "u1", time.Minute); err != nil || !dup {
		return fmt.Errorf("%s: redelivered u1 = dup %v, %v; want a duplicate", key, dup, err)
	}
	leave, dup, err = s.Enter(ctx, key, "u2", time.Minute)
	if err != nil || dup {
		return fmt.Errorf("%s: second Enter = dup %v, %v", key, dup, err)
	}
	st, err := s.LoadState(ctx, key)
	if err != nil || st.Rev != 1 || string(st.Data) != string(data) || st.Update != "u1" || st.Outbox != nil {
		return fmt.Errorf("%s: second load = %+v, %v; want rev 1 with its data and the outbox confirmed", key, st, err)
	}
	if rev, err := s.SaveState(ctx, key, dialog.StoredState{Rev: 1}); err != nil || rev != 0 {
		return fmt.Errorf("%s: delete = %d, %v", key, rev, err)
	}
	if err := leave(ctx, false); err != nil {
		return fmt.Errorf("%s: second leave: %w", key, err)
	}
	return nil
}

// gatedStore is a store with one flusher behind a gate, and its counter.
func gatedStore(t *testing.T, c goredis.UniversalClient, addr string) (*Store, *gateHook, *pipeCounter) {
	t.Helper()
	g, counter := newGate(), &pipeCounter{}
	// The counter is added first, so it is outside the gate and counts a
	// held command before the gate releases it.
	s := pipedStore(t, c, addr, Config{PipelineFlushers: 1}, counter, g)
	t.Cleanup(g.open) // before the store's Close, which would wait for the held command
	return s, g, counter
}

// saveAll saves n chats' first states at once; errs[i] is chat i's error.
func saveAll(s *Store, keys []messenger.ChatKey) (*sync.WaitGroup, []error) {
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.SaveState(context.Background(), k, dialog.StoredState{Data: []byte(k.ID)})
		}()
	}
	return &wg, errs
}

// chatKeys returns n Telegram chats named prefix0…
func chatKeys(prefix string, n int) []messenger.ChatKey {
	out := make([]messenger.ChatKey, n)
	for i := range out {
		out[i] = messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(prefix, i)}
	}
	return out
}

// testPipeOneFailure: a script error of one command (its state key holds a
// string) is that command's alone; the rest of its pipeline succeeds.
func testPipeOneFailure(t *testing.T, c goredis.UniversalClient) {
	s, g, counter := gatedStore(t, c, "")
	keys := chatKeys("ok", 10)
	bad := messenger.ChatKey{Platform: messenger.Telegram, ID: "bad"}
	if err := c.Set(t.Context(), s.keys.state(bad), "not a hash", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	plugged := plug(t, s, g)
	wg, errs := saveAll(s, append(keys, bad))
	waitQueued(t, s, len(keys)+1)
	g.open()
	within(t, wg, 10*time.Second, "the batch")
	if err := <-plugged; err != nil {
		t.Fatalf("plug: %v", err)
	}
	if got := counter.largest.Load(); got != int64(len(keys)+1) {
		t.Fatalf("largest pipeline %d, want the %d queued saves in one", got, len(keys)+1)
	}
	for i, k := range keys {
		if errs[i] != nil {
			t.Errorf("save of %s in the failing command's batch: %v", k, errs[i])
		} else if got := c.HGet(t.Context(), s.keys.state(k), fieldData).Val(); got != k.ID {
			t.Errorf("%s stored %q, want %q", k, got, k.ID)
		}
	}
	if err := errs[len(keys)]; err == nil || errors.Is(err, dialog.ErrConflict) || !strings.Contains(err.Error(), "save state of telegram:bad") {
		t.Fatalf("save of the wrong-type key = %v; want its script error, naming the chat", err)
	}
}

// testPipeNoScript: scripts Redis does not know (a script no one ran
// before) fail with NOSCRIPT as EVALSHA and are retried with EVAL, each
// command for itself, in one more round trip; the next time EVALSHA works.
func testPipeNoScript(t *testing.T, c goredis.UniversalClient) {
	s, g, counter := gatedStore(t, c, "")
	fresh := goredis.NewScript("return {KEYS[1], ARGV[1], '" + s.cfg.Prefix + "'}") // unique: never cached
	const n = 5
	run := func() (*sync.WaitGroup, []*goredis.Cmd) {
		var wg sync.WaitGroup
		cmds := make([]*goredis.Cmd, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmds[i] = s.pipe.script(context.Background(), fresh, []string{s.cfg.Prefix + ":k" + fmt.Sprint(i)}, i)
			}()
		}
		return &wg, cmds
	}
	plugged := plug(t, s, g)
	wg, cmds := run()
	waitQueued(t, s, n)
	g.open()
	within(t, wg, 10*time.Second, "the scripts")
	<-plugged
	check := func(round string) {
		for i, cmd := range cmds {
			v, err := cmd.StringSlice()
			want := []string{s.cfg.Prefix + ":k" + fmt.Sprint(i), fmt.Sprint(i), s.cfg.Prefix}
			if err != nil || strings.Join(v, " ") != strings.Join(want, " ") {
				t.Errorf("%s: script %d = %q, %v; want %q", round, i, v, err, want)
			}
		}
	}
	check("first run")
	if ev, sha := counter.sent("eval@k"), counter.sent("evalsha@k"); ev != n || sha != n {
		t.Fatalf("first run sent %d EVAL and %d EVALSHA; want %d of each (every EVALSHA retried once)", ev, sha, n)
	}
	wg, cmds = run()
	within(t, wg, 10*time.Second, "the scripts again")
	check("second run")
	if ev := counter.sent("eval@k"); ev != n {
		t.Fatalf("%d EVAL after the second run; want none more once the script is cached", ev)
	}
}

// testPipeScriptFlush: after SCRIPT FLUSH (as after a Redis restart) the
// store's turns and saves still work.
func testPipeScriptFlush(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := pipedStore(t, c, "", Config{})
	if err := twoTurns(ctx, s, messenger.ChatKey{Platform: messenger.Telegram, ID: "before"}); err != nil {
		t.Fatal(err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, k := range chatKeys("after", 20) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := twoTurns(ctx, s, k); err != nil {
				t.Errorf("after SCRIPT FLUSH: %v", err)
			}
		}()
	}
	within(t, &wg, 10*time.Second, "turns after SCRIPT FLUSH")
}

// testPipeCallerGivesUp: a caller whose context ends while its command is
// queued gets the context's error at once, and the command is never sent.
func testPipeCallerGivesUp(t *testing.T, c goredis.UniversalClient) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, func()) // the context and how it ends
		want error
	}{
		{"canceled", func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, func()) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			return ctx, func() { <-ctx.Done(); cancel() }
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, g, counter := gatedStore(t, c, "")
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: "gives-up"}
			plugged := plug(t, s, g)
			ctx, end := tc.ctx()
			errc := make(chan error, 1)
			go func() {
				_, _, err := s.Enter(ctx, key, "u1", time.Minute)
				errc <- err
			}()
			waitQueued(t, s, 1)
			end()
			select {
			case err := <-errc:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "enter chat telegram:gives-up") {
					t.Fatalf("Enter whose context ended in the queue = %v; want %v, wrapped", err, tc.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Enter did not return when its context ended in the queue")
			}
			g.open()
			<-plugged
			// The single flusher takes the queue in order: once a later
			// command is answered, the skipped one is behind it.
			if _, err := s.LoadState(context.Background(), key); err != nil {
				t.Fatal(err)
			}
			if n := c.Exists(context.Background(), s.keys.lock(key)).Val(); n != 0 {
				t.Fatal("the abandoned Enter was sent: the chat is locked")
			}
			if got := counter.sent("evalsha"); got != 0 {
				t.Fatalf("%d EVALSHA sent; want the abandoned Enter skipped", got)
			}
		})
	}
}

// testPipeCloseDrains: Close waits for the commands already queued, which
// all succeed; afterwards every command fails with ErrClosed, in both modes.
func testPipeCloseDrains(t *testing.T, c goredis.UniversalClient) {
	s, g, _ := gatedStore(t, c, "")
	plugged := plug(t, s, g)
	keys := chatKeys("drain", 20)
	wg, errs := saveAll(s, keys)
	waitQueued(t, s, len(keys))
	closed := make(chan struct{})
	go func() { _ = s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while commands were queued")
	case <-time.After(50 * time.Millisecond):
	}
	g.open()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the queue drained")
	}
	within(t, wg, time.Second, "the queued saves") // done before Close returned
	if err := <-plugged; err != nil {
		t.Fatalf("plug: %v", err)
	}
	for i, k := range keys {
		if errs[i] != nil {
			t.Errorf("queued save of %s at Close: %v", k, errs[i])
		}
	}
	direct := pipedStore(t, c, "", Config{NoAutoPipeline: true})
	if err := direct.Close(); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, direct} {
		ctx := t.Context()
		key := messenger.ChatKey{Platform: messenger.Telegram, ID: "late"}
		_, saveErr := st.SaveState(ctx, key, dialog.StoredState{Data: []byte("x")})
		_, loadErr := st.LoadState(ctx, key)
		_, _, enterErr := st.Enter(ctx, key, "u1", time.Minute)
		for what, err := range map[string]error{"save": saveErr, "load": loadErr, "enter": enterErr} {
			if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "telegram:late") {
				t.Errorf("no-pipeline=%v: %s after Close = %v; want ErrClosed naming the chat", st.cfg.NoAutoPipeline, what, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	}
}

// testPipeNetworkError: when the connection fails under a pipeline, every
// command of the batch gets the error, wrapped by its call; then, with the
// network back, the store works again.
func testPipeNetworkError(t *testing.T, c goredis.UniversalClient) {
	skipOnCluster(t, c)
	proxy := faultproxy.Start(t, c.(*goredis.Client).Options().Addr)
	s, g, counter := gatedStore(t, c, proxy.Addr())
	plugged := plug(t, s, g)
	keys := chatKeys("net", 10)
	wg, errs := saveAll(s, keys)
	waitQueued(t, s, len(keys))
	proxy.Cut()
	g.open()
	within(t, wg, 10*time.Second, "the batch with the network cut")
	<-plugged
	if got := counter.largest.Load(); got != int64(len(keys)) {
		t.Fatalf("largest pipeline %d, want the %d queued saves in one", got, len(keys))
	}
	for i, k := range keys {
		if errs[i] == nil || !strings.Contains(errs[i].Error(), "redis store: save state of "+k.String()) {
			t.Errorf("save of %s with the network cut = %v; want a wrapped network error", k, errs[i])
		}
	}
	proxy.Restore()
	if err := twoTurns(t.Context(), s, messenger.ChatKey{Platform: messenger.Telegram, ID: "net-back"}); err != nil {
		t.Fatalf("after the network is back: %v", err)
	}
}

// TestAutoPipelineRedisUnreachable: with nothing listening, every one of
// many concurrent callers gets an error soon, in both modes; none hangs.
func TestAutoPipelineRedisUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"auto", Config{}},
		{"direct", Config{NoAutoPipeline: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })
			tc.cfg.Prefix = randomPrefix(t)
			s, err := New(c, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // far beyond the test's bound
			defer cancel()
			var wg sync.WaitGroup
			var failed atomic.Int64
			for _, k := range chatKeys("down", 100) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, enterErr := s.Enter(ctx, k, "u1", time.Minute)
					_, saveErr := s.SaveState(ctx, k, dialog.StoredState{Data: []byte("x")})
					_, loadErr := s.LoadState(ctx, k)
					for _, err := range []error{enterErr, saveErr, loadErr} {
						if err != nil && !errors.Is(err, context.DeadlineExceeded) {
							failed.Add(1)
						}
					}
				}()
			}
			within(t, &wg, 20*time.Second, "callers with Redis unreachable")
			if got := failed.Load(); got != 300 {
				t.Fatalf("%d of 300 calls failed with a Redis error; want all", got)
			}
		})
	}
}

// TestBatchContext: a lone command runs under its caller's context; a
// batch under one no caller can cancel, with the latest deadline when
// every command has one.
func TestBatchContext(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(time.Hour)
	at := func(d time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), base.Add(d))
		t.Cleanup(cancel)
		return ctx
	}
	canceled, cancel := context.WithCancel(at(0))
	cancel()
	for _, tc := range []struct {
		name     string
		ctxs     []context.Context
		deadline time.Time // zero: none
	}{
		{"one", []context.Context{at(time.Second)}, base.Add(time.Second)},
		{"latest", []context.Context{at(time.Second), at(3 * time.Second), canceled}, base.Add(3 * time.Second)},
		{"one without", []context.Context{at(time.Second), context.Background()}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			batch := make([]*queuedCmd, len(tc.ctxs))
			for i, ctx := range tc.ctxs {
				batch[i] = &queuedCmd{ctx: ctx}
			}
			ctx, cancel := batchContext(batch)
			defer cancel()
			d, ok := ctx.Deadline()
			if ok != !tc.deadline.IsZero() || !d.Equal(tc.deadline) {
				t.Fatalf("deadline %v (%v), want %v", d, ok, tc.deadline)
			}
			if len(tc.ctxs) > 1 && ctx.Err() != nil {
				t.Fatalf("a batch's context is done (%v) because one caller's is", ctx.Err())
			}
		})
	}
}

// BenchmarkTurn: goroutines, each on its own chat, handle updates as the
// inbound pipeline does: Enter (the turn with the state read), SaveState,
// leave; one op is one update, three Redis calls, on real Redis, with and
// without auto-pipelining. 64chats runs 64 goroutines (32 × GOMAXPROCS on
// 2 CPUs), 1chat one goroutine (the light load, where batching cannot help
// and must not cost). It reports the Store's commands per round trip and
// the CPU time per update of redis-server (INFO cpu: the whole server, so
// anything else using it counts too) and of this process.
func BenchmarkTurn(b *testing.B) {
	shared := realRedis(b)
	for _, load := range []string{"64chats", "1chat"} {
		for _, tc := range []struct {
			name    string
			cfg     Config
			atLeave bool
		}{
			{"autopipeline", Config{}, false},
			{"autopipeline-save-at-leave", Config{}, true},
			{"direct", Config{NoAutoPipeline: true}, false},
			{"direct-save-at-leave", Config{NoAutoPipeline: true}, true},
		} {
			b.Run(load+"/"+tc.name, func(b *testing.B) {
				o := shared.(*goredis.Client).Options()
				c := goredis.NewClient(&goredis.Options{Addr: o.Addr, DB: o.DB}) // default pool, as Open's
				b.Cleanup(func() { _ = c.Close() })
				counter := &pipeCounter{}
				c.AddHook(counter)
				cfg := tc.cfg
				cfg.DedupeTTL = 10 * time.Second // the handled marks expire on their own
				s := newTestStore(b, c, cfg)
				b.Cleanup(func() { _ = s.Close() })
				b.ReportAllocs()
				redisCPU, procCPU := redisCPUTime(b, c), processCPUTime(b)
				b.ResetTimer()
				if load == "1chat" {
					n := 0
					turnLoop(b, s, "bench0", tc.atLeave, func() bool { n++; return n <= b.N })
				} else {
					var n atomic.Int64
					b.SetParallelism(32)
					b.RunParallel(func(pb *testing.PB) { turnLoop(b, s, fmt.Sprint("bench", n.Add(1)), tc.atLeave, pb.Next) })
				}
				b.StopTimer()
				b.ReportMetric(float64((redisCPUTime(b, c)-redisCPU).Microseconds())/float64(b.N), "redis-µs/op")
				b.ReportMetric(float64((processCPUTime(b)-procCPU).Microseconds())/float64(b.N), "proc-µs/op")
				cmds := counter.sent("evalsha") + counter.sent("eval") + counter.sent("hmget")
				if trips := counter.singles.Load() + counter.pipelines.Load(); trips > 0 {
					b.ReportMetric(float64(cmds)/float64(trips), "cmds/roundtrip")
				}
			})
		}
	}
}

// turnLoop handles updates of one chat while next says so: Enter (with the
// state read), the state written with SaveState before the leave or, with
// atLeave, handed to the turn (SaveAtLeave) and written by the leave.
func turnLoop(b *testing.B, s *Store, chatID string, atLeave bool, next func() bool) {
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: chatID}
	data := []byte(`{"scenario":"portrait","version":"3f2a","step":"age","vars":{"name":"Анна"},"answers":3}`)
	outbox := []byte(`[{"text":"Анна, сколько вам лет?","keyboard":null}]`)
	ctx := context.Background()
	var rev int64
	for i := 0; next(); i++ {
		id := strconv.Itoa(i)
		leave, dup, err := s.Enter(ctx, key, id, time.Minute)
		if err != nil || dup {
			b.Fatalf("Enter = dup %v, %v", dup, err)
		}
		st, err := s.LoadState(ctx, key)
		if err != nil || st.Rev != rev {
			b.Fatalf("LoadState = rev %d, %v; want %d", st.Rev, err, rev)
		}
		if atLeave {
			s.SaveAtLeave(key, dialog.StoredState{Rev: rev, Data: data, Update: id})
			rev++
		} else if rev, err = s.SaveState(ctx, key, dialog.StoredState{Rev: rev, Data: data, Update: id, Outbox: outbox}); err != nil {
			b.Fatal(err)
		}
		if err := leave(ctx, true); err != nil {
			b.Fatal(err)
		}
	}
}

// redisCPUTime is the CPU time redis-server has used (user + system).
func redisCPUTime(b *testing.B, c goredis.UniversalClient) time.Duration {
	b.Helper()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", line, err)
			}
			total += v
		}
	}
	return time.Duration(total * float64(time.Second))
}

// processCPUTime is the CPU time this process has used (user + system).
func processCPUTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
