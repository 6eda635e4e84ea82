package relay

import (
	"context"
	"time"
)

// Entry is one update in a queue partition: its stream id and its encoded
// update.
type Entry struct {
	Partition int
	// ID is the entry's id in its partition (a Redis stream id), increasing.
	ID   string
	Data []byte
}

// Cursor asks for a partition's entries after After ("0-0": from the
// oldest one not yet acknowledged).
type Cursor struct {
	Partition int
	After     string
}

// Start is the Cursor position before every entry.
const Start = "0-0"

// Store is what a Relay keeps in Redis for one bot: leases, the members
// sharing the bot's queue and the queue itself (internal/store/redis
// implements it: Store.Intake).
type Store interface {
	// AcquireLease takes the named lease for holder for ttl when it is free
	// or its holder is one of dead (processes proven stopped), or extends it
	// when holder has it already; held false (and the holder that has it)
	// when another holder does.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, dead ...string) (held bool, current string, err error)
	// RenewLease extends the lease only when holder has it; false when it
	// expired or another holder took it.
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up when holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
	// LeaseHolder returns who has the lease, "" when nobody.
	LeaseHolder(ctx context.Context, name string) (string, error)
	// AcquireLeases runs AcquireLease for several names with one ttl in one
	// round trip (held[i] for names[i]), and releases the names of release.
	AcquireLeases(ctx context.Context, names, release []string, holder string, ttl time.Duration, dead ...string) (held []bool, err error)
	// Heartbeat records holder as a member for ttl, forgets the members
	// whose membership ended and returns the live ones (holder included).
	Heartbeat(ctx context.Context, holder string, ttl time.Duration) ([]string, error)
	// Leave ends holder's membership (also another's, proven stopped).
	Leave(ctx context.Context, holder string) error
	// Append adds the entries (Partition and Data set) to their partitions,
	// in order; on nil every one is stored.
	Append(ctx context.Context, entries []Entry) error
	// Read returns up to count entries per partition after each cursor,
	// waiting up to block for the first one (nil, nil when none came).
	Read(ctx context.Context, cursors []Cursor, count int, block time.Duration) ([]Entry, error)
	// Ack removes handled entries of a partition.
	Ack(ctx context.Context, partition int, ids []string) error
	// Depth returns how many entries partitions 0..n-1 hold together (not
	// yet acknowledged).
	Depth(ctx context.Context, n int) (int64, error)
}
