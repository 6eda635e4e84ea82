package vktest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// MaxExecuteCalls is how many API calls one execute may make.
const MaxExecuteCalls = 25

// executeResult is the answer of execute: the value the code returns and,
// for the calls that failed (their value is false), their errors in order.
type executeResult struct {
	response any
	errors   []executeError
}

// executeError is one entry of execute_errors.
type executeError struct {
	Method string `json:"method"`
	Code   int    `json:"error_code"`
	Msg    string `json:"error_msg"`
}

// apiCall is one API.<section>.<method>({…}) of a script.
type apiCall struct {
	method string
	params url.Values
}

// script is parsed execute code: the calls it returns, as an array or as
// the single value of one call.
type script struct {
	calls []apiCall
	array bool
}

// execute serves execute for the VKScript subset
//
//	return [API.messages.send({"peer_id":5,"message":"…"}), …];
//	return API.users.get({"user_ids":"1"});
//
// where each argument is a JSON object of strings, numbers and booleans.
// Anything else is refused with error 12, more than MaxExecuteCalls calls
// with error 13. The calls run in order; a failed call's value is false and
// its error goes to execute_errors, as on VK.
func (s *Server) execute(p url.Values) (any, *apiError) {
	sc, err := parseScript(p.Get("code"))
	if err != nil {
		return nil, &apiError{code: 12, msg: errorMessages[12] + ": " + err.Error()}
	}
	if len(sc.calls) > MaxExecuteCalls {
		return nil, &apiError{code: 13, msg: fmt.Sprintf("%s: too many API calls (%d, at most %d)",
			errorMessages[13], len(sc.calls), MaxExecuteCalls)}
	}
	results := make([]any, len(sc.calls))
	var errs []executeError
	for i, c := range sc.calls {
		v, aerr := s.innerCall(c)
		if aerr != nil {
			results[i] = false
			errs = append(errs, executeError{Method: c.method, Code: aerr.code, Msg: aerr.msg})
			continue
		}
		results[i] = v
	}
	if !sc.array {
		return executeResult{response: results[0], errors: errs}, nil
	}
	return executeResult{response: results, errors: errs}, nil
}

// innerCall runs one call of an execute.
func (s *Server) innerCall(c apiCall) (any, *apiError) {
	v, aerr := s.runInner(c)
	s.mu.Lock()
	s.calls[c.method]++
	s.notifyLocked()
	s.mu.Unlock()
	return v, aerr
}

func (s *Server) runInner(c apiCall) (any, *apiError) {
	if aerr := s.takeFailure(c.method); aerr != nil {
		return nil, aerr
	}
	fn, ok := methods[c.method]
	if !ok {
		return nil, errCode(3)
	}
	return fn(s, c.params)
}

// parseScript parses the code execute accepts (see execute).
func parseScript(code string) (script, error) {
	sc := &scanner{src: code}
	var out script
	sc.space()
	if !sc.word("return") {
		return out, sc.errorf("want `return`")
	}
	sc.space()
	if sc.take('[') {
		out.array = true
		calls, err := sc.callList()
		if err != nil {
			return out, err
		}
		out.calls = calls
	} else {
		c, err := sc.call()
		if err != nil {
			return out, err
		}
		out.calls = []apiCall{c}
	}
	sc.space()
	sc.take(';')
	sc.space()
	if sc.pos != len(sc.src) {
		return out, sc.errorf("unexpected code after the return statement")
	}
	return out, nil
}

// scanner reads a script left to right.
type scanner struct {
	src string
	pos int
}

func (sc *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", sc.pos, fmt.Sprintf(format, args...))
}

// space skips white space.
func (sc *scanner) space() {
	for sc.pos < len(sc.src) && strings.IndexByte(" \t\r\n", sc.src[sc.pos]) >= 0 {
		sc.pos++
	}
}

// take consumes c if it is next.
func (sc *scanner) take(c byte) bool {
	if sc.pos < len(sc.src) && sc.src[sc.pos] == c {
		sc.pos++
		return true
	}
	return false
}

// word consumes the keyword w if it is next and not followed by an
// identifier character.
func (sc *scanner) word(w string) bool {
	rest := sc.src[sc.pos:]
	if !strings.HasPrefix(rest, w) || (len(rest) > len(w) && isIdent(rest[len(w)])) {
		return false
	}
	sc.pos += len(w)
	return true
}

// callList reads "call, call, …]" after the opening bracket.
func (sc *scanner) callList() ([]apiCall, error) {
	var calls []apiCall
	sc.space()
	if sc.take(']') {
		return calls, nil
	}
	for {
		c, err := sc.call()
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
		sc.space()
		if sc.take(']') {
			return calls, nil
		}
		if !sc.take(',') {
			return nil, sc.errorf("want `,` or `]`")
		}
		sc.space()
	}
}

// call reads API.<section>.<method>({…}).
func (sc *scanner) call() (apiCall, error) {
	var c apiCall
	if !strings.HasPrefix(sc.src[sc.pos:], "API.") {
		return c, sc.errorf("want an API.<section>.<method>(…) call")
	}
	sc.pos += len("API.")
	section, method := sc.ident(), ""
	if sc.take('.') {
		method = sc.ident()
	}
	if section == "" || method == "" {
		return c, sc.errorf("want API.<section>.<method>")
	}
	c.method = section + "." + method
	if section == "execute" {
		return c, sc.errorf("execute cannot call execute")
	}
	sc.space()
	if !sc.take('(') {
		return c, sc.errorf("want `(` after %s", c.method)
	}
	sc.space()
	c.params = url.Values{}
	if !sc.take(')') {
		params, err := sc.object()
		if err != nil {
			return c, err
		}
		c.params = params
		sc.space()
		if !sc.take(')') {
			return c, sc.errorf("want `)` after the arguments of %s", c.method)
		}
	}
	return c, nil
}

func (sc *scanner) ident() string {
	start := sc.pos
	for sc.pos < len(sc.src) && isIdent(sc.src[sc.pos]) {
		sc.pos++
	}
	return sc.src[start:sc.pos]
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// object reads a JSON object of strings, numbers and booleans as the
// call's parameters.
func (sc *scanner) object() (url.Values, error) {
	if sc.pos >= len(sc.src) || sc.src[sc.pos] != '{' {
		return nil, sc.errorf("want an object literal of parameters")
	}
	dec := json.NewDecoder(strings.NewReader(sc.src[sc.pos:]))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, sc.errorf("parameters: %v", err)
	}
	params := url.Values{}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			params.Set(k, v)
		case json.Number:
			params.Set(k, v.String())
		case bool:
			params.Set(k, map[bool]string{true: "1", false: "0"}[v])
		default:
			return nil, sc.errorf("parameter %q: only strings, numbers and booleans are supported", k)
		}
	}
	sc.pos += int(dec.InputOffset())
	return params, nil
}
