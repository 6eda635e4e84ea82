package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

func newInboxConsole(t *testing.T, f *fakeHandoffs) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Handoffs: f, Scenarios: ScenarioPages{Catalog: fakeCatalog{bots: []ScenarioBot{{Scenarios: shippedScenarios(t)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

// checkPage GETs target and checks that it shows every string of want and
// none of not.
func checkPage(t *testing.T, h http.Handler, tok, target string, want, not []string) {
	t.Helper()
	w := do(h, "GET", target, tok, nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", target, w.Code)
	}
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("GET %s lacks %q", target, s)
		}
	}
	for _, s := range not {
		if strings.Contains(body, s) {
			t.Errorf("GET %s shows %q", target, s)
		}
	}
}

func TestInboxTabs(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	tests := []struct {
		target    string
		want, not []string
	}{
		{"/inbox", []string{"<h1>Диалоги</h1>", "Анна Петровна", "&#43;79990001122", "Самара", "vip", "У меня вопрос по заказу",
			`class="late"`, `<span class="late-mark">просрочено</span>`, "2 клиента ждут дольше обещанного", "Олег",
			`hx-get="/inbox?tab=waiting&amp;poll=1"`, `hx-disinherit="*"`, `aria-current="page">Ждут ответа <span class="tab-count">2</span>`},
			[]string{"Игорь", "Мария"}},
		{"/inbox?tab=all", []string{"Анна Петровна", "Игорь", "petr"}, []string{"Мария"}},
		{"/inbox?tab=mine", []string{"Вы не ведёте ни одного диалога."}, []string{"Анна Петровна"}},
		{"/inbox?tab=closed", []string{"Мария", "Закрытые запросы"}, []string{"Анна Петровна", `id="inbox-body" hx-get`}},
		{"/inbox?lang=en", []string{"<h1>Conversations</h1>", "overdue", "2 clients wait longer than promised", "Waiting"}, nil},
	}
	for _, tt := range tests {
		checkPage(t, h, tok, tt.target, tt.want, tt.not)
	}
	// Олег waits 3 minutes: not late.
	body := do(h, "GET", "/inbox", tok, nil, nil).Body.String()
	row := regexp.MustCompile(`(?s)<tr[^>]*data-request="2">.*?</tr>`).FindString(body)
	if row == "" || strings.Contains(row, "просрочено") || strings.Contains(row, "late") {
		t.Errorf("a request within the SLA is marked late: %s", row)
	}
	// The menu's badge counts the waiting ones.
	if !strings.Contains(body, "2 запроса ждут ответа, 2 просрочены") {
		t.Errorf("menu badge missing")
	}
	// A poll gets the list alone.
	poll := do(h, "GET", "/inbox?tab=waiting&poll=1", tok, nil, map[string]string{"HX-Request": "true"}).Body.String()
	if strings.Contains(poll, "<h1>") || !strings.Contains(poll, `id="inbox-body"`) || !strings.Contains(poll, "Анна Петровна") {
		t.Errorf("poll fragment: %s", poll)
	}
	for _, bad := range []string{"/inbox?tab=nope", "/inbox?before=x"} {
		if w := do(h, "GET", bad, tok, nil, nil); w.Code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, w.Code)
		}
	}
}

func TestInboxRoles(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	op := auth.Login("operator")
	for _, r := range []struct{ method, target string }{
		{"GET", "/inbox"}, {"GET", "/inbox/1"}, {"GET", "/inbox/1/live"}, {"GET", "/inbox/badge"},
		{"POST", "/inbox/1/take"}, {"POST", "/inbox/1/reply"}, {"POST", "/inbox/1/return"},
	} {
		if w := do(h, r.method, r.target, op, url.Values{"text": {"x"}}, nil); w.Code != http.StatusForbidden {
			t.Errorf("operator %s %s: %d, want 403", r.method, r.target, w.Code)
		}
	}
	if a := f.done(); len(a) != 0 {
		t.Errorf("an operator acted: %v", a)
	}
	if body := do(h, "GET", "/", op, nil, nil).Body.String(); strings.Contains(body, "Диалоги") {
		t.Error("the operator's menu shows Диалоги")
	}
	if body := do(h, "GET", "/", auth.Login("admin"), nil, nil).Body.String(); !strings.Contains(body, `href="/inbox"`) {
		t.Error("the admin's menu lacks Диалоги")
	}
}

func TestInboxHiddenWithoutService(t *testing.T) {
	t.Parallel()
	auth, h := newTestConsole(t, false)
	tok := auth.Login("admin")
	if body := do(h, "GET", "/", tok, nil, nil).Body.String(); strings.Contains(body, `href="/inbox"`) {
		t.Error("the menu offers Диалоги without the hand-off service")
	}
	if w := do(h, "GET", "/inbox/1", tok, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("GET /inbox/1 without the service: %d", w.Code)
	}
}

func TestInboxTakeAndRace(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	w := do(h, "POST", "/inbox/1/take", tok, url.Values{}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox/1?taken=1" {
		t.Fatalf("take: %d %s", w.Code, w.Header().Get("Location"))
	}
	if mine := do(h, "GET", "/inbox?tab=mine", tok, nil, nil).Body.String(); !strings.Contains(mine, "Анна Петровна") {
		t.Error("a taken request is not under Мои")
	}
	if page := do(h, "GET", "/inbox/1?taken=1", tok, nil, nil).Body.String(); !strings.Contains(page, "ведёт manager") ||
		strings.Contains(page, ">Взять<") || !strings.Contains(page, "Запрос ваш.") {
		t.Errorf("after take the page: %s", page)
	}
	// Another manager is first on request 2.
	f.beforeTake = func() {
		f.mu.Lock()
		f.requests[2].Manager, f.requests[2].Status = "petr", handoff.StatusAssigned
		f.mu.Unlock()
	}
	w = do(h, "POST", "/inbox/2/take", tok, url.Values{}, nil)
	if body := w.Body.String(); w.Code != http.StatusConflict || !strings.Contains(body, "Этот запрос уже взял(а) petr.") {
		t.Errorf("lost race: %d\n%s", w.Code, body)
	}
	if w.Header().Get("HX-Replace-Url") != "/inbox/2" {
		t.Errorf("refusal's address: %q", w.Header().Get("HX-Replace-Url"))
	}
	if got := f.done(); len(got) != 1 || got[0] != "manager take 1" {
		t.Errorf("actions: %v", got)
	}
}

func TestInboxReply(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	tests := []struct {
		name, id, text, fail, lang string
		code                       int
		want                       string
		keep                       bool
	}{
		{"sent", "1", "Здравствуйте! Сейчас проверю.", "", "", 200, "Ответ отправлен.", false},
		{"blocked", "1", "Вы здесь?", handoff.FailBlocked, "", 200, "Ответ не доставлен: Клиент заблокировал бота.", true},
		{"gave up en", "1", "Hello?", handoff.FailGaveUp, "en", 200, "Reply not delivered: the messenger did not accept the message after several tries.", true},
		{"empty", "1", "", "", "", 422, "Напишите текст ответа.", false},
		{"too long", "1", strings.Repeat("я", 5000), "", "", 422, "Ответ длиннее, чем принимает Telegram: 5\u00a0000 символов, можно 4\u00a0096.", true},
		{"someone else's", "3", "Привет", "", "", 409, "Этот запрос уже взял(а) petr.", true},
		{"closed", "4", "Привет", "", "", 409, "Запрос закрыт: чат уже у бота.", false},
	}
	for _, tt := range tests {
		f.mu.Lock()
		f.failWith = tt.fail
		f.mu.Unlock()
		target := "/inbox/" + tt.id + "/reply"
		if tt.lang != "" {
			target += "?lang=" + tt.lang
		}
		w := do(h, "POST", target, tok, url.Values{"text": {tt.text}}, nil)
		body := w.Body.String()
		if w.Code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.name, w.Code, tt.code, tt.want)
			continue
		}
		if kept := tt.text != "" && strings.Contains(body, ">"+tt.text+"</textarea>"); kept != tt.keep {
			t.Errorf("%s: text kept in the box = %v, want %v", tt.name, kept, tt.keep)
		}
	}
	page := do(h, "GET", "/inbox/1", tok, nil, nil).Body.String()
	for _, s := range []string{"Здравствуйте! Сейчас проверю.", "Менеджер manager", "отправлено", "не доставлено", "Клиент заблокировал бота"} {
		if !strings.Contains(page, s) {
			t.Errorf("the transcript lacks %q", s)
		}
	}
	if strings.Index(page, "Здравствуйте! Сейчас проверю.") < strings.Index(page, "Вы здесь?") {
		t.Error("the transcript is not newest first")
	}
}

func TestInboxLive(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	page := do(h, "GET", "/inbox/1", tok, nil, nil).Body.String()
	self := regexp.MustCompile(`hx-get="(/inbox/1/live\?[^"]+)"`).FindStringSubmatch(page)
	if self == nil || !strings.Contains(page, `hx-trigger="every 2s"`) {
		t.Fatalf("a live request's page does not poll:\n%s", page)
	}
	poll := map[string]string{"HX-Request": "true"}
	target := strings.ReplaceAll(self[1], "&amp;", "&")
	if w := do(h, "GET", target, tok, nil, poll); w.Code != http.StatusNoContent {
		t.Errorf("an unchanged poll: %d, want 204", w.Code)
	}
	f.clientSays(1, "Алло, вы тут?")
	w := do(h, "GET", target, tok, nil, poll)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Алло, вы тут?") || strings.Contains(w.Body.String(), "<h1>") {
		t.Errorf("a poll after a new message: %d\n%s", w.Code, w.Body.String())
	}
	if closed := do(h, "GET", "/inbox/4", tok, nil, nil).Body.String(); strings.Contains(closed, "/inbox/4/live") || strings.Contains(closed, `action="/inbox/4/reply"`) {
		t.Error("a closed request's page polls or offers a reply")
	}
}

// TestInboxShowsFailingReturns: a return to the bot that fails shows its
// tries on the request's page while it goes on, and why it was given up
// there and in the closed tab.
func TestInboxShowsFailingReturns(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	now := time.Now()
	closed := now.Add(-time.Hour)
	f.add(handoff.Request{ID: 5, ClientID: 15, ClientName: "Пётр", Status: handoff.StatusClosed, ClosedAt: &closed, ClosedBy: "manager",
		CloseReason: handoff.CloseReturnFailed, ReturnError: handoff.FailBlocked, ReturnAttempts: 1}, now.Add(-2*time.Hour))
	f.add(handoff.Request{ID: 6, ClientID: 16, ClientName: "Вера", Status: handoff.StatusReturning, CloseReason: handoff.CloseManager,
		ReturnError: handoff.ReturnNoBot, ReturnAttempts: 3}, now.Add(-time.Hour))
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	tests := []struct {
		target    string
		want, not []string
	}{
		{"/inbox?tab=closed", []string{`<span class="return-failed">Не удалось вернуть боту: клиент заблокировал бота.`}, nil},
		{"/inbox/5", []string{"Не удалось вернуть боту: клиент заблокировал бота. Следующее сообщение клиента получит бот.", "(manager)"}, nil},
		{"/inbox/5?lang=en", []string{"Could not return to the bot: the client blocked the bot."}, nil},
		{"/inbox/6", []string{"Не удаётся вернуть боту: попытка 3 из 8 не удалась (бот этого клиента не запущен)"}, nil},
		{"/inbox/4", nil, []string{"return-failed"}},
	}
	for _, tt := range tests {
		checkPage(t, h, tok, tt.target, tt.want, tt.not)
	}
}

func TestInboxReturn(t *testing.T) {
	t.Parallel()
	f := sampleHandoffs()
	auth, h := newInboxConsole(t, f)
	tok := auth.Login("manager")
	page := do(h, "GET", "/inbox/1", tok, nil, nil).Body.String()
	for _, s := range []string{"Продолжит сценарий: повторит вопрос шага portrait / name", `<option value="portrait">`, "Вернуть боту"} {
		if !strings.Contains(page, s) {
			t.Errorf("the return form lacks %q", s)
		}
	}
	w := do(h, "POST", "/inbox/1/return", tok, url.Values{"scenario": {"portrait"}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox/1?returned=1" {
		t.Fatalf("return: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := do(h, "POST", "/inbox/1/return", tok, url.Values{}, nil); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Запрос закрыт") {
		t.Errorf("second return: %d", w.Code)
	}
	if got := f.done(); len(got) != 1 || got[0] != "manager return 1 portrait" {
		t.Errorf("actions: %v", got)
	}
	if w := do(h, "GET", "/inbox/99", tok, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown request: %d", w.Code)
	}
}

// TestInboxKeysExist: every label Диалоги builds from a value (a status,
// a failure reason, a tab, an author) is in both catalogs.
func TestInboxKeysExist(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, s := range []handoff.Status{handoff.StatusOpen, handoff.StatusAssigned, handoff.StatusReturning, handoff.StatusClosed} {
		keys = append(keys, "inbox.status."+string(s))
	}
	for _, r := range []string{handoff.FailBlocked, handoff.FailTooLong, handoff.FailRefused, handoff.FailGaveUp} {
		keys = append(keys, "inbox.fail."+r)
	}
	for _, r := range []string{handoff.FailBlocked, handoff.FailRefused, handoff.ReturnNoBot, handoff.FailGaveUp} {
		keys = append(keys, "inbox.return_fail."+r)
	}
	keys = append(keys, "inbox.return_failed", "inbox.return_retrying")
	for _, tab := range inboxTabs {
		keys = append(keys, "inbox.tab."+string(tab), "inbox.caption."+string(tab), "inbox.empty."+string(tab))
	}
	for _, s := range []string{crm.MessageQueued, crm.MessageSending, crm.MessageSent, crm.MessageFailed} {
		keys = append(keys, "inbox.msg.status."+s)
	}
	for _, a := range []string{crm.AuthorBot, crm.AuthorSystem, crm.AuthorClient} {
		keys = append(keys, "inbox.author."+a)
	}
	for _, m := range messenger.MediaKinds() {
		keys = append(keys, "inbox.media."+m)
	}
	keys = append(keys, "campaigns.reason.in_handoff", "menu.inbox")
	for _, k := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("key %q is missing from %s", k, l)
			}
		}
	}
	if got := reasonLabel(i18n.Ru, "in_handoff"); got != "в диалоге с менеджером" {
		t.Errorf("in_handoff reads %q", got)
	}
	if got := reasonLabel(i18n.En, "in_handoff"); got != "with a manager" {
		t.Errorf("in_handoff reads %q in English", got)
	}
}

// TestInboxOverviewAndCard: Обзор's tile shows the open requests, those
// over the SLA and the reply times; the client card shows the transcript
// newest first with a link to the live request.
func TestInboxOverviewAndCard(t *testing.T) {
	t.Parallel()
	f := everyPageHandoffs()
	ov := newFakeOverview()
	clients := newFakeClientPages(30)
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Handoffs: f, Overview: OverviewPages{Stats: ov, Campaigns: ov},
		Clients: ClientPages{Clients: clients, Segments: clients, Saver: clients, Editor: clients, Users: clients}})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler()
	tok := auth.Login("manager")
	body := do(h, "GET", "/", tok, nil, nil).Body.String()
	for _, s := range []string{"Открытые запросы", `data-stat="handoffs">4<`, `data-stat="over_sla">2 <span class="late-mark">`,
		`data-stat="p50">4 мин<`, `data-stat="p90">17 мин<`, "По 12 ответам за последние 7 дней.", `href="/inbox"`} {
		if !strings.Contains(body, s) {
			t.Errorf("Обзор lacks %q", s)
		}
	}
	if op := do(h, "GET", "/", auth.Login("operator"), nil, nil).Body.String(); strings.Contains(op, "Открытые запросы") {
		t.Error("an operator sees the hand-off tile")
	}
	card := do(h, "GET", "/clients/3", tok, nil, nil).Body.String()
	for _, s := range []string{"<h2 id=\"card-transcript\">Переписка</h2>", `href="/inbox/5"`, "&lt;script&gt;alert(3)&lt;/script&gt;", "Бот"} {
		if !strings.Contains(card, s) {
			t.Errorf("the card lacks %q", s)
		}
	}
	if strings.Index(card, "alert(3)") > strings.Index(card, "Менеджер ответит здесь") {
		t.Error("the card's transcript is not newest first")
	}
}

// TestMediaKindsInWords: every media kind reads in words, in Russian the
// same words the team chat's forwards use, in English its own; an unknown
// kind reads as an attachment.
func TestMediaKindsInWords(t *testing.T) {
	t.Parallel()
	for _, kind := range messenger.MediaKinds() {
		ru, en := mediaLabel(i18n.Ru, kind), mediaLabel(i18n.En, kind)
		if ru != handoff.MediaName(kind) {
			t.Errorf("%s reads %q in the console, %q in the team chat", kind, ru, handoff.MediaName(kind))
		}
		if en == "" || en == ru {
			t.Errorf("%s reads %q in English", kind, en)
		}
	}
	if got := mediaLabel(i18n.Ru, "hologram"); got != "вложение" {
		t.Errorf("an unknown kind reads %q", got)
	}
}

// TestTranscriptShowsMedia: the card's Переписка and the request's page
// name what a client sent in words, with its caption, in Russian and in
// English.
func TestTranscriptShowsMedia(t *testing.T) {
	t.Parallel()
	f := newFakeHandoffs()
	in := func(media, text string) crm.Message {
		return crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Media: media, Text: text, PlatformMsgID: "77"}
	}
	f.add(handoff.Request{ID: 5, ClientID: 3, ClientName: "Клиент3", Status: handoff.StatusOpen}, time.Now().Add(-time.Minute),
		in(messenger.MediaPhoto, "чек об оплате"), in(messenger.MediaVoice, ""), in(messenger.MediaLocation, ""),
		in(messenger.MediaDocument, "договор"), in("hologram", ""))
	clients := newFakeClientPages(30)
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Handoffs: f,
		Clients: ClientPages{Clients: clients, Segments: clients, Saver: clients, Editor: clients, Users: clients}})
	if err != nil {
		t.Fatal(err)
	}
	h, tok := c.Handler(), auth.Login("manager")
	ru := []string{"[фото] чек об оплате", "[голосовое сообщение]", "[геопозиция]", "[файл] договор", "[вложение]"}
	en := []string{"[photo] чек об оплате", "[voice message]", "[location]", "[file] договор", "[attachment]"}
	for _, page := range []string{"/clients/3", "/inbox/5"} {
		for lang, want := range map[string][]string{"": ru, "?lang=en": en} {
			body := do(h, "GET", page+lang, tok, nil, nil).Body.String()
			for _, s := range want {
				if !strings.Contains(body, s) {
					t.Errorf("%s%s lacks %q", page, lang, s)
				}
			}
		}
	}
}
