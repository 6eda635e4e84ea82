package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// newProfileConsole is a console with Профиль over links (Telegram
// offered) and Пользователи over the sample accounts.
func newProfileConsole(t *testing.T, links *fakeLinks) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	cfg := Config{Auth: auth, Users: siteUsers()}
	if links != nil {
		cfg.Profile = ProfilePages{Links: links, Platforms: []string{account.PlatformTelegram}}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

func wantBody(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// TestProfilePage: every role opens its own Профиль from the header, with
// the offer to link Telegram; in English too.
func TestProfilePage(t *testing.T) {
	t.Parallel()
	auth, h := newProfileConsole(t, newFakeLinks())
	for _, role := range []string{"admin", "manager", "operator"} {
		w := do(h, "GET", "/profile", auth.Login(role), nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s GET /profile: %d", role, w.Code)
		}
		wantBody(t, role+"'s profile", w.Body.String(), "<h1>Профиль</h1>", "<dd>"+role+"</dd>",
			`<a href="/profile" aria-current="page">Профиль</a>`, "Аккаунты в мессенджерах", "Не привязан",
			`action="/profile/link/telegram"`, ">Привязать Telegram</button>")
	}
	en := do(h, "GET", "/profile?lang=en", auth.Login("manager"), nil, nil).Body.String()
	wantBody(t, "the English profile", en, "<h1>Profile</h1>", "Messenger accounts", "Not linked", ">Link Telegram</button>", "<dd>manager</dd>")
	// Every page links to it.
	wantBody(t, "Обзор", do(h, "GET", "/", auth.Login("operator"), nil, nil).Body.String(), `<a href="/profile">Профиль</a>`)
}

// TestProfileLinkRoundTrip: «Привязать Telegram» shows a one-time code
// and how to send it; its box polls (204 while unused) until the code is
// sent in the team chat, then shows the account; «Отвязать» removes it,
// audited under the user.
func TestProfileLinkRoundTrip(t *testing.T) {
	t.Parallel()
	links := newFakeLinks()
	auth, h := newProfileConsole(t, links)
	token := auth.Login("manager")
	w := do(h, "POST", "/profile/link/telegram", token, url.Values{}, nil)
	body := w.Body.String()
	code := links.codes["manager"].Code
	if w.Code != http.StatusOK || code == "" || w.Header().Get("HX-Replace-Url") != "/profile" {
		t.Fatalf("link: %d, code %q, HX-Replace-Url %q", w.Code, code, w.Header().Get("HX-Replace-Url"))
	}
	until := strconv.FormatInt(links.codes["manager"].Expires.Unix(), 10)
	poll := "/profile/link/telegram/status?poll=1&amp;until=" + until
	wantBody(t, "the code", body, `<code class="secret">/link `+code+`</code>`, "Отправьте в чате менеджеров", "действует 10 минут",
		`hx-get="`+poll+`"`, `hx-trigger="every 3s"`)
	status := strings.ReplaceAll(poll, "&amp;", "&")
	htmx := map[string]string{"HX-Request": "true"}
	if w := do(h, "GET", status, token, nil, htmx); w.Code != http.StatusNoContent {
		t.Errorf("poll before the code is sent: %d, want 204", w.Code)
	}
	if !links.redeem(code, "4242", "Иван Сидоров (@ivan)") {
		t.Fatal("the code did not redeem")
	}
	w = do(h, "GET", status, token, nil, htmx)
	if w.Code != http.StatusOK {
		t.Fatalf("poll after: %d", w.Code)
	}
	wantBody(t, "the linked slot", w.Body.String(), `id="link-telegram"`, "Привязан: Иван Сидоров (@ivan) (id 4242).", ">Отвязать Telegram</button>")
	if strings.Contains(w.Body.String(), "hx-get") {
		t.Error("the linked slot polls on")
	}
	w = do(h, "POST", "/profile/unlink/telegram", token, url.Values{}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/profile?done=unlink&platform=telegram" {
		t.Fatalf("unlink: %d → %q", w.Code, w.Header().Get("Location"))
	}
	wantBody(t, "after unlinking", do(h, "GET", "/profile?done=unlink&platform=telegram", token, nil, nil).Body.String(),
		"Telegram отвязан", ">Привязать Telegram</button>")
	if got := links.entries(); strings.Join(got, "|") != "manager user.unlink manager telegram" {
		t.Errorf("audited %v", got)
	}
	w = do(h, "POST", "/profile/unlink/telegram", token, url.Values{}, nil)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Telegram не привязан.") {
		t.Errorf("unlink again: %d", w.Code)
	}
}

// TestProfileCodeExpires: a poll after the code's time says it expired and
// offers a new one.
func TestProfileCodeExpires(t *testing.T) {
	t.Parallel()
	links := newFakeLinks()
	auth, h := newProfileConsole(t, links)
	token := auth.Login("manager")
	past := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	w := do(h, "GET", "/profile/link/telegram/status?poll=1&until="+past, token, nil, map[string]string{"HX-Request": "true"})
	if w.Code != http.StatusOK {
		t.Fatalf("poll after expiry: %d", w.Code)
	}
	wantBody(t, "the expired slot", w.Body.String(), "Код устарел", ">Привязать Telegram</button>")
}

// TestProfileRefusals: unknown or not offered platforms are 404, a failing
// service the error page, and without a link service the page has no
// messenger accounts and no link routes.
func TestProfileRefusals(t *testing.T) {
	t.Parallel()
	links := newFakeLinks()
	auth, h := newProfileConsole(t, links)
	token := auth.Login("manager")
	for _, target := range []string{"/profile/link/icq", "/profile/link/vk", "/profile/unlink/icq"} {
		if w := do(h, "POST", target, token, url.Values{}, nil); w.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", target, w.Code)
		}
	}
	links.failStart = errFakeDown
	if w := do(h, "POST", "/profile/link/telegram", token, url.Values{}, nil); w.Code != http.StatusInternalServerError {
		t.Errorf("a failing service: %d, want 500", w.Code)
	}
	auth, h = newProfileConsole(t, nil)
	token = auth.Login("manager")
	w := do(h, "GET", "/profile", token, nil, nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Аккаунты в мессенджерах") {
		t.Errorf("without links: %d, messenger accounts shown %v", w.Code, strings.Contains(w.Body.String(), "Аккаунты в мессенджерах"))
	}
	if w := do(h, "POST", "/profile/link/telegram", token, url.Values{}, nil); w.Code != http.StatusNotFound {
		t.Errorf("link without a service: %d, want 404", w.Code)
	}
}

// TestProfileShowsOtherLinks: an account of a platform without a team
// chat (here VK) is still shown and can be unlinked; with no team chat at
// all the page says there is nothing to link.
func TestProfileShowsOtherLinks(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	links := newFakeLinks(account.Link{User: "manager", Platform: account.PlatformVK, PlatformUserID: "77", LinkedAt: time.Now()})
	c, err := New(Config{Auth: auth, Profile: ProfilePages{Links: links}})
	if err != nil {
		t.Fatal(err)
	}
	body := do(c.Handler(), "GET", "/profile", auth.Login("manager"), nil, nil).Body.String()
	wantBody(t, "the profile", body, "<h3>ВКонтакте</h3>", "Привязан: id 77.", ">Отвязать ВКонтакте</button>")
	if strings.Contains(body, "Привязать") {
		t.Error("offers to link a platform without a team chat")
	}
	body = do(c.Handler(), "GET", "/profile", auth.Login("operator"), nil, nil).Body.String()
	wantBody(t, "a profile with nothing to link", body, "Чат менеджеров не настроен")
}

// TestUsersPageLinks: admins see every user's messenger accounts under
// Пользователи and unlink them there (audited under the admin); other
// roles get 403.
func TestUsersPageLinks(t *testing.T) {
	t.Parallel()
	links := newFakeLinks(account.Link{User: "manager", Platform: account.PlatformTelegram, PlatformUserID: "4242",
		DisplayName: "Иван (@ivan)", LinkedAt: time.Now()})
	auth, h := newProfileConsole(t, links)
	token := auth.Login("admin")
	body := do(h, "GET", "/users", token, nil, nil).Body.String()
	wantBody(t, "Пользователи", body, ">Мессенджеры<", "Telegram: Иван (@ivan) (id 4242)",
		`aria-label="Отвязать Telegram пользователя manager"`, `action="/users/manager/unlink/telegram"`, ">нет<")
	for _, role := range []string{"manager", "operator"} {
		if w := do(h, "POST", "/users/manager/unlink/telegram", auth.Login(role), url.Values{}, nil); w.Code != http.StatusForbidden {
			t.Errorf("%s unlinks: %d, want 403", role, w.Code)
		}
	}
	w := do(h, "POST", "/users/manager/unlink/telegram", token, url.Values{}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/users?done=unlink&name=manager" {
		t.Fatalf("unlink: %d → %q", w.Code, w.Header().Get("Location"))
	}
	wantBody(t, "after unlinking", do(h, "GET", "/users?done=unlink&name=manager", token, nil, nil).Body.String(),
		"Аккаунт пользователя manager отвязан.")
	if got := links.entries(); strings.Join(got, "|") != "admin user.unlink manager telegram" {
		t.Errorf("audited %v", got)
	}
	w = do(h, "POST", "/users/manager/unlink/telegram", token, url.Values{}, nil)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "У пользователя manager нет такого аккаунта.") {
		t.Errorf("unlink again: %d", w.Code)
	}
	en := do(h, "GET", "/users?lang=en", token, nil, nil).Body.String()
	wantBody(t, "English Users", en, ">Messengers<", ">none<")
}
