package admin

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/handoff/handofftest"
	"github.com/chathub/chathub/internal/messenger"
)

// handoffAPIEnv is an API whose hand-off routes read a Service over an
// in-memory store: client 1 (Анна) with a request anna took and three
// messages, client 2 (Борис) waiting, a closed request of client 3.
type handoffAPIEnv struct {
	*apiEnv
	anna, boris               int64
	taken, waiting, closedReq int64
	msgs                      []int64
}

func newHandoffAPIEnv(t *testing.T) *handoffAPIEnv {
	t.Helper()
	ctx := context.Background()
	st := handofftest.New()
	svc, err := handoff.NewService(handoff.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e := &handoffAPIEnv{apiEnv: &apiEnv{seg: newFakeSegments(), camp: newFakeCampaigns(), logs: &syncBuffer{}}}
	e.anna = st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}, Name: "Анна", Phone: "+79120000000"})
	e.boris = st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.VK, ID: "2"}, Name: "Борис"})
	third := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.VK, ID: "3"}, Name: "Вера"})
	add := func(c int64, q string, at time.Time) int64 {
		id, ok := st.AddRequest(crm.Handoff{ClientID: c, Question: q, CreatedAt: at})
		if !ok {
			t.Fatal("request not added")
		}
		return id
	}
	e.closedReq = add(third, "старый вопрос", now.Add(-3*time.Hour))
	if err := st.CloseHandoff(ctx, e.closedReq, now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.taken = add(e.anna, "где заказ?", now.Add(-time.Hour))
	if _, err := svc.Take(ctx, e.taken, "anna"); err != nil {
		t.Fatal(err)
	}
	e.waiting = add(e.boris, "есть доставка?", now.Add(-10*time.Minute))
	for i, text := range []string{"первое", "второе", "третье"} {
		e.msgs = append(e.msgs, st.AddInbound(e.anna, text, now.Add(time.Duration(i-30)*time.Minute)))
	}
	api, err := NewAPI(APIConfig{
		Token: testToken, Segments: e.seg, SavedSegments: e.seg, Campaigns: e.camp, Control: e.camp, Reports: e.camp,
		Handoffs: svc, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	s.Handle("/api/", api)
	e.srv = httptest.NewServer(s.mux)
	t.Cleanup(e.srv.Close)
	return e
}

type handoffsBody struct {
	Handoffs   []handoffJSON `json:"handoffs"`
	NextBefore int64         `json:"next_before"`
	Error      string        `json:"error"`
	Field      string        `json:"field"`
}

func TestAPIHandoffs(t *testing.T) {
	t.Parallel()
	e := newHandoffAPIEnv(t)
	ids := func(b handoffsBody) []int64 {
		var out []int64
		for _, h := range b.Handoffs {
			out = append(out, h.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		query  string
		status int
		want   []int64
		field  string
	}{
		{"default tab is waiting", "", 200, []int64{e.waiting}, ""},
		{"all live, longest waiting first", "?tab=all", 200, []int64{e.taken, e.waiting}, ""},
		{"mine", "?tab=mine&manager=anna", 200, []int64{e.taken}, ""},
		{"mine of another manager", "?tab=mine&manager=oleg", 200, nil, ""},
		{"closed", "?tab=closed", 200, []int64{e.closedReq}, ""},
		{"closed page", "?tab=closed&before=" + strconv.FormatInt(e.closedReq, 10), 200, nil, ""},
		{"unknown tab", "?tab=new", 400, nil, "tab"},
		{"mine without manager", "?tab=mine", 400, nil, "manager"},
		{"bad limit", "?limit=0", 400, nil, "limit"},
		{"limit too big", "?limit=201", 400, nil, "limit"},
		{"before on a live tab", "?tab=all&before=5", 400, nil, "before"},
		{"bad before", "?tab=closed&before=x", 400, nil, "before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, b := e.do(t, "GET", "/api/handoffs"+tt.query, "")
			body := decode[handoffsBody](t, b)
			if resp.StatusCode != tt.status || body.Field != tt.field {
				t.Fatalf("status %d field %q (%s), want %d %q", resp.StatusCode, body.Field, b, tt.status, tt.field)
			}
			if got := ids(body); tt.status == 200 && !equalIDs(got, tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
		})
	}
	_, b := e.do(t, "GET", "/api/handoffs?tab=all", "")
	body := decode[handoffsBody](t, b)
	h := body.Handoffs[0]
	if h.ClientID != e.anna || h.ClientName != "Анна" || h.Phone != "+79120000000" || h.Status != "assigned" ||
		h.Manager != "anna" || h.Question != "где заказ?" || h.Platform != "telegram" || h.TakenAt == nil || h.Tags == nil {
		t.Fatalf("request = %+v", h)
	}
	if w := body.Handoffs[1].WaitingSeconds; w < 599 || w > 700 {
		t.Fatalf("waiting_seconds = %d, want about 600", w)
	}
	if strings.Contains(e.logs.String(), "Анна") {
		t.Fatalf("personal data in the logs: %s", e.logs.String())
	}
}

func TestAPIHandoffsNeedAuth(t *testing.T) {
	t.Parallel()
	e := newHandoffAPIEnv(t)
	for _, path := range []string{"/api/handoffs", "/api/clients/1/messages"} {
		if resp, _ := e.do(t, "GET", path, "", ""); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d, want 401", path, resp.StatusCode)
		}
	}
}

func TestAPIClientMessages(t *testing.T) {
	t.Parallel()
	e := newHandoffAPIEnv(t)
	type body struct {
		Messages   []messageJSON `json:"messages"`
		NextBefore int64         `json:"next_before"`
		Field      string        `json:"field"`
	}
	get := func(query string, status int) body {
		t.Helper()
		resp, b := e.do(t, "GET", "/api/clients/"+strconv.FormatInt(e.anna, 10)+"/messages"+query, "")
		if resp.StatusCode != status {
			t.Fatalf("%s: status %d (%s), want %d", query, resp.StatusCode, b, status)
		}
		return decode[body](t, b)
	}
	first := get("?limit=2", 200)
	if len(first.Messages) != 2 || first.Messages[0].Text != "третье" || first.Messages[1].Text != "второе" ||
		first.NextBefore != first.Messages[1].ID || first.Messages[0].Direction != crm.DirectionIn {
		t.Fatalf("first page = %+v", first)
	}
	next := get("?limit=2&before="+strconv.FormatInt(first.NextBefore, 10), 200)
	if len(next.Messages) != 1 || next.Messages[0].Text != "первое" || next.NextBefore != 0 {
		t.Fatalf("second page = %+v", next)
	}
	if all := get("", 200); len(all.Messages) != 3 {
		t.Fatalf("default page = %+v", all)
	}
	if bad := get("?limit=500", 400); bad.Field != "limit" {
		t.Fatalf("bad limit = %+v", bad)
	}
	if bad := get("?before=-1", 400); bad.Field != "before" {
		t.Fatalf("bad before = %+v", bad)
	}
	resp, b := e.do(t, "GET", "/api/clients/abc/messages", "")
	if resp.StatusCode != 400 || !strings.Contains(string(b), "client id must be a positive whole number") {
		t.Fatalf("bad id: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/clients/999/messages", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"messages":[]`) {
		t.Fatalf("unknown client: %d %s", resp.StatusCode, b)
	}
}

func TestAPIWithoutHandoffs(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	if resp, _ := e.do(t, "GET", "/api/handoffs", ""); resp.StatusCode != 404 {
		t.Fatalf("GET /api/handoffs without a hand-off service: %d, want 404", resp.StatusCode)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
