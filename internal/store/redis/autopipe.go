package redis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrClosed is returned (wrapped) by the Store's commands after Close.
var ErrClosed = errors.New("redis store is closed")

// States of a queued command: who owns it is decided once, by a
// compare-and-swap, between the flusher sending it and its caller giving up.
const (
	cmdQueued int32 = iota
	cmdSent
	cmdAbandoned
)

// queuedCmd is one caller's command waiting in the auto-pipeline.
type queuedCmd struct {
	ctx context.Context
	cmd goredis.Cmder
	// script is set when cmd is its EVALSHA: a NOSCRIPT answer is retried
	// once with EVAL of keys and args (the result goes into cmd).
	script *goredis.Script
	keys   []string
	args   []any
	state  atomic.Int32
	done   chan struct{} // closed when cmd has its result (never when abandoned)
}

// autoPipeline sends the commands that many goroutines issue at once
// together, in one pipeline round trip per batch. Each of a few flusher
// goroutines blocks for the first queued command, takes whatever else is
// queued at that moment (up to maxBatch) without waiting for more, and runs
// them: a lone command goes out at once, as a plain command, so a light load
// gets no added latency; under load the commands queued during one round trip
// ride in the next. With direct set, every command is its own round trip on
// the caller's goroutine (Config.NoAutoPipeline).
type autoPipeline struct {
	client   goredis.UniversalClient
	direct   bool
	flushers int
	maxBatch int
	queue    chan *queuedCmd

	mu      sync.RWMutex // held for reading while enqueuing; Close takes it to close queue
	closed  bool
	started sync.Once // flushers start with the first command
	running sync.WaitGroup
}

// newAutoPipeline returns the pipeline of a Store with the defaulted cfg;
// nothing runs until the first command.
func newAutoPipeline(client goredis.UniversalClient, cfg Config) *autoPipeline {
	p := &autoPipeline{client: client, direct: cfg.NoAutoPipeline}
	if !p.direct {
		p.flushers, p.maxBatch = cfg.PipelineFlushers, cfg.PipelineMaxBatch
		p.queue = make(chan *queuedCmd, cfg.PipelineFlushers*cfg.PipelineMaxBatch)
	}
	return p
}

// script runs s (EVALSHA, then EVAL on NOSCRIPT, as goredis.Script.Run
// does) with keys and args, which must be scalars (they are not flattened).
func (p *autoPipeline) script(ctx context.Context, s *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	if p.direct {
		if err := p.checkOpen(); err != nil {
			return goredis.NewCmdResult(nil, err)
		}
		return s.Run(ctx, p.client, keys, args...)
	}
	cmd := evalShaCmd(ctx, s, keys, args)
	if err := p.submit(&queuedCmd{ctx: ctx, cmd: cmd, script: s, keys: keys, args: args}); err != nil {
		return goredis.NewCmdResult(nil, err)
	}
	return cmd
}

// process runs cmd and returns its error. When it returns an error that is
// not cmd's own (the Store is closed, ctx ended first), cmd is left as it is.
func (p *autoPipeline) process(ctx context.Context, cmd goredis.Cmder) error {
	if p.direct {
		if err := p.checkOpen(); err != nil {
			return err
		}
		return p.client.Process(ctx, cmd)
	}
	if err := p.submit(&queuedCmd{ctx: ctx, cmd: cmd}); err != nil {
		return err
	}
	return cmd.Err()
}

// evalShaCmd builds the EVALSHA command of s, as goredis.Script.EvalSha does.
func evalShaCmd(ctx context.Context, s *goredis.Script, keys []string, args []any) *goredis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", s.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmd := goredis.NewCmd(ctx, append(cmdArgs, args...)...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	return cmd
}

// checkOpen returns ErrClosed after Close.
func (p *autoPipeline) checkOpen() error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	return nil
}

// submit queues q and waits until q.cmd has its result (then it returns
// nil). It returns ErrClosed after Close and ctx.Err() when q's context ends
// first, without touching q.cmd, which a flusher may still be writing: a
// command not yet sent is then skipped; one already sent may still take
// effect, as with any command whose caller stopped waiting.
func (p *autoPipeline) submit(q *queuedCmd) error {
	q.done = make(chan struct{})
	if err := p.enqueue(q); err != nil {
		return err
	}
	select {
	case <-q.done:
		return nil
	case <-q.ctx.Done():
	}
	if !q.state.CompareAndSwap(cmdQueued, cmdAbandoned) {
		select {
		case <-q.done: // it was sent and has its result after all
			return nil
		default:
		}
	}
	return q.ctx.Err()
}

// enqueue puts q on the queue, starting the flushers on first use; it
// fails after Close or when q's ctx ends while the queue is full.
func (p *autoPipeline) enqueue(q *queuedCmd) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	p.started.Do(p.start)
	select {
	case p.queue <- q:
		return nil
	case <-q.ctx.Done():
		return q.ctx.Err()
	}
}

// start runs the flushers.
func (p *autoPipeline) start() {
	p.running.Add(p.flushers)
	for range p.flushers {
		go p.flushLoop()
	}
}

// close makes later commands fail with ErrClosed and returns once the
// flushers have sent every command already queued.
func (p *autoPipeline) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		if !p.direct {
			close(p.queue)
		}
	}
	p.mu.Unlock()
	p.running.Wait()
}

// flushLoop is one flusher: it sends batches until the queue is closed and empty.
func (p *autoPipeline) flushLoop() {
	defer p.running.Done()
	batch := make([]*queuedCmd, 0, p.maxBatch)
	cmds := make([]goredis.Cmder, 0, p.maxBatch)
	for first := range p.queue {
		batch = p.drain(append(batch, first))
		cmds = p.flush(batch, cmds)
		clear(batch)
		batch = batch[:0]
	}
}

// drain adds to batch what is queued now, without waiting, up to maxBatch.
func (p *autoPipeline) drain(batch []*queuedCmd) []*queuedCmd {
	for len(batch) < p.maxBatch {
		select {
		case q, ok := <-p.queue:
			if !ok {
				return batch
			}
			batch = append(batch, q)
		default:
			return batch
		}
	}
	return batch
}

// flush sends the batch's commands whose callers still wait, retries the
// scripts Redis did not know, and hands every result back. cmds is a
// reusable buffer, returned emptied.
func (p *autoPipeline) flush(batch []*queuedCmd, cmds []goredis.Cmder) []goredis.Cmder {
	sent := claim(batch)
	if len(sent) == 0 {
		return cmds
	}
	ctx, cancel := batchContext(sent)
	defer cancel()
	for _, q := range sent {
		cmds = append(cmds, q.cmd)
	}
	p.exec(ctx, cmds)
	p.retryNoScript(ctx, sent)
	for _, q := range sent {
		close(q.done)
	}
	clear(cmds)
	return cmds[:0]
}

// claim keeps, in place, the commands of batch whose callers still wait,
// marking them sent; the others are skipped.
func claim(batch []*queuedCmd) []*queuedCmd {
	sent := batch[:0]
	for _, q := range batch {
		if q.ctx.Err() != nil {
			q.state.CompareAndSwap(cmdQueued, cmdAbandoned)
			continue
		}
		if q.state.CompareAndSwap(cmdQueued, cmdSent) {
			sent = append(sent, q)
		}
	}
	return sent
}

// batchContext is the context a batch runs under. A lone command runs
// under its caller's. A pipeline must not end when one caller gives up, so
// it gets no cancellation and no caller's values, and a deadline only when
// every command has one: the latest (the client's read and write timeouts
// bound it otherwise). A caller whose own deadline passes first stops
// waiting then (see submit).
func batchContext(sent []*queuedCmd) (context.Context, context.CancelFunc) {
	if len(sent) == 1 {
		return sent[0].ctx, func() {}
	}
	var latest time.Time
	for _, q := range sent {
		d, ok := q.ctx.Deadline()
		if !ok {
			return context.Background(), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// exec runs cmds: one alone as a plain command, several as one pipeline.
// Each command keeps its own result or error; a network error is set on
// every command of the pipeline.
func (p *autoPipeline) exec(ctx context.Context, cmds []goredis.Cmder) {
	if len(cmds) == 1 {
		_ = p.client.Process(ctx, cmds[0])
		return
	}
	pipe := p.client.Pipeline()
	_ = pipe.BatchProcess(ctx, cmds...)
	_, _ = pipe.Exec(ctx)
}

// retryNoScript runs again, with EVAL, the scripts of sent that Redis did
// not know (it restarted or its script cache was flushed), and puts the
// results into their EVALSHA commands. EVAL caches the script again.
func (p *autoPipeline) retryNoScript(ctx context.Context, sent []*queuedCmd) {
	var retry []*queuedCmd
	for _, q := range sent {
		if q.script != nil && isNoScript(q.cmd.Err()) {
			retry = append(retry, q)
		}
	}
	if len(retry) == 0 {
		return
	}
	pipe := p.client.Pipeline()
	evals := make([]*goredis.Cmd, len(retry))
	for i, q := range retry {
		evals[i] = q.script.Eval(q.ctx, pipe, q.keys, q.args...) // queued, not yet sent
	}
	_, _ = pipe.Exec(ctx)
	for i, q := range retry {
		cmd := q.cmd.(*goredis.Cmd)
		cmd.SetVal(evals[i].Val())
		cmd.SetErr(evals[i].Err())
	}
}

// isNoScript reports whether err is Redis not knowing a script's hash.
func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}
