// Package telegramfake is a fake Telegram Bot API server — for tests
// (through internal/platformtest/telegramtest, which adds the testing.TB
// constructor and the scenario driver) and for `chathub demo`'s in-process
// Telegram, without importing package testing into the binary: an
// httptest server on 127.0.0.1 that speaks the Bot API wire format closely
// enough for github.com/go-telegram-bot-api/telegram-bot-api/v5 and for the
// chathub Telegram adapter.
//
// The test acts as Telegram's users through the client-side API (SendText,
// PressButton, ShareContact, SendSticker, SendMedia, Block, Unblock; in a group made
// with AddGroup, SendGroupText), reads what the bot
// sent (Messages, WaitMessages) and injects failures (FailNext, FailAfter,
// SetBlocked, Delay, DelayCalls). Bot-side methods served: getMe, getUpdates (long polling),
// setWebhook, deleteWebhook, sendMessage, sendPhoto, editMessageText,
// editMessageReplyMarkup and answerCallbackQuery.
package telegramfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// BotID is the fake bot's user id; the token starts with it.
const BotID int64 = 7000000001

// BotUsername is the fake bot's username.
const BotUsername = "chathub_test_bot"

// MaxTextLen is Telegram's limit on a message text, in UTF-16 code units.
const MaxTextLen = 4096

// Server is a fake Bot API server. Create it with New in a test (it is
// closed when the test ends) or with Start in a program (close it with
// Close). All methods are safe for concurrent use.
type Server struct {
	t     Owner
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	onSend     func(userID int64, m Sent)                // see SetOnSend
	onEdit     func(userID int64, method string, m Sent) // see SetOnEdit
	onPoll     func(ids []int)                           // see SetOnPoll
	discard    bool                                      // see DiscardMessages
	delivery   *delivery                                 // see DeliverTo; nil: updates wait for getUpdates
	changed    chan struct{}                             // closed and replaced on every state change
	updates    []queued                                  // not yet confirmed by getUpdates offset
	all        map[int]json.RawMessage
	nextUpdate int
	chats      map[int64]*chat
	callbacks  map[string]*callback
	cbByUpdate map[int]string
	webhook    Webhook
	fails      map[string][]failure
	delay      time.Duration
	callDelay  time.Duration            // see DelayCalls
	delays     map[string]time.Duration // per method, over delay
	calls      map[string]int
	requests   []Request
	rate       rateLimit                  // see SetRateLimit
	badPhotos  map[string]bool            // see RejectPhoto
	privacyOff bool                       // see SetPrivacyMode
	polling    map[*http.Request]struct{} // getUpdates calls in progress
	overlaps   []time.Time                // see PollOverlaps
}

// Request is one bot-side API call the server received.
type Request struct {
	Method string
	// Params are the call's parameters as strings (JSON values of objects).
	Params map[string]string
	// Time is when the call arrived.
	Time time.Time
}

// Webhook is the webhook the bot registered; URL is empty when none is set.
type Webhook struct {
	URL    string
	Secret string
}

type queued struct {
	id  int
	raw json.RawMessage
}

type failure struct {
	code       int
	retryAfter int
	skip       int // calls of the method let through before this failure
}

type callback struct {
	userID   int64
	answered bool
	text     string
}

// Owner is what the server needs of whoever runs it: testing.TB is one
// (New), and Start makes one for a program such as `chathub demo`.
type Owner interface {
	Helper()
	// Cleanup registers what to run when the owner is done.
	Cleanup(func())
	// Fatalf reports a failed wait (WaitMessages, WaitEvents, WaitCalls).
	Fatalf(format string, args ...any)
}

// New starts a fake server and closes it when t ends (t is a testing.TB:
// internal/platformtest/telegramtest.New is the tests' way in).
func New(t Owner) *Server {
	t.Helper()
	return newServer(t)
}

// Start starts a fake server outside a test (the in-process Telegram of
// `chathub demo`); Close stops it and everything it started (webhook
// delivery). Its Wait methods panic on a timeout instead of failing a test.
func Start() *Server { return newServer(&program{}) }

// program is the Owner of a server started by Start.
type program struct {
	mu  sync.Mutex
	fns []func()
}

func (p *program) Helper() {}

func (p *program) Cleanup(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fns = append(p.fns, fn)
}

func (p *program) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// close runs the registered cleanups, last first, once.
func (p *program) close() {
	p.mu.Lock()
	fns := p.fns
	p.fns = nil
	p.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func newServer(t Owner) *Server {
	s := &Server{
		t:          t,
		token:      fmt.Sprintf("%d:AA%s", BotID, randomHex(16)),
		changed:    make(chan struct{}),
		all:        map[int]json.RawMessage{},
		nextUpdate: 500000001,
		chats:      map[int64]*chat{},
		callbacks:  map[string]*callback{},
		cbByUpdate: map[int]string{},
		fails:      map[string][]failure{},
		calls:      map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Close shuts the server down; waiting long polls end first. A server of
// Start also stops what it started.
func (s *Server) Close() {
	if p, ok := s.t.(*program); ok {
		p.close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the API endpoint in the form tgbotapi.NewBotAPIWithAPIEndpoint
// wants: "http://127.0.0.1:port/bot%s/%s".
func (s *Server) URL() string { return s.srv.URL + "/bot%s/%s" }

// BaseURL is the server's root, "http://127.0.0.1:port".
func (s *Server) BaseURL() string { return s.srv.URL }

// Token is the only bot token the server accepts.
func (s *Server) Token() string { return s.token }

// FailNext makes the next call of method fail with code: 400, 403, 409 and
// 429 (with parameters.retry_after = retryAfter seconds when > 0) answer
// Telegram's JSON error; 500 answers a JSON error, 502-504 an HTML gateway
// page (as Telegram's front end does); code 0 drops the connection without an
// answer. Several calls queue up in order.
func (s *Server) FailNext(method string, code, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[method] = append(s.fails[method], failure{code: code, retryAfter: retryAfter})
}

// FailAfter lets the next n calls of method through and makes the one after
// them fail with code (as FailNext does): n = 1 fails the second chunk of a
// split message. It queues behind failures already injected for method.
func (s *Server) FailAfter(method string, n, code, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[method] = append(s.fails[method], failure{code: code, retryAfter: retryAfter, skip: max(n, 0)})
}

// Delay makes every later request wait d before it is handled (0 resets).
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// DelayCalls makes every later call of a method other than getUpdates wait
// d before it is handled (0 resets), as a network round trip to Telegram
// would: load tests show the effect of latency on the calls a bot makes
// while getUpdates stays a long poll. Delay, when longer, and DelayMethod
// override it.
func (s *Server) DelayCalls(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callDelay = d
}

// DelayMethod makes every later call of method wait d before it is handled
// (0 resets), overriding Delay for that method. A call whose client goes
// away while it waits is dropped unhandled: a sendMessage held this way and
// abandoned by a killed bot is never delivered.
func (s *Server) DelayMethod(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.delays == nil {
		s.delays = map[string]time.Duration{}
	}
	if d == 0 {
		delete(s.delays, method)
		return
	}
	s.delays[method] = d
}

// Calls is how many times method was called (failed calls included).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Requests returns the calls of method in the order received ("" for all).
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Webhook returns the webhook currently set (empty URL when none).
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// notifyLocked wakes every waiter; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until the state changes, ctx ends or d passes; false when it
// stopped for ctx or d.
func (s *Server) wait(ctx context.Context, ch <-chan struct{}, timer <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	case <-timer:
		return false
	case <-ctx.Done():
		return false
	}
}

type handler func(s *Server, w http.ResponseWriter, r *http.Request, p params)

var methods = map[string]handler{
	"getMe":                  (*Server).getMe,
	"getUpdates":             (*Server).getUpdates,
	"setWebhook":             (*Server).setWebhook,
	"deleteWebhook":          (*Server).deleteWebhook,
	"sendMessage":            (*Server).sendMessage,
	"sendPhoto":              (*Server).sendPhoto,
	"editMessageText":        (*Server).editMessageText,
	"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
	"answerCallbackQuery":    (*Server).answerCallbackQuery,
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok || token != s.token {
		writeError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	p, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	f, delay := s.record(method, p)
	if !sleep(r.Context(), delay) {
		return
	}
	if f != nil {
		s.fail(w, *f)
		return
	}
	h, ok := methods[method]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found: method not found", 0)
		return
	}
	h(s, w, r, p)
}

// splitPath splits "/bot<token>/<method>".
func splitPath(path string) (token, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	return token, method, ok && method != ""
}

// record counts the call and pops an injected failure for it.
func (s *Server) record(method string, p params) (*failure, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if !s.discard {
		s.requests = append(s.requests, Request{Method: method, Params: p, Time: time.Now()})
	}
	delay := s.delay
	if method != "getUpdates" {
		delay = max(delay, s.callDelay)
	}
	if d, ok := s.delays[method]; ok {
		delay = d
	}
	q := s.fails[method]
	if len(q) == 0 {
		return nil, delay
	}
	if q[0].skip > 0 {
		q[0].skip--
		return nil, delay
	}
	f := q[0]
	s.fails[method] = q[1:]
	return &f, delay
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fail answers an injected failure.
func (s *Server) fail(w http.ResponseWriter, f failure) {
	switch {
	case f.code == 0:
		hangUp(w)
	case f.code >= 502 && f.code <= 504:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.code)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>",
			f.code, http.StatusText(f.code), f.code, http.StatusText(f.code))
	default:
		writeError(w, f.code, describe(f), f.retryAfter)
	}
}

func describe(f failure) string {
	switch f.code {
	case http.StatusBadRequest:
		return "Bad Request: injected failure"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusConflict:
		return "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", f.retryAfter)
	case http.StatusInternalServerError:
		return "Internal Server Error"
	}
	return http.StatusText(f.code)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("telegramtest: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: result})
}

func writeError(w http.ResponseWriter, code int, description string, retryAfter int) {
	resp := apiResponse{ErrorCode: code, Description: description}
	if retryAfter > 0 {
		resp.Parameters = &responseParams{RetryAfter: retryAfter}
	}
	writeJSON(w, code, resp)
}

func (s *Server) getMe(w http.ResponseWriter, _ *http.Request, _ params) {
	u := botUser()
	s.mu.Lock()
	u["can_read_all_group_messages"] = s.privacyOff
	s.mu.Unlock()
	writeOK(w, u)
}

func botUser() map[string]any {
	return map[string]any{
		"id": BotID, "is_bot": true, "first_name": "Chathub Test", "username": BotUsername,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
	}
}

// DiscardMessages stops recording the messages the bot sends, the requests
// it makes and the updates it was given: Messages, WaitMessages, Events,
// Requests, Update and CallbackAnswered then find none of the later ones,
// while message ids still advance, Calls still counts, SetOnSend's and
// SetOnEdit's functions still see every message and edit, and each chat's
// newest few messages are kept so that the bot can edit them and
// PressButton sends them with their keyboard. Long load tests use it so
// that the fake's memory does not grow with every update.
func (s *Server) DiscardMessages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = true
}

// SetOnPoll registers fn to be called with the ids of the updates of every
// getUpdates answer, once the answer is written; load tests time the
// updates' way through the bot with it. fn runs outside the server's lock
// and must return quickly.
func (s *Server) SetOnPoll(fn func(ids []int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onPoll = fn
}

// SetOnSend registers fn to be called for every message the bot sends (not
// edits), with the recipient; load tests time replies with it. fn runs under
// the server's lock: it must return quickly and not call the server.
func (s *Server) SetOnSend(fn func(userID int64, m Sent)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSend = fn
}

// SetOnEdit registers fn to be called for every successful edit of a bot
// message, with the recipient, the method (editMessageText or
// editMessageReplyMarkup) and the message as edited; load tests time the
// replies that edit a message with it. fn runs under the server's lock: it
// must return quickly and not call the server.
func (s *Server) SetOnEdit(fn func(userID int64, method string, m Sent)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEdit = fn
}
