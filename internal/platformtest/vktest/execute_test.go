package vktest

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/api"
)

// executeRaw runs code and returns the raw answer parts.
func executeRaw(t *testing.T, s *Server, code string) (json.RawMessage, api.ExecuteErrors, error) {
	t.Helper()
	vk := newVK(s, s.Token())
	resp, err := vk.Handler("execute", api.Params{"code": code, "access_token": s.Token(), "v": vk.Version})
	return json.RawMessage(resp.Response), resp.ExecuteErrors, err
}

func TestExecute(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetUnreachable(8, 901)
	code := `return [API.messages.send({"peer_id":5,"message":"Привет, \"мир\"\n<b>&</b>","random_id":1,"dont_parse_links":1}),
		API.messages.send({"peer_id":8,"message":"x","random_id":2}),
		API.nope.nothing({}),
		API.messages.send({"peer_id":6,"message":"\u0434\u0430","random_id":3})];`
	raw, execErrs, err := executeRaw(t, s, code)
	if err != nil {
		t.Fatal(err)
	}
	var res []any
	if err := json.Unmarshal(raw, &res); err != nil || len(res) != 4 {
		t.Fatalf("response %s (%v), want 4 values", raw, err)
	}
	if res[0] == false || res[1] != false || res[2] != false || res[3] == false {
		t.Fatalf("response %s, want id,false,false,id", raw)
	}
	if len(execErrs) != 2 || execErrs[0].Method != "messages.send" || execErrs[0].Code != 901 ||
		execErrs[1].Method != "nope.nothing" || execErrs[1].Code != 3 {
		t.Fatalf("execute_errors = %+v", execErrs)
	}
	if m := s.Messages(5); len(m) != 1 || m[0].Text != "Привет, \"мир\"\n<b>&</b>" || m[0].RandomID != 1 {
		t.Fatalf("messages to 5: %+v", m)
	}
	if m := s.Messages(6); len(m) != 1 || m[0].Text != "да" {
		t.Fatalf("messages to 6: %+v", m)
	}
	if s.Requests() != 1 || s.Calls("execute") != 1 || s.Calls("messages.send") != 3 {
		t.Fatalf("requests %d, execute %d, sends %d", s.Requests(), s.Calls("execute"), s.Calls("messages.send"))
	}
	// A single call returns its value, not an array.
	raw, _, err = executeRaw(t, s, `return API.users.get({"user_ids":"10"});`)
	var users []struct{ ID int }
	if err != nil || json.Unmarshal(raw, &users) != nil || len(users) != 1 || users[0].ID != 10 {
		t.Fatalf("single call = %s, %v", raw, err)
	}
}

func TestExecuteFailNextInside(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.FailNext("messages.send", 9)
	raw, execErrs, err := executeRaw(t, s,
		`return [API.messages.send({"peer_id":1,"message":"a"}),API.messages.send({"peer_id":2,"message":"b"})];`)
	var res []any
	if err != nil || json.Unmarshal(raw, &res) != nil || len(res) != 2 || res[0] != false || res[1] == false ||
		len(execErrs) != 1 || execErrs[0].Code != 9 {
		t.Fatalf("execute = %s, %+v, %v", raw, execErrs, err)
	}
	if len(s.Messages(1)) != 0 || len(s.Messages(2)) != 1 {
		t.Fatal("the failed call delivered, or the next one did not")
	}
	s.FailNext("execute", 10)
	if _, _, err := executeRaw(t, s, `return [];`); apiCode(err) != 10 {
		t.Fatalf("failed execute = %v, want code 10", err)
	}
}

func TestExecuteRejectsOtherCode(t *testing.T) {
	t.Parallel()
	s := New(t)
	tests := []struct {
		name, code string
		want       int
	}{
		{"empty", ``, 12},
		{"no return", `API.messages.send({"peer_id":1,"message":"a"});`, 12},
		{"variables", `var a = API.users.get({"user_ids":"1"}); return a;`, 12},
		{"unquoted keys", `return [API.messages.send({peer_id:1,message:"a"})];`, 12},
		{"expression", `return [API.messages.send({"peer_id":1+1,"message":"a"})];`, 12},
		{"nested object", `return [API.messages.send({"peer_id":1,"message":{"a":1}})];`, 12},
		{"trailing code", `return [API.messages.send({"peer_id":1,"message":"a"})]; return 1;`, 12},
		{"missing bracket", `return [API.messages.send({"peer_id":1,"message":"a"});`, 12},
		{"returnx", `returnx [];`, 12},
		{"nested execute", `return [API.execute.run({})];`, 12},
		{"26 calls", "return [" + strings.TrimSuffix(strings.Repeat(`API.users.get({"user_ids":"1"}),`, 26), ",") + "];", 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := executeRaw(t, s, tt.code); apiCode(err) != tt.want {
				t.Fatalf("execute(%q) = %v, want code %d", tt.code, err, tt.want)
			}
		})
	}
	if s.Calls("messages.send") != 0 || s.Calls("users.get") != 0 {
		t.Fatal("refused code ran calls")
	}
	if _, _, err := executeRaw(t, s, " return\n[ ] ; "); err != nil {
		t.Fatalf("white space: %v", err)
	}
}

// FuzzParseScript: any code parses or is refused without panicking, and
// JSON-encoded arguments always come back exactly.
func FuzzParseScript(f *testing.F) {
	f.Add(`return [API.messages.send({"peer_id":5,"message":"a"})];`, "текст \"с\" \\ кавычками\n\u2028")
	f.Add(`return API.users.get({"user_ids":"1"})`, "</script><b>&amp;")
	f.Add(`return [`, "")
	f.Fuzz(func(t *testing.T, code, text string) {
		_, _ = parseScript(code)
		if !utf8.ValidString(text) {
			return
		}
		args, err := json.Marshal(map[string]any{"peer_id": 5, "message": text, "random_id": 7})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parseScript("return [API.messages.send(" + string(args) + "),API.messages.edit(" + string(args) + ")];")
		if err != nil {
			t.Fatalf("generated code refused: %v", err)
		}
		if len(sc.calls) != 2 || sc.calls[1].method != "messages.edit" {
			t.Fatalf("calls = %+v", sc.calls)
		}
		for _, c := range sc.calls {
			if c.params.Get("message") != text || c.params.Get("peer_id") != "5" || c.params.Get("random_id") != "7" {
				t.Fatalf("params %v, want message %q", c.params, text)
			}
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetRateLimit(4)
	vk := newVK(s, s.Token())
	codes := map[int]int{}
	for range 6 { // at once: the bucket holds 4 (a refill takes 250ms)
		_, err := vk.GroupsGetByID(nil)
		codes[apiCode(err)]++
	}
	if codes[0] != 4 || codes[6] != 2 || s.RateLimited() != 2 || s.Requests() != 6 {
		t.Fatalf("answers %v, refused %d, requests %d; want 4 ok and 2 × error 6", codes, s.RateLimited(), s.Requests())
	}
	time.Sleep(500 * time.Millisecond) // refills 2 requests
	ok := 0
	for range 4 {
		if _, err := vk.GroupsGetByID(nil); err == nil {
			ok++
		}
	}
	if ok < 2 || ok > 3 { // 3 if the sleep overran by 250ms
		t.Fatalf("%d requests allowed after 500ms at 4/s, want 2", ok)
	}
	if got := s.MaxRequestsIn(time.Minute); got != 10 {
		t.Fatalf("MaxRequestsIn(1m) = %d, want all 10", got)
	}
	s.SetRateLimit(0)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := vk.GroupsGetByID(nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestMaxRequestsIn(t *testing.T) {
	t.Parallel()
	s := New(t)
	base := time.Now()
	s.mu.Lock()
	for _, ms := range []int{900, 0, 100, 1000, 1050, 1999, 3000} { // any order
		s.rate.arrivals = append(s.rate.arrivals, base.Add(time.Duration(ms)*time.Millisecond))
	}
	s.mu.Unlock()
	for _, tt := range []struct {
		window time.Duration
		want   int
	}{{time.Second, 4}, {100 * time.Millisecond, 2}, {time.Millisecond, 1}, {time.Hour, 7}} {
		if got := s.MaxRequestsIn(tt.window); got != tt.want {
			t.Errorf("MaxRequestsIn(%s) = %d, want %d", tt.window, got, tt.want)
		}
	}
}

func TestRateLimitCountsExecuteOnce(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetRateLimit(1)
	calls := strings.TrimSuffix(strings.Repeat(`API.messages.send({"peer_id":3,"message":"m"}),`, 25), ",")
	if _, execErrs, err := executeRaw(t, s, "return ["+calls+"];"); err != nil || len(execErrs) != 0 {
		t.Fatalf("execute of 25 sends within a 1/s budget: %v %+v", err, execErrs)
	}
	if len(s.Messages(3)) != 25 {
		t.Fatalf("%d messages, want 25", len(s.Messages(3)))
	}
	if _, _, err := executeRaw(t, s, "return [];"); apiCode(err) != 6 {
		t.Fatalf("second request in the second = %v, want error 6", err)
	}
	if len(s.Polls()) != 0 || s.Requests() != 2 {
		t.Fatalf("requests = %d", s.Requests())
	}
}
