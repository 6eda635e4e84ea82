package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/browsertest"
)

// TestUsersAddOperator: on the whole hub an admin adds an operator under
// Пользователи with a generated password shown once; the new operator
// signs in with it in a fresh tab and gets 403 on Пользователи; the change
// is in the audit log under the admin's name. Both languages are scanned
// with axe and screenshotted.
func TestUsersAddOperator(t *testing.T) {
	h := startHub(t, nil)
	admin := h.signIn(t, "admin", "ru")
	roleSelect := `//select[@id=//label[normalize-space()="Роль"]/@for]`
	browsertest.Run(t, admin,
		chromedp.Navigate(h.url+"/users"),
		browsertest.Type(browsertest.ByLabel("Имя пользователя"), "olga"),
		chromedp.SetValue(roleSelect, "operator"),
		chromedp.Click(browsertest.Button("Добавить")),
		chromedp.WaitVisible(chromedp.CSS(`code.secret`)),
	)
	p := browsertest.ReadPage(t, admin)
	if p.Path != "/users" || !strings.Contains(p.Text, "Пользователь olga добавлен с ролью «оператор».") ||
		!strings.Contains(p.Text, "больше он показан не будет") {
		t.Fatalf("after adding: %+v", p)
	}
	password, err := chromedp.Run(admin, chromedp.Text(chromedp.CSS(`code.secret`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(password) < account.MinPasswordLen {
		t.Fatalf("generated password %q", password)
	}
	browsertest.ScanAccessibility(t, admin, "ru /users (password shown)")
	browsertest.Screenshot(t, admin, "users-ru")

	// The password is shown once: the list opened again does not hold it.
	browsertest.Run(t, admin, chromedp.Navigate(h.url+"/users"))
	if p := browsertest.ReadPage(t, admin); strings.Contains(p.Text, password) || !strings.Contains(p.Text, "olga") {
		t.Errorf("the list opened again: %+v", p)
	}

	// The only admin cannot demote themselves: the refusal is in plain words.
	browsertest.Run(t, admin,
		chromedp.SetValue(`//select[@aria-label="Роль пользователя admin"]`, "manager"),
		chromedp.Click(`//tr[th[starts-with(normalize-space(), "admin")]]//button[normalize-space()="Сохранить"]`),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
	)
	if p := browsertest.ReadPage(t, admin); p.Path != "/users" || !strings.Contains(p.Alert, "admin — последний администратор") {
		t.Errorf("demoting the last admin: %+v", p)
	}

	// The new operator signs in with it and may not open Пользователи.
	op := browsertest.NewTab(t)
	browsertest.SignIn(t, op, h.url, "ru", "olga", password)
	browsertest.Run(t, op, chromedpWaitMenu())
	browsertest.Run(t, op, chromedp.Navigate(h.url+"/users"))
	if p := browsertest.ReadPage(t, op); p.Status != 403 || p.H1 != "Недостаточно прав" || strings.Contains(p.Menu, "Пользователи") {
		t.Errorf("operator olga on /users: %+v", p)
	}

	// Audited under the admin's name.
	svc := h.stores.ConsoleAuth.(*account.Service)
	es, err := svc.Audit(t.Context(), account.AuditFilter{Action: "user.add", Limit: 5})
	if err != nil || len(es) == 0 || es[0].Actor != "admin" || es[0].Object != "user olga" {
		t.Errorf("audit of user.add: %+v, %v", es, err)
	}

	// English: the page and the removal confirmation pass the scan.
	en := h.signIn(t, "admin", "en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/users"))
	if p := browsertest.ReadPage(t, en); p.Status != 200 || p.H1 != "Users" || p.Lang != "en" || !strings.Contains(p.Text, "Last sign-in") {
		t.Errorf("English /users: %+v", p)
	}
	browsertest.ScanAccessibility(t, en, "en /users")
	browsertest.Screenshot(t, en, "users-en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/users/olga/remove"))
	if p := browsertest.ReadPage(t, en); p.H1 != "Remove the user?" {
		t.Errorf("English removal confirmation: %+v", p)
	}
	browsertest.ScanAccessibility(t, en, "en /users/olga/remove")
	browsertest.Run(t, en, chromedp.Click(browsertest.Button("Remove")), chromedp.WaitVisible(`//p[contains(., "User olga removed.")]`))
}
