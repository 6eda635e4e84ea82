package vk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/SevereCloud/vksdk/v2/api"
)

// callState is where a pendingCall is in the batcher.
type callState int

const (
	// queued: waiting for a leader to take it into a request.
	queued callState = iota
	// leading: at the head of the queue; its caller waits for the grant.
	leading
	// taken: in a request that is being made.
	taken
)

// pendingCall is one API call waiting to be made, alone or with others in
// one execute request.
type pendingCall struct {
	method string
	params api.Params // the method's parameters: no context, no token
	// solo makes the call go alone (VK refused the execute it was in).
	solo bool

	ctx   context.Context
	state callState // guarded by batcher.mu
	lead  chan struct{}
	done  chan callResult
}

// callResult is what VK answered to one call.
type callResult struct {
	raw json.RawMessage
	err error
}

// answer hands c its result (never blocks: done holds one).
func (c *pendingCall) answer(raw json.RawMessage, err error) {
	c.done <- callResult{raw: raw, err: err}
}

// batcher coalesces the API calls that are pending at the same moment into
// as few requests as the budget needs, without a goroutine of its own.
//
// The calls wait in a queue. The caller of the call at its head is the
// leader: it alone waits for the limiter, and once granted it takes up to
// max calls from the head and makes the request (one call alone, more in one
// execute) in its own goroutine, after handing the lead to the next call's
// caller, which then waits for the next grant while the request is in
// flight. So a call that finds the budget free goes at once, alone, and
// calls that arrive while the budget is spent ride together in the next
// request.
type batcher struct {
	max     int
	limiter Limiter
	// send makes the request for calls and answers every one of them.
	send func(calls []*pendingCall)

	mu      sync.Mutex
	queue   []*pendingCall
	leading bool // the head of the queue has a leader
}

func newBatcher(max int, limiter Limiter, send func(calls []*pendingCall)) *batcher {
	return &batcher{max: max, limiter: limiter, send: send}
}

// do queues c and returns VK's answer to it, or ctx's error when ctx ends
// first (a call already in flight may still reach VK).
func (q *batcher) do(ctx context.Context, c *pendingCall) (json.RawMessage, error) {
	c.ctx, c.state = ctx, queued
	c.lead, c.done = make(chan struct{}, 1), make(chan callResult, 1)
	q.mu.Lock()
	q.queue = append(q.queue, c)
	if !q.leading {
		q.leading = true
		q.promoteLocked()
	}
	q.mu.Unlock()
	select {
	case <-c.lead:
		return q.lead(ctx, c)
	case r := <-c.done:
		return r.raw, r.err
	case <-ctx.Done():
		q.abandon(c)
		return nil, ctx.Err()
	}
}

// lead waits for the grant, then takes the head of the queue (c first) and
// makes its request.
func (q *batcher) lead(ctx context.Context, c *pendingCall) (json.RawMessage, error) {
	if err := q.limiter.Wait(ctx, 1); err != nil {
		q.abandon(c)
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	q.send(q.take())
	r := <-c.done
	return r.raw, r.err
}

// take removes the next request's calls from the head of the queue: one
// solo call, or up to max others; the next call takes the lead.
func (q *batcher) take() []*pendingCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 1
	if !q.queue[0].solo {
		for n < len(q.queue) && n < q.max && !q.queue[n].solo {
			n++
		}
	}
	calls := slices.Clone(q.queue[:n])
	q.queue = slices.Delete(q.queue, 0, n)
	for _, c := range calls {
		c.state = taken
	}
	q.promoteLocked()
	return calls
}

// abandon removes c if no request has taken it yet, handing the lead on
// when c had it.
func (q *batcher) abandon(c *pendingCall) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.state == taken {
		return
	}
	q.queue = slices.DeleteFunc(q.queue, func(o *pendingCall) bool { return o == c })
	if c.state == leading {
		q.promoteLocked()
	}
}

// promoteLocked gives the lead to the head of the queue, or records that
// there is no leader when the queue is empty.
func (q *batcher) promoteLocked() {
	if len(q.queue) == 0 {
		q.leading = false
		return
	}
	head := q.queue[0]
	head.state = leading
	head.lead <- struct{}{}
}

// pending is how many calls wait (for tests).
func (q *batcher) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}
