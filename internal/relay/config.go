package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Defaults of Config's zero fields.
const (
	// DefaultLeaseTTL is Config.LeaseTTL when zero: a poller that died is
	// replaced within about this long.
	DefaultLeaseTTL = 5 * time.Second
	// DefaultPartitions is Config.Partitions when zero.
	DefaultPartitions = 16
	// DefaultBatchSize is Config.BatchSize when zero.
	DefaultBatchSize = 100
	// DefaultMaxPending is Config.MaxPending when zero.
	DefaultMaxPending = 100_000
	// DefaultRetryDelay is Config.RetryDelay when zero.
	DefaultRetryDelay = time.Second
	// MaxPartitions bounds Config.Partitions.
	MaxPartitions = 1024
	// MaxBatchSize bounds Config.BatchSize: an acknowledgement round holds
	// up to about two batches of a partition, passed to one Lua call whose
	// stack holds some 8000 values.
	MaxBatchSize = 1000
)

// Config configures a Relay: one bot's long polling shared by the
// processes of a deployment.
type Config struct {
	// Platform and Bot name the bot (Bot "" for the bot of the environment
	// variables); updates of other bots found in its queue are skipped.
	Platform messenger.Platform
	Bot      string
	// Holder names this process in the leases and the member set; unique
	// per process (e.g. host, pid and a random instance id). Required.
	Holder string
	// Store keeps the leases and the queue; required.
	Store Store
	// Poll pulls the bot's updates into sink until ctx ends (the adapter's
	// Run); required. It runs only while this process holds the poller
	// lease.
	Poll func(ctx context.Context, sink messenger.Sink) error
	// Sink handles the updates read from the queue (the dispatcher);
	// required.
	Sink messenger.Submitter
	// OnPollError, when set, is told that Poll ended with an error (a
	// refused token, a conflict): this process then gives the poller lease
	// up and does not poll the bot again (another process may), but keeps
	// handling the queue.
	OnPollError func(err error)
	// Outages, when set, is asked whether a backing service is down when a
	// Redis call fails: the failure is then logged at debug level only
	// (the outage is logged once where it is watched), and a batch the
	// poller could not queue fails with a *messenger.OutageError so the
	// adapter delivers it again as soon as Redis answers.
	Outages Outages
	// Dead, when set, reports a holder proven stopped (a predecessor on this
	// host, recognised by its restart slot): its poller and partition leases
	// are taken over at once instead of when they expire.
	Dead func(holder string) bool
	// LeaseTTL is how long the poller lease and each partition lease last
	// without renewal (renewed every third of it). A holder that cannot
	// renew stops polling a third of it before its lease can expire; a
	// holder that died is replaced within about LeaseTTL × 1.2. Default 5s,
	// at least 300ms.
	LeaseTTL time.Duration
	// Partitions is how many streams the bot's queue is split into, chats
	// spread over them by a hash of their id (one chat's updates stay in one
	// partition, in order). Each partition is handled by one process at a
	// time; the partitions are balanced over the live processes. Every
	// process of a deployment must use the same value. Default 16, at most
	// MaxPartitions.
	Partitions int
	// BatchSize is how many entries of a partition are read at once.
	// Default 100, at most MaxBatchSize.
	BatchSize int
	// ReadBlock is how long a read waits for new entries. Default a
	// tenth of LeaseTTL, at most 500ms.
	ReadBlock time.Duration
	// MaxPending bounds the entries the queue holds: the poller waits while
	// it holds more (the platform keeps the updates meanwhile). Default
	// 100,000.
	MaxPending int64
	// MaxInflight bounds the entries this process has read and not yet
	// acknowledged (handled). Default twice Partitions × BatchSize; at
	// least BatchSize.
	MaxInflight int
	// RetryDelay is how long a partition waits before a batch whose
	// handling failed is read again. Default 1s.
	RetryDelay time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Outages tells a backing service that is down (health.Set implements it).
type Outages interface {
	// Outage returns a channel closed once the service found down answers
	// again; nil when all answer.
	Outage(ctx context.Context) <-chan struct{}
}

// DefaultMaxInflight is Config.MaxInflight when zero: twice partitions ×
// batch (a batch of every partition in hand and the next read already);
// 0 partitions or a batch of 0 count as their defaults. The runtime
// sizes the dispatcher's queue with it (dispatch.Config.Reserve).
func DefaultMaxInflight(partitions, batch int) int {
	if partitions == 0 {
		partitions = DefaultPartitions
	}
	if batch == 0 {
		batch = DefaultBatchSize
	}
	return 2 * partitions * batch
}

func (c *Config) setDefaults() {
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.ReadBlock == 0 {
		c.ReadBlock = min(c.LeaseTTL/10, 500*time.Millisecond)
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight(c.Partitions, c.BatchSize)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// validate reports every invalid field of a defaulted Config.
func (c *Config) validate() error {
	var errs []error
	if !c.Platform.Valid() {
		errs = append(errs, fmt.Errorf("relay: unknown platform %q", c.Platform))
	}
	if c.Holder == "" {
		errs = append(errs, errors.New("relay: Config.Holder is required"))
	}
	if c.Store == nil || c.Poll == nil || c.Sink == nil {
		errs = append(errs, errors.New("relay: Config.Store, Poll and Sink are required"))
	}
	if c.LeaseTTL < 300*time.Millisecond {
		errs = append(errs, fmt.Errorf("relay: lease TTL %s must be at least 300ms", c.LeaseTTL))
	}
	if c.Partitions < 1 || c.Partitions > MaxPartitions {
		errs = append(errs, fmt.Errorf("relay: partitions %d must be 1..%d", c.Partitions, MaxPartitions))
	}
	if c.BatchSize < 1 || c.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("relay: batch size %d must be 1..%d", c.BatchSize, MaxBatchSize))
	}
	if c.ReadBlock < time.Millisecond || c.ReadBlock > c.LeaseTTL/3 {
		errs = append(errs, fmt.Errorf("relay: read block %s must be 1ms..a third of the lease TTL", c.ReadBlock))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("relay: max pending %d must be at least 1", c.MaxPending))
	}
	if c.MaxInflight < max(c.BatchSize, 1) {
		errs = append(errs, fmt.Errorf("relay: max in flight %d must be at least the batch size %d", c.MaxInflight, c.BatchSize))
	}
	if c.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("relay: retry delay %s must not be negative", c.RetryDelay))
	}
	return errors.Join(errs...)
}
