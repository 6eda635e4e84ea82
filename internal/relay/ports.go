package relay

import (
	"context"
	"slices"
	"time"
)

// Entry is one update in a queue partition: its stream id and its encoded
// update.
type Entry struct {
	Partition int
	// ID is the entry's id in its partition (a Redis stream id), increasing.
	ID   string
	Data []byte
	// Prev, set by Append, is the id of the entry appended to the
	// partition just before this one (Start when none ever was; "" when
	// unknown), whoever appended it: a poller whose consumer has taken
	// every entry up to Prev may hand this one over without reading it
	// back.
	Prev string
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
	// AcquireLeases runs AcquireLease for several names with one ttl in one
	// round trip (held[i] for names[i]), and releases the names of release.
	AcquireLeases(ctx context.Context, names, release []string, holder string, ttl time.Duration, dead ...string) (held []bool, err error)
	// Balance is one turn of a member, in one round trip: it removes the
	// members of req.Dead, records req.Holder as a member for req.TTL,
	// forgets the members whose membership ended, gives up the partitions
	// of req.Release, takes (or renews) the partitions assigned to the
	// holder among the live members (Assigned) and renews the ones it
	// still holds but is no longer assigned, and reports the queue's depth
	// and the poller lease's holder.
	Balance(ctx context.Context, req BalanceRequest) (Balance, error)
	// Leave ends holder's membership (also another's, proven stopped).
	Leave(ctx context.Context, holder string) error
	// Append adds the entries (Partition and Data set) to their partitions,
	// in order, and sets their ID and Prev; on nil every one is stored.
	Append(ctx context.Context, entries []Entry) error
	// Read returns up to count entries per partition after each cursor,
	// waiting up to block for the first one (nil, nil when none came).
	Read(ctx context.Context, cursors []Cursor, count int, block time.Duration) ([]Entry, error)
	// Ack removes handled entries, ids by partition, in one round trip.
	Ack(ctx context.Context, ids map[int][]string) error
}

// BalanceRequest is one member's turn (Store.Balance).
type BalanceRequest struct {
	// Holder is the member; TTL how long its membership and partition
	// leases last from now.
	Holder string
	TTL    time.Duration
	// Partitions is the queue's number of partitions.
	Partitions int
	// Release lists the partitions the holder gives up (drained).
	Release []int
	// Dead lists members proven stopped: removed from the members, their
	// partition leases taken over at once.
	Dead []string
}

// Balance is the outcome of a member's turn.
type Balance struct {
	// Live lists the live members, holder included.
	Live []string
	// Held lists the partitions assigned to the holder that it holds now.
	Held []int
	// Draining lists the partitions the holder still holds (renewed) but
	// is no longer assigned: it gives them up once their updates in hand
	// are handled.
	Draining []int
	// Depth is how many entries the partitions hold together (not yet
	// acknowledged).
	Depth int64
	// Poller holds the poller lease, "" when none.
	Poller string
}

// Assigned returns the partitions of n that holder handles among the live
// members: members sorted by name take the partitions in turn, so each
// handles n/len(live) of them, rounded up or down, and every member
// computes the same assignment. Store.Balance implementations use it (or
// the same rule).
func Assigned(live []string, holder string, n int) []int {
	sorted := slices.Clone(live)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	i := slices.Index(sorted, holder)
	if i < 0 {
		return nil
	}
	var out []int
	for p := i; p < n; p += len(sorted) {
		out = append(out, p)
	}
	return out
}
