package e2e

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/platformtest/telegramfake"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// waitRow polls q (one row, one text column) until it reads want.
func waitRow(t *testing.T, db *sql.DB, want, q string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if err = db.QueryRow(q, args...).Scan(&got); err == nil && got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %q (%v), want %q", q, got, err, want)
}

// TestHandoffTeamChatLinkedManager is issue 12's identity story on the
// whole hub: a manager links their Telegram account under Профиль (the
// code sent as /link in the managers' group), then answers a client by
// replying in the group; the request, the reply, the client's responsible
// manager and the audit log name the console login, so «Мои» lists the
// request and the reply-time metrics count one person.
func TestHandoffTeamChatLinkedManager(t *testing.T) {
	const team = -1007770002
	h := startHub(t, func(c *config.Config) { c.TeamChat.ChatID = team })
	h.fake.AddGroup(team, "Менеджеры")
	db := handoffDB(t, h)
	olga := telegramfake.User{ID: 9002, FirstName: "Ольга", LastName: "Смирнова", Username: "olga_s"}

	// Профиль: the code, sent in the group, links Ольга's account.
	tab := h.signIn(t, "manager", "ru")
	browsertest.Run(t, tab,
		chromedp.Click(`//header//a[normalize-space()="Профиль"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Профиль"]`),
		chromedp.Click(browsertest.Button("Привязать Telegram")),
		chromedp.WaitVisible(chromedp.CSS(`.link-code code`)),
	)
	command := evaluate[string](t, tab, `document.querySelector('.link-code code').innerText`)
	if !strings.HasPrefix(command, "/link ") {
		t.Fatalf("the page shows %q", command)
	}
	h.fake.SendGroupText(team, olga, command, 0)
	waitGroup(t, h, team, "✅ Telegram привязан к пользователю manager")
	browsertest.Run(t, tab, chromedp.WaitVisible(`//*[@role="status" and starts-with(normalize-space(), "Привязан: Ольга Смирнова (@olga_s) (id 9002).")]`))
	browsertest.ScanAccessibility(t, tab, "ru /profile (linked on the hub)")

	// A client asks; Ольга answers in the group.
	const user = 7003
	h.fake.AddUser(user)
	d := telegramtest.NewDriver(h.fake)
	d.Start(t, user, "")
	waitText(t, h, user, "Согласны на обработку")
	d.Press(t, user, "Да, согласен")
	waitText(t, h, user, "Как к вам обращаться?")
	h.fake.SendText(user, "/manager Где мой заказ?")
	waitText(t, h, user, "менеджер")
	card := waitGroup(t, h, team, "Где мой заказ?")
	waitRow(t, db, "true", `SELECT (COUNT(*) > 0)::text FROM handoff_posts p JOIN handoffs h ON h.id = p.handoff_id
		JOIN clients c ON c.id = h.client_id WHERE c.platform_user_id = $1`, fmt.Sprint(user))
	h.fake.SendGroupText(team, olga, "Здравствуйте! Заказ в пути.", card.MessageID)
	waitText(t, h, user, "Здравствуйте! Заказ в пути.")

	who := fmt.Sprint(user)
	waitRow(t, db, "manager", `SELECT h.manager FROM handoffs h JOIN clients c ON c.id = h.client_id WHERE c.platform_user_id = $1`, who)
	waitRow(t, db, "manager", `SELECT m.author FROM messages m JOIN clients c ON c.id = m.client_id
		WHERE c.platform_user_id = $1 AND m.author_kind = 'manager'`, who)
	waitRow(t, db, "manager", `SELECT assigned_manager FROM clients WHERE platform_user_id = $1`, who)
	waitRow(t, db, "manager", `SELECT actor FROM audit_log WHERE action = 'handoff.reply' AND details LIKE '%via team chat'`)
	waitGroup(t, h, team, "Отправлено клиенту")

	// «Мои» of the console user lists the request answered from Telegram.
	browsertest.Run(t, tab,
		chromedp.Navigate(h.url+"/inbox?tab=mine"),
		chromedp.WaitVisible(`//a[@aria-current="page" and contains(., "Мои")]`),
		chromedp.WaitVisible(`//table[contains(@class, "inbox")]//td[contains(., "manager")]`),
	)

	// The reply-time metrics count the console login, not a Telegram name.
	deadline := time.Now().Add(30 * time.Second)
	var metrics string
	for time.Now().Before(deadline) {
		metrics = scrape(t, h.url+"/metrics")
		if strings.Contains(metrics, `chathub_handoff_manager_first_replies{manager="manager"} 1`) {
			break
		}
		time.Sleep(time.Second) // the reading is cached for 10 s
	}
	if !strings.Contains(metrics, `chathub_handoff_manager_first_replies{manager="manager"} 1`) || strings.Contains(metrics, "Ольга") {
		t.Errorf("first replies by manager: %q", grepLines(metrics, "chathub_handoff_manager_first_replies"))
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grepLines(s, part string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return out
}
