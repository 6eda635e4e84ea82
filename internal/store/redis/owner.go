package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultLivenessTTL is Config.LivenessTTL when zero.
const DefaultLivenessTTL = 10 * time.Second

// A chat's turn (its lock) names the process that holds it: the lock's value
// is "<instance>/<token>", where instance is a random id each Store draws
// when it is made (one per process start). While a Store holds or may hold
// turns it keeps a liveness key, <prefix>:live:<instance>, refreshed every
// third of Config.LivenessTTL. A turn whose holder's liveness key is gone
// belongs to a process that died (kill -9, a crash, a lost host) or stopped:
// Enter takes it at once, with a compare-and-set on the exact lock value,
// instead of waiting for the turn's TTL (HANDLE_TIMEOUT + 5 s). A live
// holder's turn is never taken, however long its handler runs, so two live
// processes sharing Redis stay exclusive per chat; what the liveness TTL
// trades is how long a stalled-but-alive process (no Redis for that long)
// may be overtaken, and its late writes are then refused by the state's
// revision check like those of a turn that expired.
//
// ClaimRestart shortens the wait after a restart on the same host to none:
// see there.

// owners tracks this Store's identity and what it learnt about others.
type owners struct {
	instance string
	ttl      time.Duration

	live atomic.Bool // started, read without the lock on every Enter

	mu      sync.Mutex
	started bool // the liveness key was written and the heartbeat runs
	stop    chan struct{}
	done    chan struct{}
	dead    map[string]bool      // predecessors proven stopped (ClaimRestart's file lock)
	alive   map[string]time.Time // instances seen alive, until when to trust it
	lockDir *lockFile            // the restart slot held, nil when none
}

func newOwners(ttl time.Duration) (*owners, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("redis store: instance id: %w", err)
	}
	return &owners{instance: hex.EncodeToString(b), ttl: ttl, dead: map[string]bool{}, alive: map[string]time.Time{}}, nil
}

// Instance is this Store's instance id: the holder named in the chat turns
// it takes.
func (s *Store) Instance() string { return s.owners.instance }

// live is the liveness key of an instance (its own slot: read and written
// by single-key commands only, never inside a chat's scripts).
func (k keys) live(instance string) string {
	return k.prefix + ":live:" + instance
}

// ensureLive writes the liveness key and starts its heartbeat before the
// Store takes its first turn; a failed write is tried again at the next
// Enter.
func (s *Store) ensureLive(ctx context.Context) error {
	o := s.owners
	if o.live.Load() {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started {
		return nil
	}
	cmd := goredis.NewStatusCmd(ctx, "set", s.keys.live(o.instance), "1", "px", o.ttl.Milliseconds())
	if err := s.pipe.process(ctx, cmd); err != nil {
		return fmt.Errorf("write liveness: %w", err)
	}
	o.started = true
	o.live.Store(true)
	o.stop, o.done = make(chan struct{}), make(chan struct{})
	go s.heartbeat(o.stop, o.done)
	return nil
}

// heartbeat refreshes the liveness key every third of its TTL until stop
// closes. A failed refresh is tried again at the next tick: the key lives
// on for the rest of its TTL meanwhile.
func (s *Store) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.owners.ttl / 3)
	defer t.Stop()
	key := s.keys.live(s.owners.instance)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.owners.ttl/3)
			_ = s.client.Set(ctx, key, "1", s.owners.ttl).Err()
			cancel()
		}
	}
}

// stopLiveness stops the heartbeat and deletes the liveness key: the Store
// holds no turn any more (Close runs after the pipeline drained), so any
// turn left under its name can be taken at once.
func (s *Store) stopLiveness() {
	o := s.owners
	o.mu.Lock()
	started := o.started
	o.started = false
	o.live.Store(false)
	o.mu.Unlock()
	if started {
		close(o.stop)
		<-o.done
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.client.Del(ctx, s.keys.live(o.instance)).Err()
		cancel()
	}
	if o.lockDir != nil {
		o.lockDir.release()
	}
}

// holderOf returns the instance named in a lock value, "" for a lock
// without one (taken by an older version: it is only waited out).
func holderOf(lockValue string) string {
	instance, _, ok := strings.Cut(lockValue, "/")
	if !ok {
		return ""
	}
	return instance
}

// aliveFor is how long a holder seen alive is trusted without asking Redis
// again, so a waiting Enter does not check at every poll.
const aliveFor = 250 * time.Millisecond

// holderGone reports whether instance (another process) has stopped: a
// predecessor proven dead, or its liveness key missing now. A missing key
// is not remembered: a live process whose key lapsed (Redis unreachable
// for longer than the liveness TTL) writes it again at its next heartbeat
// and is then waited for like any live holder, so the exclusivity of live
// processes is lost only for that window, never for good.
func (s *Store) holderGone(ctx context.Context, instance string) (bool, error) {
	o := s.owners
	if instance == "" || instance == o.instance {
		return false, nil
	}
	o.mu.Lock()
	if o.dead[instance] {
		o.mu.Unlock()
		return true, nil
	}
	if until, ok := o.alive[instance]; ok && time.Now().Before(until) {
		o.mu.Unlock()
		return false, nil
	}
	o.mu.Unlock()
	n, err := s.client.Exists(ctx, s.keys.live(instance)).Result()
	if err != nil {
		return false, fmt.Errorf("check the holder's liveness: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n == 0 {
		delete(o.alive, instance)
		return true, nil
	}
	if len(o.alive) > 10000 {
		clear(o.alive)
	}
	o.alive[instance] = time.Now().Add(aliveFor)
	return false, nil
}

// ClaimRestart makes a restarted process recognise its predecessor on the
// same host. It takes one of a few slot files in dir with an exclusive
// advisory lock (flock), held until the Store is closed or the process
// exits, and reads the instance id the slot's previous holder wrote there.
// The kernel releases the lock only when that holder's process is gone, so
// getting it proves the predecessor dead: its liveness key is deleted and
// every chat turn it left is taken at once, without waiting for its TTL or
// its liveness key to expire. A live process keeps its slot, so several
// processes on one host take different slots and never mistake each other
// for a predecessor. The slot files are named after the Redis address and
// prefix, so deployments on other Redis databases do not share them.
//
// It returns the number of predecessors found (0 or 1). Where file locks
// are not available (not Unix) it does nothing; turns of a dead process are
// then taken once its liveness key expires (Config.LivenessTTL).
func (s *Store) ClaimRestart(ctx context.Context, dir string) (int, error) {
	slot, previous, err := claimSlot(dir, s.slotName(), s.owners.instance)
	if err != nil || slot == nil {
		return 0, err
	}
	s.owners.mu.Lock()
	s.owners.lockDir = slot
	s.owners.mu.Unlock()
	if previous == "" || previous == s.owners.instance {
		return 0, nil
	}
	s.owners.mu.Lock()
	s.owners.dead[previous] = true
	s.owners.mu.Unlock()
	if err := s.client.Del(ctx, s.keys.live(previous)).Err(); err != nil {
		return 1, fmt.Errorf("redis store: forget the previous process's liveness: %w", err)
	}
	return 1, nil
}

// ProvenDead reports whether instance is a predecessor that ClaimRestart
// proved stopped (its slot's lock was free): its leases may be taken at
// once. A process merely silent is never reported.
func (s *Store) ProvenDead(instance string) bool {
	s.owners.mu.Lock()
	defer s.owners.mu.Unlock()
	return s.owners.dead[instance]
}

// slotName names this deployment's restart slots: a hash of the Redis
// address and the key prefix.
func (s *Store) slotName() string {
	addr := ""
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		addr = strings.Join(slices.Sorted(slices.Values(c.Options().Addrs)), ",")
	case interface{ Options() *goredis.Options }:
		addr = c.Options().Addr
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(addr + "|" + s.cfg.Prefix))
	return fmt.Sprintf("chathub-%016x", h.Sum64())
}
