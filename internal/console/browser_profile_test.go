package console

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// profileSite is a console with Профиль over links (Telegram offered) and
// Пользователи, served for the browser.
func profileSite(t *testing.T, links *fakeLinks) string {
	t.Helper()
	c, err := New(Config{Auth: consoletest.NewAuth(), Users: siteUsers(),
		Profile: ProfilePages{Links: links, Platforms: []string{account.PlatformTelegram}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// profileLabels are the visible texts the walk goes by, per language.
var profileLabels = map[string]map[string]string{
	"ru": {"profile": "Профиль", "link": "Привязать Telegram", "send": "Отправьте в чате менеджеров",
		"linked": "Привязан: Иван Сидоров (@ivan) (id 4242).", "unlink": "Отвязать Telegram", "unlinked": "Telegram отвязан",
		"users": "Пользователи", "messengers": "Мессенджеры", "unlink_of": "Отвязать Telegram пользователя manager",
		"user_unlinked": "Аккаунт пользователя manager отвязан."},
	"en": {"profile": "Profile", "link": "Link Telegram", "send": "Send this command in the managers' chat",
		"linked": "Linked: Иван Сидоров (@ivan) (id 4242).", "unlink": "Unlink Telegram", "unlinked": "Telegram unlinked",
		"users": "Users", "messengers": "Messengers", "unlink_of": "Unlink Telegram of manager",
		"user_unlinked": "The account of manager was unlinked."},
}

// TestBrowserProfileLink walks account linking in both languages: a
// manager opens Профиль from the header, «Привязать Telegram» shows a
// one-time /link command; once it is sent in the team chat the page shows
// the account without a reload; «Отвязать» removes it. An admin sees the
// link under Пользователи and unlinks it there. Every state is scanned
// with axe.
func TestBrowserProfileLink(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := profileLabels[lang]
			links := newFakeLinks()
			base := profileSite(t, links)
			ctx := newTab(t)
			signIn(t, ctx, base, lang, "manager", consoletest.Password("manager"))
			run(t, ctx,
				chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
				chromedp.Click(`//header//a[normalize-space()="`+l["profile"]+`"]`),
				chromedp.WaitVisible(`//h1[normalize-space()="`+l["profile"]+`"]`),
			)
			scanAccessibility(t, ctx, lang+" /profile")
			run(t, ctx,
				chromedp.Click(button(l["link"])),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "`+l["send"]+`")]`),
			)
			command, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.link-code code`)))
			if err != nil {
				t.Fatal(err)
			}
			code, ok := strings.CutPrefix(command, "/link ")
			if !ok || code != links.codes["manager"].Code {
				t.Fatalf("the page shows %q; the code made is %q", command, links.codes["manager"].Code)
			}
			if p := readPage(t, ctx); p.Path != "/profile" {
				t.Errorf("the code's page is at %q, want /profile", p.Path)
			}
			scanAccessibility(t, ctx, lang+" /profile (code)")
			if lang == "ru" {
				screenshot(t, ctx, "profile-code-"+lang)
			}

			// The manager sends it in the team chat: the page learns it.
			if !links.redeem(code, "4242", "Иван Сидоров (@ivan)") {
				t.Fatal("the code did not redeem")
			}
			run(t, ctx, chromedp.WaitVisible(`//*[@role="status" and starts-with(normalize-space(), "`+l["linked"]+`")]`))
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.link-code').length`)); err != nil || n != 0 {
				t.Errorf("the code still shows after linking (%d, %v)", n, err)
			}
			scanAccessibility(t, ctx, lang+" /profile (linked)")

			run(t, ctx,
				chromedp.Click(button(l["unlink"])),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "`+l["unlinked"]+`")]`),
				chromedp.WaitVisible(button(l["link"])),
			)

			// An admin sees and removes a link under Пользователи.
			if !links.redeem(mustStart(t, links, "manager"), "4242", "Иван Сидоров (@ivan)") {
				t.Fatal("the second code did not redeem")
			}
			admin := newTab(t)
			signIn(t, admin, base, lang, "admin", consoletest.Password("admin"))
			run(t, admin,
				chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
				chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="`+l["users"]+`"]`),
				chromedp.WaitVisible(`//th[normalize-space()="`+l["messengers"]+`"]`),
				chromedp.WaitVisible(`//td[contains(., "Telegram: Иван Сидоров (@ivan) (id 4242)")]`),
			)
			scanAccessibility(t, admin, lang+" /users (links)")
			run(t, admin,
				chromedp.Click(`//button[@aria-label="`+l["unlink_of"]+`"]`),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "`+l["user_unlinked"]+`")]`),
			)
			if got := links.entries(); strings.Join(got, "|") != "manager user.unlink manager telegram|admin user.unlink manager telegram" {
				t.Errorf("audited %v", got)
			}
		})
	}
}

// mustStart makes a Telegram code for name on links.
func mustStart(t *testing.T, links *fakeLinks, name string) string {
	t.Helper()
	c, err := links.StartLink(t.Context(), name, account.PlatformTelegram)
	if err != nil {
		t.Fatal(err)
	}
	return c.Code
}
