package messenger

import "context"

type idempotencyKey struct{}

// WithIdempotencyKey returns ctx carrying the idempotency key of the send it
// is used for. Adapters that can deduplicate sends (VK's random_id) derive
// their token from it, so a retried send with the same key is delivered once
// while different sends stay distinct: replies carry the id of the update
// they answer plus the reply's index, broadcasts campaign × client.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// IdempotencyKey returns the key WithIdempotencyKey put in ctx.
func IdempotencyKey(ctx context.Context) (string, bool) {
	key, ok := ctx.Value(idempotencyKey{}).(string)
	return key, ok && key != ""
}
