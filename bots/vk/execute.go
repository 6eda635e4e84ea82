package vk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/SevereCloud/vksdk/v2/api"
)

// errExecuteRefused: VK could not compile or run an execute (errors 12,
// 13); its calls are made again one by one.
var errExecuteRefused = errors.New("execute refused")

// errNoCallError: a call of an execute failed (its value is false) and
// execute_errors says nothing about it.
var errNoCallError = errors.New("the call failed inside execute and VK gave no reason")

// call makes one API call through the batcher: alone when the budget is
// free, inside an execute with the other calls pending when it is not. VK's
// "too many requests" is retried after the budget's pause; a call whose
// execute VK refused is made again on its own.
func (b *Bot) call(ctx context.Context, method string, params api.Params) (json.RawMessage, error) {
	solo, retries := false, 0
	for {
		raw, err := b.batch.do(ctx, &pendingCall{method: method, params: params, solo: solo})
		switch {
		case errors.Is(err, errExecuteRefused) && !solo:
			solo = true
		case rateLimitCode(err) != 0 && retries < rateLimitRetries && ctx.Err() == nil:
			retries++ // the request that failed has paused the budget
		default:
			return raw, err
		}
	}
}

// sendBatch makes the request for calls (the batcher's send) and answers
// each call; a "too many requests" answer pauses the budget once.
func (b *Bot) sendBatch(calls []*pendingCall) {
	ctx, cancel := batchContext(calls)
	defer cancel()
	results := make([]callResult, len(calls))
	if len(calls) == 1 {
		raw, err := b.callRaw(ctx, calls[0].method, calls[0].params)
		results[0] = callResult{raw: raw, err: err}
	} else {
		results = b.execute(ctx, calls)
	}
	paused := false
	for i, c := range calls {
		if code := rateLimitCode(results[i].err); code != 0 && !paused {
			b.pause(ctx, c.method, code)
			paused = true
		}
		c.answer(results[i].raw, results[i].err)
	}
}

// batchContext is the context of a request made for calls: it keeps the
// first call's values, ends when every caller has given up, and is bounded
// by callTimeout.
func batchContext(calls []*pendingCall) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), callTimeout)
	var waiting atomic.Int32
	waiting.Store(int32(len(calls)))
	stops := make([]func() bool, 0, len(calls))
	for _, c := range calls {
		stops = append(stops, context.AfterFunc(c.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// callRaw makes one API request, already granted by the limiter.
func (b *Bot) callRaw(ctx context.Context, method string, params api.Params) (json.RawMessage, error) {
	p := make(api.Params, len(params)+3)
	for k, v := range params {
		p[k] = v
	}
	p["access_token"], p["v"] = b.cfg.Token, b.vk.Version
	resp, err := b.raw(method, p.WithContext(ctx))
	return json.RawMessage(resp.Response), err
}

// execute makes calls in one execute request and splits its answer.
func (b *Bot) execute(ctx context.Context, calls []*pendingCall) []callResult {
	results := make([]callResult, len(calls))
	fail := func(err error) []callResult {
		for i := range results {
			results[i].err = err
		}
		return results
	}
	code, err := executeCode(calls)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", errExecuteRefused, err))
	}
	b.log.Debug("execute", "calls", len(calls))
	resp, err := b.raw("execute", api.Params{"code": code, "access_token": b.cfg.Token, "v": b.vk.Version}.WithContext(ctx))
	if err != nil {
		if c := ErrorCode(err); c == 12 || c == 13 {
			b.log.Error("VK refused an execute; its calls go one by one", "calls", len(calls), "code", c,
				"err", redactErr(b.cfg.Token, err))
			return fail(fmt.Errorf("%w: %w", errExecuteRefused, err))
		}
		return fail(err)
	}
	return splitExecute(resp.Response, resp.ExecuteErrors, len(calls))
}

// splitExecute maps an execute's answer back to its n calls: the i-th value
// answers the i-th call; a false value means the call failed, and the
// failed calls' errors are listed in execute_errors in the same order
// (entries about execute itself are skipped).
func splitExecute(raw []byte, execErrs api.ExecuteErrors, n int) []callResult {
	results := make([]callResult, n)
	var values []json.RawMessage
	if err := json.Unmarshal(raw, &values); err != nil || len(values) != n {
		err = fmt.Errorf("execute answered %d values for %d calls (%v)", len(values), n, err)
		for i := range results {
			results[i].err = err
		}
		return results
	}
	callErrs := make([]api.ExecuteError, 0, len(execErrs))
	for _, e := range execErrs {
		if e.Method != "execute" {
			callErrs = append(callErrs, e)
		}
	}
	for i, v := range values {
		if !bytes.Equal(bytes.TrimSpace(v), []byte("false")) {
			results[i].raw = v
			continue
		}
		if len(callErrs) == 0 {
			results[i].err = errNoCallError
			continue
		}
		e := callErrs[0]
		callErrs = callErrs[1:]
		results[i].err = &api.Error{Code: api.ErrorType(e.Code), Message: e.Msg}
	}
	return results
}

// methodName is what executeCode puts after "API.".
var methodName = regexp.MustCompile(`^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$`)

// executeCode is the VKScript that makes calls in order and returns their
// values: "return [API.messages.send({…}),…];". Every argument is
// JSON-encoded, which is also a valid VKScript literal, so no value can
// change the code.
func executeCode(calls []*pendingCall) (string, error) {
	var sb strings.Builder
	sb.WriteString("return [")
	for i, c := range calls {
		if !methodName.MatchString(c.method) {
			return "", fmt.Errorf("method %q cannot go in an execute", c.method)
		}
		args, err := scriptArgs(c.params)
		if err != nil {
			return "", fmt.Errorf("%s: %w", c.method, err)
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("API.")
		sb.WriteString(c.method)
		sb.WriteByte('(')
		sb.Write(args)
		sb.WriteByte(')')
	}
	sb.WriteString("];")
	return sb.String(), nil
}

// scriptArgs JSON-encodes a call's parameters as one object: strings stay
// strings, integers numbers; anything else is encoded as vksdk would put it
// in a form.
func scriptArgs(params api.Params) ([]byte, error) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		var v any
		switch x := params[k].(type) {
		case string, int, int32, int64:
			v = x
		default:
			v = api.FmtValue(x, 0)
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
