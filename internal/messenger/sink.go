package messenger

import "context"

// Sink takes the updates an adapter received and returns only when every one
// of them is handled (or failed). Adapters advance their platform offset or
// answer a webhook only after Deliver returns nil; on an error they redeliver
// later (the inbound pipeline dedupes by update id, so redelivery is safe).
// Updates of one chat in a batch keep their order.
type Sink interface {
	Deliver(ctx context.Context, batch []*Update) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, batch []*Update) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, batch []*Update) error { return f(ctx, batch) }

// Submitter is a Sink that can take a batch without waiting for it: Submit
// queues the updates (in order, behind those submitted before, so one
// chat's updates keep their order across batches) and returns a func that
// waits for their outcome, which is what Deliver would have returned.
// Pollers use it to fetch the next batch while the previous one is handled.
type Submitter interface {
	Sink
	Submit(ctx context.Context, batch []*Update) (wait func() error, err error)
}
