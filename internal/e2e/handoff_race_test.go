package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// The managers of TestHandoffTwoProcesses: two console accounts and a
// member of the managers' Telegram chat.
var (
	raceManagers = []string{"anna", "boris"}
	raceOlga     = telegramtest.User{ID: 9101, FirstName: "Ольга", LastName: "Смирнова"}
)

// olgaName is Ольга's name as the team chat records it.
const olgaName = "Ольга Смирнова"

// The texts the test reads.
const (
	askName    = "Как к вам обращаться?"
	takenOK    = "Запрос ваш"
	takenByFmt = "Этот запрос уже взял(а) %s."
)

// TestHandoffTwoProcesses is issue 12's "several processes" story on two
// real `chathub run` processes (one PostgreSQL schema, one Redis prefix,
// the same bot in webhook mode behind a round robin, the managers'
// Telegram chat configured, so both run the hand-off Worker and the team
// chat): clients ask for a manager; each request is posted to the team
// chat once; two managers, each in their own browser on a different
// process's console, press «Взять» at the same instant: one wins, the
// other's page names the winner, the database has one manager; the same
// race between the console and a /take in the team chat; the winner's
// reply reaches the client once while both Workers look for replies to
// send; «Вернуть боту» makes the bot re-ask its question once.
func TestHandoffTwoProcesses(t *testing.T) {
	const team = -1007770012
	fake := telegramtest.New(t)
	fake.AddGroup(team, "Менеджеры")
	c := startCluster(t, fake, 2, raceManagers, "MANAGERS_TELEGRAM_CHAT_ID="+strconv.Itoa(team))

	// Six clients ask for a manager: three races console against
	// console, three console against the team chat.
	users := []int64{7201, 7202, 7203, 7204, 7205, 7206}
	reqs := make([]int64, len(users))
	cards := make([]telegramtest.Sent, len(users))
	for i, u := range users {
		question := fmt.Sprintf("Вопрос по заказу %d", i+1)
		reqs[i] = c.askManager(t, u, question)
		cards[i] = c.waitPost(t, team, fmt.Sprintf("Обращение №%d", reqs[i]), question)
	}

	for round := range 3 {
		// anna and boris on different processes, swapped every round.
		a, b := round%2, (round+1)%2
		tabs := []context.Context{c.signIn(t, a, "anna"), c.signIn(t, b, "boris")}
		at := raceConsole(t, tabs, reqs[round], 0, nil)
		winner := c.checkTaken(t, reqs[round], tabs, raceManagers, "")
		t.Logf("round %d: request %d taken by %s (anna on process %d clicked at %+v, boris on process %d at %+v)",
			round+1, reqs[round], winner, a, at[0], b, at[1])
		tab := tabs[0]
		if winner == "boris" {
			tab = tabs[1]
		}
		c.clientWrites(t, team, users[round], round)
		c.replyInConsole(t, tab, users[round], fmt.Sprintf("Здравствуйте! Отвечает %s, клиент %d.", winner, round+1))
		c.returnInConsole(t, tab, users[round], reqs[round])
	}

	// anna's console on one process, Ольга's /take to the other: at the
	// same instant (either may win), as soon as the page has pressed
	// (the console usually wins), and 30 ms before it (the team chat
	// usually wins), so both ways of losing are seen.
	mixed := []struct {
		lead       time.Duration // when /take is posted relative to the click
		afterClick bool          // posted once the page has pressed
	}{{0, false}, {0, true}, {-30 * time.Millisecond, false}}
	for j, race := range mixed {
		k := 3 + j
		con, tg := k%2, (k+1)%2
		tab := c.signIn(t, con, "anna")
		take := fake.SendGroupText(team, raceOlga, "/take", cards[k].MessageID)
		post := func() time.Time {
			if race.afterClick {
				clicked(t, tab)
			}
			sent := time.Now()
			c.deliver(t, tg, take)
			return sent
		}
		at := raceConsole(t, []context.Context{tab}, reqs[k], race.lead, post)
		answer := c.waitTeamAnswer(t, team, take)
		winner := c.checkTaken(t, reqs[k], []context.Context{tab}, []string{"anna"}, olgaName)
		t.Logf("round %d: request %d taken by %s (anna on process %d clicked at %+v, /take posted to process %d at %+v)",
			k+1, reqs[k], winner, con, at[0], tg, at[1])
		want := fmt.Sprintf("✅ Обращение №%d взял(а) %s.", reqs[k], olgaName)
		if winner == "anna" {
			want = fmt.Sprintf("⛔ Обращение №%d уже ведёт anna.", reqs[k])
		}
		if answer.Text != want {
			t.Errorf("the team chat answered the /take with %q, want %q", answer.Text, want)
		}
		c.clientWrites(t, team, users[k], k)
		// Ольга answers in the team chat, through the other process: her
		// reply reaches the client once, or is refused when anna won.
		olga := fmt.Sprintf("Здравствуйте! Отвечает %s, клиент %d.", olgaName, k+1)
		fake.DelayMethod("sendMessage", 1500*time.Millisecond)
		reply := fake.SendGroupText(team, raceOlga, olga, cards[k].MessageID)
		c.deliver(t, con, reply)
		got := c.waitTeamAnswer(t, team, reply)
		fake.DelayMethod("sendMessage", 0)
		if winner == "anna" {
			if want := fmt.Sprintf("⛔ Обращение №%d уже ведёт anna.", reqs[k]); got.Text != want {
				t.Errorf("the team chat answered Ольга's reply to anna's request with %q, want %q", got.Text, want)
			}
			c.replyInConsole(t, tab, users[k], fmt.Sprintf("Здравствуйте! Отвечает anna, клиент %d.", k+1))
			c.returnInConsole(t, tab, users[k], reqs[k])
			continue
		}
		if got.Text != "✓ Отправлено клиенту." {
			t.Errorf("the team chat answered the reply with %q", got.Text)
		}
		waitText(t, &hub{fake: fake}, users[k], olga)
		before := countText(fake, users[k], askName)
		done := fake.SendGroupText(team, raceOlga, "/done", cards[k].MessageID)
		c.deliver(t, tg, done)
		c.waitReturned(t, users[k], reqs[k], before)
	}

	// Give both Workers a few more polls (1 s each) to do anything twice.
	time.Sleep(3 * time.Second)
	for i, u := range users {
		if n := countText(fake, team, fmt.Sprintf("🔔 Обращение №%d\n", reqs[i])); n != 1 {
			t.Errorf("request %d was posted to the team chat %d times", reqs[i], n)
		}
		if n := countText(fake, u, "Здравствуйте! Отвечает"); n != 1 {
			t.Errorf("client %d got %d managers' replies, want 1", u, n)
		}
		if n := countText(fake, team, clientNote(i)); n != 1 {
			t.Errorf("client %d's message was forwarded to the team chat %d times", u, n)
		}
		if n := countText(fake, u, askName); n != 2 {
			t.Errorf("client %d was asked %q %d times, want 2 (before the request and once after the return)", u, askName, n)
		}
	}
	var live int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM handoffs WHERE status <> 'closed'`).Scan(&live); err != nil || live != 0 {
		t.Errorf("live requests at the end: %d (%v)", live, err)
	}
}

// clientWrites: client i (user) writes during the hand-off; the message
// is forwarded to the team chat under the request's post.
func (c *cluster) clientWrites(t *testing.T, team, user int64, i int) {
	t.Helper()
	c.spread(t, c.fake.SendText(user, clientNote(i)))
	c.waitPost(t, team, clientNote(i))
}

// clientNote is what client i writes to the manager.
func clientNote(i int) string { return fmt.Sprintf("Номер заказа 45%02d", i+1) }

// askManager takes a new client to the consent's next question and asks
// for a manager with question; it returns the live request's id.
func (c *cluster) askManager(t *testing.T, user int64, question string) int64 {
	t.Helper()
	h := &hub{fake: c.fake}
	c.fake.AddUser(user)
	c.spread(t, c.fake.SendText(user, "/start"))
	waitText(t, h, user, "Согласны на обработку")
	c.spread(t, c.press(t, user, "Да, согласен"))
	waitText(t, h, user, askName)
	c.spread(t, c.fake.SendText(user, "/manager "+question))
	waitText(t, h, user, "менеджер")
	var id int64
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.db.QueryRow(`SELECT h.id FROM handoffs h JOIN clients c ON c.id = h.client_id
			WHERE c.platform_user_id = $1 AND h.status = 'open' AND h.question = $2`, strconv.FormatInt(user, 10), question).Scan(&id)
		if err == nil {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %d: no open request with the question (%v)", user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// press presses the inline button caption on the newest bot message to
// user that has it and returns the update.
func (c *cluster) press(t *testing.T, user int64, caption string) int {
	t.Helper()
	msgs := c.fake.Messages(user)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].ReplyMarkup == nil {
			continue
		}
		for _, row := range msgs[i].ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				if b.Text == caption && b.CallbackData != "" {
					return c.fake.PressButton(user, msgs[i].MessageID, b.CallbackData)
				}
			}
		}
	}
	t.Fatalf("no message to user %d has a button %q", user, caption)
	return 0
}

// waitPost waits for the bot's post in the team chat containing every
// part.
func (c *cluster) waitPost(t *testing.T, chat int64, parts ...string) telegramtest.Sent {
	t.Helper()
	msgs := c.fake.WaitFor(t, 30*time.Second, func() ([]telegramtest.Sent, bool) {
		for _, m := range c.fake.Messages(chat) {
			if containsAll(m.Text, parts) {
				return []telegramtest.Sent{m}, true
			}
		}
		return nil, false
	}, fmt.Sprintf("a team chat post with %q", parts))
	return msgs[0]
}

// waitTeamAnswer waits for the bot's answer in the team chat to the
// manager's message of update upd.
func (c *cluster) waitTeamAnswer(t *testing.T, chat int64, upd int) telegramtest.Sent {
	t.Helper()
	target := c.fake.GroupMessageID(upd)
	msgs := c.fake.WaitFor(t, 30*time.Second, func() ([]telegramtest.Sent, bool) {
		for _, m := range c.fake.Messages(chat) {
			if m.ReplyTo == target {
				return []telegramtest.Sent{m}, true
			}
		}
		return nil, false
	}, fmt.Sprintf("the team chat's answer to message %d", target))
	return msgs[0]
}

// raceConsole opens request id in every tab and has each press «Взять»
// at one instant (a timer in each page at the same wall-clock time; the
// tabs share the machine's clock) and calls also, when set, lead after that
// instant (before it when negative); it waits until every page shows the
// take's outcome and returns when each racer went relative to the
// instant: the tabs' clicks in order, then the moment also returns (the
// moment its racer went).
func raceConsole(t *testing.T, tabs []context.Context, id int64, lead time.Duration, also func() time.Time) []time.Duration {
	t.Helper()
	for _, tab := range tabs {
		browsertest.Run(t, tab,
			chromedp.Navigate(fmt.Sprintf("%s/inbox/%d", tabURL(t, tab), id)),
			chromedp.WaitVisible(`//form[@class="take"]//button[normalize-space()="Взять"]`),
		)
	}
	at := time.Now().Add(800 * time.Millisecond)
	for _, tab := range tabs {
		if !evaluate[bool](t, tab, fmt.Sprintf(armTake, at.UnixMilli())) {
			t.Fatal("the page has no «Взять» to press")
		}
	}
	var offsets []time.Duration
	var other time.Time
	if also != nil {
		time.Sleep(time.Until(at.Add(lead)))
		other = also()
	}
	for i, tab := range tabs {
		browsertest.Run(t, tab, chromedp.WaitVisible(`//p[@role="status" and contains(., "`+takenOK+`")] | //p[@role="alert"]`))
		ms, err := strconv.ParseInt(evaluate[string](t, tab, `sessionStorage.getItem("clickedAt") || ""`), 10, 64)
		if err != nil {
			t.Fatalf("tab %d never pressed «Взять»", i)
		}
		offsets = append(offsets, time.UnixMilli(ms).Sub(at).Round(time.Millisecond))
	}
	if also != nil {
		offsets = append(offsets, other.Sub(at).Round(time.Millisecond))
	}
	return offsets
}

// clicked waits until tab's page has pressed «Взять» (armTake's note, or
// the page already navigating away with the form).
func clicked(t *testing.T, tab context.Context) {
	t.Helper()
	deadline := time.Now().Add(browsertest.StepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tab, 2*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("clickedAt") || ""`))
		cancel()
		if err != nil || v != "" {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the page never pressed «Взять»")
}

// armTake sets a timer in the page to press «Взять» at a wall-clock time
// (Unix ms), noting the moment in sessionStorage (it survives the form's
// navigation); it reports whether the button is there.
const armTake = `(() => {
	const at = %d;
	const b = document.querySelector("form.take button");
	if (!b) return false;
	sessionStorage.removeItem("clickedAt");
	setTimeout(() => { sessionStorage.setItem("clickedAt", String(Date.now())); b.click(); }, Math.max(0, at - Date.now()));
	return true;
})()`

// tabURL is the origin of the tab's page.
func tabURL(t *testing.T, tab context.Context) string {
	t.Helper()
	return evaluate[string](t, tab, `location.origin`)
}

// checkTaken checks the outcome of a take race on request id: the
// database names one manager, who is the client's responsible manager
// too; the winner's tab (tabs[i] is names[i]'s) says the request is
// theirs, every other tab names the winner. other is the manager racing
// outside the tabs ("" for none). It returns the winner.
func (c *cluster) checkTaken(t *testing.T, id int64, tabs []context.Context, names []string, other string) string {
	t.Helper()
	var manager, assigned, status string
	if err := c.db.QueryRow(`SELECT h.manager, h.status, COALESCE(c.assigned_manager, '') FROM handoffs h
		JOIN clients c ON c.id = h.client_id WHERE h.id = $1`, id).Scan(&manager, &status, &assigned); err != nil {
		t.Fatal(err)
	}
	if status != "assigned" || manager != assigned {
		t.Fatalf("request %d: status %q manager %q, client's manager %q: want assigned to one manager", id, status, manager, assigned)
	}
	if manager != other && !slices.Contains(names, manager) {
		t.Fatalf("request %d taken by %q, who did not race for it", id, manager)
	}
	winners := 0
	for i, tab := range tabs {
		notice := evaluate[string](t, tab, `(document.querySelector('p[role="status"]') || {}).textContent || ""`)
		alert := evaluate[string](t, tab, `(document.querySelector('p[role="alert"]') || {}).textContent || ""`)
		switch {
		case names[i] == manager:
			winners++
			if !strings.Contains(notice, takenOK) || alert != "" {
				t.Errorf("the winner %s's page: notice %q, alert %q", names[i], notice, alert)
			}
		case alert != fmt.Sprintf(takenByFmt, manager):
			t.Errorf("the loser %s's page says %q (notice %q), want %q", names[i], alert, notice, fmt.Sprintf(takenByFmt, manager))
		}
	}
	if manager != other && winners != 1 {
		t.Errorf("%d pages won request %d", winners, id)
	}
	return manager
}

// replyInConsole sends text from the request's page in tab; the client
// gets it. The fake holds every send 1.5 s meanwhile, so both processes'
// Workers poll while the reply is on its way.
func (c *cluster) replyInConsole(t *testing.T, tab context.Context, user int64, text string) {
	t.Helper()
	c.fake.DelayMethod("sendMessage", 1500*time.Millisecond)
	browsertest.Run(t, tab,
		browsertest.Type(`//textarea[@id=//label[normalize-space()="Ответ клиенту"]/@for]`, text),
		chromedp.Click(`//button[normalize-space()="Отправить"]`),
		chromedp.WaitVisible(`//*[@role="status" and contains(., "Ответ отправлен")]`),
	)
	c.fake.DelayMethod("sendMessage", 0)
	waitText(t, &hub{fake: c.fake}, user, text)
}

// returnInConsole presses «Вернуть боту» in tab and waits for the bot to
// re-ask its question and close the request.
func (c *cluster) returnInConsole(t *testing.T, tab context.Context, user, id int64) {
	t.Helper()
	before := countText(c.fake, user, askName)
	browsertest.Run(t, tab,
		chromedp.Click(`//button[normalize-space()="Вернуть боту"]`),
		chromedp.WaitVisible(`//*[@role="status" and contains(., "возвращён боту")]`),
	)
	c.waitReturned(t, user, id, before)
}

// waitReturned waits until the bot asked its question again (the client
// had been asked it before times) and request id is closed.
func (c *cluster) waitReturned(t *testing.T, user, id int64, before int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status string
		err := c.db.QueryRow(`SELECT status FROM handoffs WHERE id = $1`, id).Scan(&status)
		if countText(c.fake, user, askName) > before && err == nil && status == "closed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d after the return: status %q (%v), asked %d times (%d before)",
				id, status, err, countText(c.fake, user, askName), before)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countText counts the bot's messages in chat containing part.
func countText(fake *telegramtest.Server, chat int64, part string) int {
	n := 0
	for _, m := range fake.Messages(chat) {
		if strings.Contains(m.Text, part) {
			n++
		}
	}
	return n
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
