package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeClients is an in-memory ClientStore and ChatStates.
type fakeClients struct {
	mu      sync.Mutex
	clients map[int64]*crm.Client
	states  map[messenger.ChatKey]bool
	edits   []postgres.ClientEdit
	calls   []string
}

func newFakeClients() *fakeClients {
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	return &fakeClients{
		clients: map[int64]*crm.Client{7: {ID: 7, Platform: key.Platform, PlatformUserID: key.ID, FirstName: "Анна"}},
		states:  map[messenger.ChatKey]bool{key: true},
	}
}

func (f *fakeClients) ClientByID(_ context.Context, id int64) (*crm.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clients[id], nil
}

func (f *fakeClients) EditClient(_ context.Context, id int64, e postgres.ClientEdit) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clients[id] == nil {
		return false, nil
	}
	f.edits = append(f.edits, e)
	return true, nil
}

func (f *fakeClients) DeleteClient(_ context.Context, key messenger.ChatKey) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "client")
	for id, c := range f.clients {
		if c.Key() == key {
			delete(f.clients, id)
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeClients) DeleteState(_ context.Context, key messenger.ChatKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "state")
	delete(f.states, key)
	return nil
}

// TestClientServiceEditAndErase: edits and erasure reach the stores and
// the audit log names the actor and the client id, never a value.
func TestClientServiceEditAndErase(t *testing.T) {
	t.Parallel()
	store, log := newFakeClients(), &fakeAudit{}
	s := &ClientService{Store: store, States: store, Log: log, Actor: "api"}
	ctx := account.WithActor(context.Background(), "manager")
	boss := "  Ольга  "
	if err := s.Edit(ctx, 7, ClientChange{AddTags: []string{" vip "}, RemoveTags: []string{"old"}, Manager: &boss}); err != nil {
		t.Fatal(err)
	}
	if e := store.edits[0]; e.AddTags[0] != "vip" || e.RemoveTags[0] != "old" || *e.Manager != "Ольга" || e.Now.IsZero() {
		t.Errorf("edit sent to the store: %+v", e)
	}
	if err := s.Edit(ctx, 7, ClientChange{AddTags: []string{"  "}}); !errors.Is(err, ErrBadEdit) {
		t.Errorf("empty tag: %v, want ErrBadEdit", err)
	}
	long := strings.Repeat("я", crm.MaxTextLen+1)
	if err := s.Edit(ctx, 7, ClientChange{Manager: &long}); !errors.Is(err, ErrBadEdit) {
		t.Errorf("long manager: %v, want ErrBadEdit", err)
	}
	if err := s.Edit(ctx, 8, ClientChange{AddTags: []string{"vip"}}); !errors.Is(err, ErrNoClient) {
		t.Errorf("missing client: %v, want ErrNoClient", err)
	}
	if err := s.Erase(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if len(store.clients) != 0 || len(store.states) != 0 {
		t.Errorf("after Erase: clients %v, states %v", store.clients, store.states)
	}
	if got := strings.Join(store.calls, ","); got != "state,client,state" {
		t.Errorf("erase order %s", got)
	}
	if err := s.Erase(ctx, 7); !errors.Is(err, ErrNoClient) {
		t.Errorf("erasing again: %v, want ErrNoClient", err)
	}
	want := []account.AuditEntry{
		{Actor: "manager", Action: "client.edit", Object: "client 7", Details: "tags +1, tags -1, assigned_manager"},
		{Actor: "api", Action: "client.delete", Object: "client 7"},
	}
	if len(log.entries) != len(want) {
		t.Fatalf("audit entries %+v", log.entries)
	}
	for i, e := range log.entries {
		if e != want[i] {
			t.Errorf("audit entry %d = %+v, want %+v", i, e, want[i])
		}
	}
}

// TestAPIDeleteClient: DELETE /api/clients/{id} erases through the client
// service (204), then answers 404; a bad id is 400; the audit names "api".
func TestAPIDeleteClient(t *testing.T) {
	t.Parallel()
	store, log := newFakeClients(), &fakeAudit{}
	e := newAPIEnv(t, testToken)
	api, err := NewAPI(APIConfig{Token: testToken, Segments: e.seg, SavedSegments: e.seg, Campaigns: e.camp,
		Control: e.camp, Reports: e.camp, Clients: &ClientService{Store: store, States: store, Log: log, Actor: "api"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	del := func(path string) int {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, step := range []struct {
		path string
		want int
	}{{"/api/clients/7", 204}, {"/api/clients/7", 404}, {"/api/clients/x", 400}, {"/api/clients/0", 400}} {
		if got := del(step.path); got != step.want {
			t.Errorf("DELETE %s = %d, want %d", step.path, got, step.want)
		}
	}
	if len(log.entries) != 1 || log.entries[0].Actor != "api" || log.entries[0].Action != "client.delete" {
		t.Errorf("audit %+v", log.entries)
	}
	if resp, _ := e.do(t, http.MethodDelete, "/api/clients/7", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("without Clients the route is %d, want 404", resp.StatusCode)
	}
}

// TestClientServiceRecordExport: an export is audited as client.export
// with the kind of filter and the row count: a saved segment by name, but
// never a search text or a segment expression (personal data).
func TestClientServiceRecordExport(t *testing.T) {
	t.Parallel()
	log := &fakeAudit{}
	s := &ClientService{Log: log, Actor: "api"}
	ctx := account.WithActor(context.Background(), "manager")
	s.RecordExport(ctx, ClientExport{Segment: ` segment("vip") `, Searched: true, Rows: 42})
	s.RecordExport(ctx, ClientExport{Segment: `phone == "+79991234567"`, Rows: 1})
	s.RecordExport(ctx, ClientExport{Segment: `segment("vip") and phone == "+79991234567"`, Rows: 1})
	s.RecordExport(context.Background(), ClientExport{Rows: 7, Incomplete: true})
	want := []account.AuditEntry{
		{Actor: "manager", Action: "client.export", Object: "clients", Details: "filter: segment vip, search; rows: 42"},
		{Actor: "manager", Action: "client.export", Object: "clients", Details: "filter: segment expression; rows: 1"},
		{Actor: "manager", Action: "client.export", Object: "clients", Details: "filter: segment expression; rows: 1"},
		{Actor: "api", Action: "client.export", Object: "clients", Details: "filter: none; rows: 7; incomplete"},
	}
	if len(log.entries) != len(want) {
		t.Fatalf("audit entries %+v", log.entries)
	}
	for i, e := range log.entries {
		if e != want[i] {
			t.Errorf("audit entry %d = %+v, want %+v", i, e, want[i])
		}
	}
}
