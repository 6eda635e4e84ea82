package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/storetest"
)

// defaultTestRedisURL is used when TEST_REDIS_URL is unset.
const defaultTestRedisURL = "redis://127.0.0.1:6379/0"

// backend is one Redis the shared suite runs against.
type backend struct {
	name string
	// client returns a connected client shared by the backend's tests, or
	// skips / fails t when the backend is unavailable.
	client func(t testing.TB) goredis.UniversalClient
}

var (
	realOnce   sync.Once
	realClient goredis.UniversalClient
	realErr    error

	miniOnce   sync.Once
	miniClient goredis.UniversalClient
	miniErr    error
)

// realRedis connects once to TEST_REDIS_URL. A connection failure fails the
// test unless CHATHUB_SKIP_REDIS=1.
func realRedis(t testing.TB) goredis.UniversalClient {
	t.Helper()
	realOnce.Do(func() {
		u := os.Getenv("TEST_REDIS_URL")
		if u == "" {
			u = defaultTestRedisURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		realClient, _, realErr = Open(ctx, u, quietLogger)
	})
	if realErr != nil {
		if os.Getenv("CHATHUB_SKIP_REDIS") == "1" {
			t.Skipf("real Redis unavailable (CHATHUB_SKIP_REDIS=1): %v", realErr)
		}
		t.Fatalf("real Redis unavailable (set TEST_REDIS_URL, or CHATHUB_SKIP_REDIS=1 to skip): %v", realErr)
	}
	return realClient
}

// miniRedis starts one in-process miniredis shared by the package's tests.
func miniRedis(t testing.TB) goredis.UniversalClient {
	t.Helper()
	miniOnce.Do(func() {
		var srv *miniredis.Miniredis
		srv, miniErr = miniredis.Run()
		if miniErr == nil {
			runClock(srv, 10*time.Millisecond) // TTLs expire with wall time, as in the embedded default
			miniClient = goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			miniClient.AddHook(crossSlotHook{}) // refuses cross-slot commands as a cluster would (slots_test.go)
		}
	})
	if miniErr != nil {
		t.Fatalf("start miniredis: %v", miniErr)
	}
	return miniClient
}

var backends = []backend{
	{name: "redis", client: realRedis},
	{name: "miniredis", client: miniRedis},
	{name: "cluster", client: clusterRedis},
}

var (
	clusterOnce   sync.Once
	clusterClient goredis.UniversalClient
	clusterErr    error
)

// clusterRedis connects once, through Open, to the three-master test
// cluster (storetest.RedisClusterURL: a local one started for this test
// binary, or TEST_REDIS_CLUSTER_URL); skips or fails t as that does.
func clusterRedis(t testing.TB) goredis.UniversalClient {
	t.Helper()
	u := storetest.RedisClusterURL(t)
	clusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		clusterClient, _, clusterErr = Open(ctx, u, quietLogger)
	})
	if clusterErr != nil {
		t.Fatalf("open the test cluster: %v", clusterErr)
	}
	return clusterClient
}

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.StopRedisCluster()
	os.Exit(code)
}

// randomPrefix returns a fresh "t_<hex>" key prefix.
func randomPrefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t_" + hex.EncodeToString(b)
}

// newTestStore returns a Store with its own random prefix on c and deletes
// every key under that prefix when the test ends.
func newTestStore(t testing.TB, c goredis.UniversalClient, cfg Config) *Store {
	t.Helper()
	cfg.Prefix = randomPrefix(t)
	s, err := New(c, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { cleanupPrefix(t, c, cfg.Prefix) })
	return s
}

// cleanupPrefix deletes all keys starting with prefix + ":".
func cleanupPrefix(t testing.TB, c goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	var ks []string
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			ks = append(ks, iter.Val())
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*goredis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			mu.Lock() // one master at a time appends to ks
			defer mu.Unlock()
			return scan(ctx, m)
		})
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		t.Errorf("cleanup scan %s: %v", prefix, err)
		return
	}
	for _, k := range ks { // one key per DEL: keys may live in different cluster slots
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Errorf("cleanup del: %v", err)
		}
	}
}

var chat = messenger.ChatKey{Platform: messenger.Telegram, ID: "123"}

// suiteCase is one behaviour run against a backend's client.
type suiteCase struct {
	name string
	run  func(t *testing.T, c goredis.UniversalClient)
}

// runSuite runs every case against every backend, all in parallel.
func runSuite(t *testing.T, backends []backend, cases []suiteCase) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := b.client(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, c)
				})
			}
		})
	}
}

// suite is the behaviour every backend must show.
var suite = []suiteCase{
	{"LoadAbsent", testLoadAbsent},
	{"SaveCreate", testSaveCreate},
	{"StaleRevisionConflicts", testStaleRevision},
	{"Delete", testDelete},
	{"TTLSetAndRefreshed", testTTL},
	{"ConcurrentCAS", testConcurrentCAS},
	{"GateDedupes", testGateDedupes},
	{"GateExcludes", testGateExcludes},
	{"GateWaitRespectsContext", testGateWaitRespectsContext},
	{"GateConfirmsOutbox", testGateConfirmsOutbox},
	{"GateTurnExpires", testGateTurnExpires},
	{"UpdateRecord", testUpdateRecord},
	{"InvalidInput", testInvalidInput},
	{"Ping", testPing},
	{"BotsIsolated", testBotsIsolated},
}

func TestStore(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, suite)
}

func testLoadAbsent(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	data, rev, err := loadData(s, t.Context(), chat)
	if err != nil || data != nil || rev != 0 {
		t.Fatalf("LoadState(absent) = %q, %d, %v; want nil, 0, nil", data, rev, err)
	}
}

func testSaveCreate(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	rev, err := saveData(s, ctx, chat, []byte(`{"step":"name"}`), 0)
	if err != nil || rev != 1 {
		t.Fatalf("SaveState(create) = %d, %v; want 1, nil", rev, err)
	}
	data, got, err := loadData(s, ctx, chat)
	if err != nil || string(data) != `{"step":"name"}` || got != 1 {
		t.Fatalf("LoadState = %q, %d, %v; want the saved data at rev 1", data, got, err)
	}
	rev, err = saveData(s, ctx, chat, []byte("second"), 1)
	if err != nil || rev != 2 {
		t.Fatalf("SaveState(update) = %d, %v; want 2, nil", rev, err)
	}
	// Empty but non-nil data is stored, not deleted.
	rev, err = saveData(s, ctx, chat, []byte{}, 2)
	if err != nil || rev != 3 {
		t.Fatalf("SaveState(empty) = %d, %v; want 3, nil", rev, err)
	}
	data, got, err = loadData(s, ctx, chat)
	if err != nil || data == nil || len(data) != 0 || got != 3 {
		t.Fatalf("LoadState(empty) = %q (nil=%v), %d, %v; want empty non-nil at rev 3", data, data == nil, got, err)
	}
	// Other chats are untouched.
	other := messenger.ChatKey{Platform: messenger.VK, ID: "123"}
	if data, rev, err := loadData(s, ctx, other); err != nil || data != nil || rev != 0 {
		t.Fatalf("LoadState(other chat) = %q, %d, %v; want nothing", data, rev, err)
	}
}

func testStaleRevision(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	if _, err := saveData(s, ctx, chat, []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := saveData(s, ctx, chat, []byte("v2"), 1); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []int64{0, 1, 3, 100} {
		rev, err := saveData(s, ctx, chat, []byte("stale"), stale)
		if !errors.Is(err, dialog.ErrConflict) {
			t.Fatalf("SaveState(rev %d) err = %v; want ErrConflict", stale, err)
		}
		if rev != 0 {
			t.Errorf("SaveState(rev %d) returned rev %d on conflict; want 0", stale, rev)
		}
	}
	// A stale delete conflicts too.
	if _, err := saveData(s, ctx, chat, nil, 1); !errors.Is(err, dialog.ErrConflict) {
		t.Fatalf("stale delete err = %v; want ErrConflict", err)
	}
	data, rev, err := loadData(s, ctx, chat)
	if err != nil || string(data) != "v2" || rev != 2 {
		t.Fatalf("after conflicts LoadState = %q, %d, %v; want v2 at rev 2", data, rev, err)
	}
}

func testDelete(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	if _, err := saveData(s, ctx, chat, []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	rev, err := saveData(s, ctx, chat, nil, 1)
	if err != nil || rev != 0 {
		t.Fatalf("delete = %d, %v; want 0, nil", rev, err)
	}
	if data, rev, err := loadData(s, ctx, chat); err != nil || data != nil || rev != 0 {
		t.Fatalf("after delete LoadState = %q, %d, %v; want nil, 0, nil", data, rev, err)
	}
	if n := c.Exists(ctx, s.keys.state(chat)).Val(); n != 0 {
		t.Fatalf("state key still exists after delete")
	}
	// Deleting nothing at rev 0 is fine; a fresh conversation starts at rev 1 again.
	if rev, err := saveData(s, ctx, chat, nil, 0); err != nil || rev != 0 {
		t.Fatalf("delete absent = %d, %v; want 0, nil", rev, err)
	}
	if rev, err := saveData(s, ctx, chat, []byte("again"), 0); err != nil || rev != 1 {
		t.Fatalf("recreate = %d, %v; want 1, nil", rev, err)
	}
}

func testTTL(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	const ttl = time.Hour
	s := newTestStore(t, c, Config{StateTTL: ttl})
	key := s.keys.state(chat)
	if _, err := saveData(s, ctx, chat, []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	pttl := c.PTTL(ctx, key).Val()
	if pttl <= ttl-time.Minute || pttl > ttl {
		t.Fatalf("PTTL after create = %s; want about %s", pttl, ttl)
	}
	// Shorten it by hand, then a save must refresh it to the full TTL.
	if err := c.PExpire(ctx, key, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := saveData(s, ctx, chat, []byte("v2"), 1); err != nil {
		t.Fatal(err)
	}
	pttl = c.PTTL(ctx, key).Val()
	if pttl <= ttl-time.Minute || pttl > ttl {
		t.Fatalf("PTTL after update = %s; want refreshed to about %s", pttl, ttl)
	}
	// A conflicting save leaves the TTL alone.
	if err := c.PExpire(ctx, key, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := saveData(s, ctx, chat, []byte("x"), 1); !errors.Is(err, dialog.ErrConflict) {
		t.Fatalf("stale save err = %v; want ErrConflict", err)
	}
	if pttl = c.PTTL(ctx, key).Val(); pttl > 5*time.Second {
		t.Fatalf("PTTL after conflict = %s; want unchanged (≤5s)", pttl)
	}
	// Handled-update markers expire after DedupeTTL.
	s2 := newTestStore(t, c, Config{DedupeTTL: 90 * time.Minute})
	leave, _, err := s2.Enter(ctx, chat, "7", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if pttl = c.PTTL(ctx, s2.keys.lock(chat)).Val(); pttl > time.Minute || pttl < 59*time.Second {
		t.Fatalf("turn PTTL = %s; want about the 1m asked for", pttl)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	pttl = c.PTTL(ctx, s2.keys.update(chat, "7")).Val()
	if pttl <= 89*time.Minute || pttl > 90*time.Minute {
		t.Fatalf("handled marker PTTL = %s; want about 90m", pttl)
	}
}

func testConcurrentCAS(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	const (
		workers = 32
		each    = 5 // successful increments per worker
	)
	var successes, conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				data, rev, err := loadData(s, ctx, chat)
				if err != nil {
					errs <- err
					return
				}
				n := 0
				if data != nil {
					if n, err = strconv.Atoi(string(data)); err != nil {
						errs <- err
						return
					}
				}
				_, err = saveData(s, ctx, chat, []byte(strconv.Itoa(n+1)), rev)
				switch {
				case err == nil:
					successes.Add(1)
					done++
				case errors.Is(err, dialog.ErrConflict):
					conflicts.Add(1)
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, rev, err := loadData(s, ctx, chat)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := strconv.Atoi(string(data))
	if n := successes.Load(); n != workers*each || int64(got) != n || rev != n {
		t.Fatalf("successes = %d, counter = %d, rev = %d; want all %d", n, got, rev, workers*each)
	}
	t.Logf("%d increments, %d conflicts", successes.Load(), conflicts.Load())
}

func testInvalidInput(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	bad := []messenger.ChatKey{{}, {Platform: messenger.Telegram}, {ID: "1"}, {Platform: "a{b", ID: "1"}}
	for _, k := range bad {
		if _, _, err := loadData(s, ctx, k); err == nil {
			t.Errorf("LoadState(%+v) succeeded; want error", k)
		}
		if _, err := saveData(s, ctx, k, []byte("x"), 0); err == nil {
			t.Errorf("SaveState(%+v) succeeded; want error", k)
		}
	}
	if _, err := saveData(s, ctx, chat, []byte("x"), -1); err == nil || errors.Is(err, dialog.ErrConflict) {
		t.Errorf("SaveState(rev -1) err = %v; want a non-conflict error", err)
	}
	for _, k := range bad {
		if _, _, err := s.Enter(ctx, k, "1", time.Second); err == nil {
			t.Errorf("Enter(%+v) succeeded; want error", k)
		}
	}
}

func testPing(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	s, err := New(c, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Prefix: "chathub", StateTTL: 30 * 24 * time.Hour, DedupeTTL: 48 * time.Hour, PipelineFlushers: 4, PipelineMaxBatch: 64, LivenessTTL: 10 * time.Second}
	if got := s.Config(); got != want {
		t.Fatalf("defaults = %+v; want %+v", got, want)
	}
	for _, cfg := range []Config{
		{Prefix: "a{b"}, {Prefix: "a}b"}, {Prefix: "has space"}, {Prefix: "имя"},
		{StateTTL: -time.Second}, {StateTTL: time.Microsecond}, {DedupeTTL: -1},
		{PipelineFlushers: -1}, {PipelineMaxBatch: -1},
	} {
		if _, err := New(c, cfg); err == nil {
			t.Errorf("New(%+v) succeeded; want error", cfg)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New(nil client) succeeded; want error")
	}
}

func TestConflictErrorNamesKey(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, miniRedis(t), Config{})
	_, err := saveData(s, t.Context(), chat, []byte("x"), 5)
	if !errors.Is(err, dialog.ErrConflict) {
		t.Fatalf("err = %v; want ErrConflict", err)
	}
	if want := "telegram:123"; !containsAll(err.Error(), want, "revision 5", "current 0") {
		t.Fatalf("conflict error %q should name %s and the revisions", err, want)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func BenchmarkSaveState(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			c := be.client(b)
			s := newTestStore(b, c, Config{})
			var n atomic.Int64
			payload := []byte(`{"scenario":"portrait","version":3,"step":"age","vars":{"name":"Анна"}}`)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// One chat per goroutine: measures the CAS write, not contention.
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(n.Add(1))}
				ctx := context.Background()
				var rev int64
				for pb.Next() {
					next, err := saveData(s, ctx, key, payload, rev)
					if err != nil {
						b.Fatal(err)
					}
					rev = next
				}
			})
		})
	}
}

// saveData saves a state with data only (no update record).
func saveData(s *Store, ctx context.Context, key messenger.ChatKey, data []byte, rev int64) (int64, error) {
	return s.SaveState(ctx, key, dialog.StoredState{Data: data, Rev: rev})
}

// loadData loads a state's data and revision.
func loadData(s *Store, ctx context.Context, key messenger.ChatKey) ([]byte, int64, error) {
	st, err := s.LoadState(ctx, key)
	return st.Data, st.Rev, err
}

// testBotsIsolated: one user id talking to two bots of one platform (and to
// the environment's unnamed bot) has three states, locks and handled marks.
func testBotsIsolated(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	def := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	shop := messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "42"}
	club := messenger.ChatKey{Platform: messenger.Telegram, Bot: "club", ID: "42"}
	for i, k := range []messenger.ChatKey{def, shop, club} {
		if _, err := saveData(s, ctx, k, []byte("state-"+strconv.Itoa(i)), 0); err != nil {
			t.Fatalf("SaveState(%s) = %v; want each bot's first save to create its own state", k, err)
		}
	}
	for i, k := range []messenger.ChatKey{def, shop, club} {
		data, rev, err := loadData(s, ctx, k)
		if err != nil || string(data) != "state-"+strconv.Itoa(i) || rev != 1 {
			t.Errorf("LoadState(%s) = %q, %d, %v; want its own state at rev 1", k, data, rev, err)
		}
	}
	// A turn of the shop chat neither blocks nor dedupes the club chat.
	leave, dup, err := s.Enter(ctx, shop, "u1", time.Minute)
	if err != nil || dup {
		t.Fatalf("Enter(shop) = %v, dup %v", err, dup)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	leave2, dup2, err := s.Enter(wctx, club, "u1", time.Minute)
	if err != nil || dup2 {
		t.Fatalf("Enter(club) while shop holds its turn = %v, dup %v; want a turn of its own", err, dup2)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := leave2(ctx, false); err != nil {
		t.Fatal(err)
	}
	// shop's update u1 is handled; the same id is new to the club chat.
	if _, dup, err := s.Enter(wctx, shop, "u1", time.Minute); err != nil || !dup {
		t.Errorf("Enter(shop, u1) again = %v, dup %v; want dup", err, dup)
	}
	leave3, dup3, err := s.Enter(wctx, club, "u1", time.Minute)
	if err != nil || dup3 {
		t.Fatalf("Enter(club, u1) = %v, dup %v; want a new update", err, dup3)
	}
	_ = leave3(ctx, false)
}
