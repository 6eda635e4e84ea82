// Package vktest is a fake VK API server for tests: an httptest server on
// 127.0.0.1 that speaks the VK API wire format closely enough for
// github.com/SevereCloud/vksdk/v2 (v2.17.0) and for a hand-written Bots Long
// Poll client.
//
// Methods are served at POST {URL()}<method> with form parameters (the token
// either as access_token or as "Authorization: Bearer", as vksdk sends it) and
// answered with {"response":…} or {"error":{"error_code":N,"error_msg":…,
// "request_params":[…]}}. Implemented: groups.getById,
// groups.getLongPollServer, messages.send (peer_id or peer_ids, random_id
// dedupe, keyboard and length checks; conversations the community is in,
// with replies by forward, see conversations.go), messages.edit,
// messages.sendMessageEventAnswer, users.get, photos.getMessagesUploadServer
// and photos.saveMessagesPhoto (with an upload server at /upload, see
// photos.go; messages.send checks and stores photo attachments), and execute
// with the VKScript subset "return [API.a.b({…}), …];" (see execute.go). The
// long-poll server answers GET {server}?act=a_check&key=&ts=&wait=.
//
// Like VK, the server allows a community token DefaultRateLimit (20) API
// requests per second and answers error 6 beyond that (SetRateLimit changes
// or lifts the limit); an execute is one request however many calls it
// makes, and long polls are not counted. Requests, RateLimited and
// MaxRequestsIn let tests check that a client stayed within the limit.
//
// The client side of a test acts as VK users (SendText, Start, PressButton,
// PressLabel, Allow, Deny…), reads what the bot sent (Messages,
// WaitMessages, Next) and injects failures (FailNext, SetUnreachable,
// FailLongPoll, Delay).
package vktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a new Server.
const (
	// DefaultToken is the community token the server accepts.
	DefaultToken = "vk1.a.test-community-token-0123456789"
	// DefaultGroupID is the community the token belongs to.
	DefaultGroupID = 777
	// APIVersion is the version the server reports in events.
	APIVersion = "5.131"
	// DefaultRateLimit is how many API requests per second a community
	// token may make, as on VK.
	DefaultRateLimit = 20
)

// Server is a fake VK API. Create it with New; it is closed when the test ends.
type Server struct {
	t       testing.TB
	srv     *httptest.Server
	token   string
	groupID int
	done    chan struct{}

	mu          sync.Mutex
	calls       map[string]int
	failNext    map[string][]int
	delay       time.Duration
	unreachable map[int]int
	users       map[int]*user
	msgs        messageStore
	convs       map[int]*conversation // by peer_id (see conversations.go)
	lp          longPoll
	eventAnswer []EventAnswer
	eventSeq    int
	rate        rateLimit
	photos      photoStore
	changed     chan struct{} // closed and replaced on every state change

	onSend func(m Message, deduped bool) // SetOnSend
}

// New starts a fake VK API server for t.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:           t,
		token:       DefaultToken,
		groupID:     DefaultGroupID,
		done:        make(chan struct{}),
		calls:       map[string]int{},
		failNext:    map[string][]int{},
		unreachable: map[int]int{},
		users:       map[int]*user{},
		msgs:        newMessageStore(),
		convs:       map[int]*conversation{},
		rate:        rateLimit{limit: DefaultRateLimit},
		changed:     make(chan struct{}),
	}
	s.lp.key = "lpkey-1"
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.done) // releases long polls that are waiting
	s.srv.Close()
}

// URL is the base method URL for vksdk's api.VK.MethodURL, with a trailing
// slash: "http://127.0.0.1:port/method/".
func (s *Server) URL() string { return s.srv.URL + "/method/" }

// Token is the community access token the server accepts.
func (s *Server) Token() string { return s.token }

// GroupID is the id of the fake community.
func (s *Server) GroupID() int { return s.groupID }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Calls reports how many calls of a method were answered ("messages.send";
// "a_check" counts long-poll requests as they arrive). Calls made inside an
// execute count for their method too, and the execute itself for
// "execute"; Requests counts HTTP requests.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// WaitCalls waits until method was called at least n times; it reports
// whether that happened within timeout.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.calls[method] >= n })
}

// FailNext makes the next call of method fail with VK error code, whether
// it comes alone or inside an execute ("execute" fails a whole execute).
// Calls queue: FailNext twice fails the next two calls.
func (s *Server) FailNext(method string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[method] = append(s.failNext[method], code)
}

// SetUnreachable makes every messages.send to userID fail with code (for
// example 901: the user denied messages). Code 0 makes the user reachable again.
func (s *Server) SetUnreachable(userID, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.unreachable, userID)
		return
	}
	s.unreachable[userID] = code
}

// Delay makes every API method answer after d (long polls are not delayed).
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// notifyLocked wakes everything waiting for a state change; s.mu is held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond (called with s.mu held) is true or timeout passes.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-s.done:
			return false
		}
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/lp":
		s.serveLongPoll(w, r)
	case r.URL.Path == "/upload":
		s.serveUpload(w, r)
	case strings.HasPrefix(r.URL.Path, "/method/"):
		s.serveMethod(w, r, strings.TrimPrefix(r.URL.Path, "/method/"))
	default:
		http.NotFound(w, r)
	}
}

// apiError is a VK API error answer.
type apiError struct {
	code int
	msg  string
}

// errCode builds the error VK answers with code.
func errCode(code int) *apiError { return &apiError{code: code, msg: errorMessages[code]} }

var errorMessages = map[int]string{
	3:   "Unknown method passed",
	5:   "User authorization failed: invalid access_token (4).",
	6:   "Too many requests per second",
	9:   "Flood control",
	10:  "Internal server error",
	12:  "Unable to compile code",
	13:  "Runtime error occurred during code invocation",
	15:  "Access denied",
	18:  "User was deleted or banned",
	29:  "Rate limit reached",
	100: "One of the parameters specified was missing or invalid",
	121: "Invalid hash",
	900: "Can't send messages for users from blacklist",
	901: "Can't send messages for users without permission",
	902: "Can't send messages to this user due to their privacy settings",
	909: "Can't edit this message, because it's too old",
	911: "Keyboard format is invalid",
	914: "Message is too long",
	917: "You don't have access to this chat",
	936: "Contact not found",
	943: "Cannot use this intent",
	944: "Limits overflow for this intent",
}

// methodFunc serves one API method: it returns the response value or an error.
type methodFunc func(s *Server, p url.Values) (any, *apiError)

var methods = map[string]methodFunc{
	"groups.getById":                  (*Server).groupsGetByID,
	"groups.getLongPollServer":        (*Server).groupsGetLongPollServer,
	"messages.send":                   (*Server).messagesSend,
	"messages.edit":                   (*Server).messagesEdit,
	"messages.sendMessageEventAnswer": (*Server).messagesSendMessageEventAnswer,
	"users.get":                       (*Server).usersGet,
	"photos.getMessagesUploadServer":  (*Server).photosGetMessagesUploadServer,
	"photos.saveMessagesPhoto":        (*Server).photosSaveMessagesPhoto,
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, method string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	delay := s.delay
	limited := s.rate.arriveLocked(time.Now())
	s.mu.Unlock()
	if limited {
		s.answer(w, method, r.Form, nil, errCode(6))
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	resp, aerr := s.callMethod(r, method)
	s.answer(w, method, r.Form, resp, aerr)
}

// answer counts the call and writes VK's answer. Counted once answered:
// after WaitCalls, the call's effects (a long-poll position, a stored
// message) are in place.
func (s *Server) answer(w http.ResponseWriter, method string, form url.Values, resp any, aerr *apiError) {
	s.mu.Lock()
	s.calls[method]++
	s.notifyLocked()
	s.mu.Unlock()
	if aerr != nil {
		writeJSON(w, map[string]any{"error": map[string]any{
			"error_code": aerr.code, "error_msg": aerr.msg, "request_params": requestParams(method, form),
		}})
		return
	}
	if res, ok := resp.(executeResult); ok {
		body := map[string]any{"response": res.response}
		if len(res.errors) > 0 {
			body["execute_errors"] = res.errors
		}
		writeJSON(w, body)
		return
	}
	writeJSON(w, map[string]any{"response": resp})
}

func (s *Server) callMethod(r *http.Request, method string) (any, *apiError) {
	if !s.authorized(r) {
		return nil, errCode(5)
	}
	if aerr := s.takeFailure(method); aerr != nil {
		return nil, aerr
	}
	if method == "execute" { // not in methods: it calls them
		return s.execute(r.Form)
	}
	fn, ok := methods[method]
	if !ok {
		return nil, errCode(3)
	}
	return fn(s, r.Form)
}

// takeFailure pops the failure FailNext queued for method, if any.
func (s *Server) takeFailure(method string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.failNext[method]; len(q) > 0 {
		s.failNext[method] = q[1:]
		return errCode(q[0])
	}
	return nil
}

// authorized accepts the token as a form field or a bearer header (vksdk
// v2.17 sends the header).
func (s *Server) authorized(r *http.Request) bool {
	if r.Form.Get("access_token") == s.token {
		return true
	}
	return r.Header.Get("Authorization") == "Bearer "+s.token
}

// requestParams echoes the request like VK does, without the token.
func requestParams(method string, form url.Values) []map[string]string {
	params := []map[string]string{{"key": "method", "value": method}, {"key": "oauth", "value": "1"}}
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "access_token" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		params = append(params, map[string]string{"key": k, "value": form.Get(k)})
	}
	return params
}

// writeJSON writes v as the answer. A value that does not encode is the
// fake's bug (panic); a client that went away before its answer (a killed
// process) is not.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("vktest: encode answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(append(body, '\n'))
}

// groupsGetByID answers groups.getById for the fake community.
func (s *Server) groupsGetByID(url.Values) (any, *apiError) {
	return []map[string]any{{
		"id": s.groupID, "name": "Test community", "screen_name": fmt.Sprintf("club%d", s.groupID),
		"type": "group", "is_closed": 0,
	}}, nil
}
