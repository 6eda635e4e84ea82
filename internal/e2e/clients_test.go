package e2e

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/segment"
)

// clientsSegmentBox is Клиенты's segment expression box, by its label.
func clientsSegmentBox(label string) string {
	return `//textarea[@id=//label[normalize-space()="` + label + `"]/@for]`
}

// TestHubClients: a manager finds a client who talked to the Telegram bot,
// sees a segment's live count and a typo's error with its position, saves
// the segment, opens the card, adds a tag and deletes the client after
// confirming; the client's CRM data and dialog state are gone and the
// audit log names the manager. The pages pass the accessibility scan in Russian and English.
func TestHubClients(t *testing.T) {
	h := startHub(t, nil)
	ctx := context.Background()
	const user = 5001
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "5001"}
	h.fake.SetUser(telegramtest.User{ID: user, FirstName: "Людмила", LastName: "Соколова", Username: "lyuda_s", LanguageCode: "ru"})
	tg := telegramtest.NewDriver(h.fake)
	tg.Start(t, user, "")
	tg.Replies(t, user, 1)
	tg.Press(t, user, "Да, согласен")
	tg.Replies(t, user, 1)
	tg.Text(t, user, "Людмила")
	tg.Replies(t, user, 1) // the age question: the conversation is under way
	for i, name := range []string{"<script>alert(1)</script>", "Борис"} {
		if _, err := h.stores.CRM.ApplyChanges(ctx, messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.Itoa(700 + i)},
			&crm.Changes{Now: time.Now(), Profile: &messenger.Profile{FirstName: name}}); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := h.stores.CRM.GetClient(ctx, key)
	if err != nil || cl == nil {
		t.Fatalf("the Telegram client is not stored: %v", err)
	}
	if st, err := h.stores.State.LoadState(ctx, key); err != nil || st.Rev == 0 {
		t.Fatalf("no dialog state before deletion: %+v, %v", st, err)
	}

	// The client's own /forget goes through the same erasure.
	const forgetter = 5002
	fkey := messenger.ChatKey{Platform: messenger.Telegram, ID: "5002"}
	tg.Start(t, forgetter, "")
	tg.Replies(t, forgetter, 1)
	tg.Press(t, forgetter, "Да, согласен")
	tg.Replies(t, forgetter, 1)
	tg.Text(t, forgetter, "/forget")
	tg.Replies(t, forgetter, 1)
	tg.Press(t, forgetter, "Да, удалить")
	if r := tg.Replies(t, forgetter, 1); !strings.Contains(r[0].Text, "удалены") {
		t.Errorf("/forget answered %q", r[0].Text)
	}
	if got, err := h.stores.CRM.GetClient(ctx, fkey); err != nil || got != nil {
		t.Errorf("client after /forget: %+v, %v", got, err)
	}
	if st, err := h.stores.State.LoadState(ctx, fkey); err != nil || st.Data != nil {
		t.Errorf("conversation after /forget: %+v, %v", st, err)
	}

	tab := h.signIn(t, "manager", "ru")
	browsertest.Run(t, tab,
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="Клиенты"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Клиенты"]`),
		chromedp.WaitVisible(`//div[@id="clients-status"]//strong[normalize-space()="3 клиента"]`),
	)
	if p := browsertest.ReadPage(t, tab); !strings.Contains(p.Text, "<script>alert(1)</script>") {
		t.Errorf("Клиенты: %+v; want the <script> name as text and 3 clients", p)
	}
	browsertest.Run(t, tab,
		browsertest.Type(browsertest.ByLabel("Поиск"), "людмила"),
		chromedp.Click(browsertest.Button("Показать")),
		chromedp.WaitVisible(`//a[normalize-space()="Сбросить"]`),
	)
	if p := browsertest.ReadPage(t, tab); !strings.Contains(p.Text, "Людмила Соколова") || strings.Contains(p.Text, "Борис") {
		t.Errorf("search: %+v", p)
	}
	const typo = "subscribed and city =="
	var se *segment.Error
	if _, err := h.stores.CRM.CompileSegment(ctx, typo); !errors.As(err, &se) {
		t.Fatalf("CompileSegment(%q) = %v, want a *segment.Error", typo, err)
	}
	browsertest.Run(t, tab,
		browsertest.Type(clientsSegmentBox("Сегмент"), typo),
		chromedp.WaitVisible(`//div[@id="clients-status"]//p[contains(., "строка 1, столбец `+strconv.Itoa(se.Column)+`)")]`),
		chromedp.WaitVisible(`//div[@id="clients-status"]//pre/span[@class="caret"][.="`+strings.Repeat(" ", se.Column-1)+`^"]`),
	)
	browsertest.ScanAccessibility(t, tab, "ru /clients (segment error)")
	browsertest.Run(t, tab,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("clients-segment").value = ""`),
		browsertest.Type(clientsSegmentBox("Сегмент"), "subscribed"),
		chromedp.WaitVisible(`//div[@id="clients-status"]//p[contains(., "1 клиент")]`),
		chromedp.Click(browsertest.Button("Показать")),
		chromedp.WaitVisible(`//summary[normalize-space()="Сохранить как сегмент"]`),
		chromedp.WaitVisible(`//div[@id="clients-status"]//strong[normalize-space()="1 клиент"]`),
	)
	browsertest.ScanAccessibility(t, tab, "ru /clients")
	browsertest.Screenshot(t, tab, "clients-ru")
	browsertest.Run(t, tab,
		chromedp.Click(`//summary[normalize-space()="Сохранить как сегмент"]`),
		browsertest.Type(browsertest.ByLabel("Название сегмента"), "podpischiki"),
		chromedp.Click(browsertest.Button("Сохранить сегмент")),
		chromedp.WaitVisible(`//p[normalize-space()="Сегмент «podpischiki» сохранён."]`),
		// The count above the table comes in after the page: let it land
		// before a click is aimed at the table.
		chromedp.WaitVisible(`//div[@id="clients-status"]//strong[normalize-space()="1 клиент"]`),
	)
	if d, err := h.stores.CRM.GetSegment(ctx, "podpischiki"); err != nil || d.Expression != "subscribed" {
		t.Errorf("saved segment: %+v, %v", d, err)
	}

	browsertest.Run(t, tab,
		chromedp.Click(`//table//a[normalize-space()="Людмила Соколова"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Людмила Соколова"]`),
		browsertest.Type(browsertest.ByLabel("Новый тег"), "vip"),
		chromedp.Click(browsertest.Button("Добавить тег")),
		chromedp.WaitVisible(`//ul[@class="tags"]//span[normalize-space()="vip"]`),
	)
	p := browsertest.ReadPage(t, tab)
	for _, want := range []string{"Изменения сохранены", "Людмила", "consent", "first_name", "portrait", "lyuda_s"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("card lacks %q: %s", want, p.Text)
		}
	}
	browsertest.ScanAccessibility(t, tab, "ru /clients/{id}")
	browsertest.Screenshot(t, tab, "client-card-ru")
	browsertest.Run(t, tab,
		chromedp.Click(`//a[normalize-space()="Удалить клиента…"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Удаление клиента"]`),
	)
	browsertest.ScanAccessibility(t, tab, "ru /clients/{id}/delete")
	browsertest.Run(t, tab,
		chromedp.Click(browsertest.Button("Удалить навсегда")),
		chromedp.WaitVisible(`//p[contains(., "Клиент удалён")]`),
	)
	if p := browsertest.ReadPage(t, tab); strings.Contains(p.Text, "Людмила") {
		t.Errorf("the deleted client is still listed: %s", p.Text)
	}

	if got, err := h.stores.CRM.GetClient(ctx, key); err != nil || got != nil {
		t.Errorf("client after deletion: %+v, %v", got, err)
	}
	if answers, err := h.stores.CRM.Answers(ctx, cl.ID, 10); err != nil || len(answers) != 0 {
		t.Errorf("answers after deletion: %+v, %v", answers, err)
	}
	if st, err := h.stores.State.LoadState(ctx, key); err != nil || st.Rev != 0 || st.Data != nil {
		t.Errorf("dialog state after deletion: %+v, %v", st, err)
	}
	users := h.stores.ConsoleAuth.(*account.Service)
	for _, action := range []string{"segment.save", "client.edit", "client.delete"} {
		entries, err := users.Audit(ctx, account.AuditFilter{Action: action})
		if err != nil || len(entries) != 1 || entries[0].Actor != "manager" || (action != "segment.save" && entries[0].Object != "client "+strconv.FormatInt(cl.ID, 10)) {
			t.Errorf("audit %s: %+v, %v", action, entries, err)
		}
	}

	en := h.signIn(t, "manager", "en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/clients"),
		chromedp.WaitVisible(`//h1[normalize-space()="Clients"]`),
		chromedp.WaitVisible(`//div[@id="clients-status"]//strong[normalize-space()="2 clients"]`),
	)
	browsertest.ScanAccessibility(t, en, "en /clients")
	browsertest.Screenshot(t, en, "clients-en")
	browsertest.Run(t, en,
		chromedp.Click(`//table//a[normalize-space()="Борис"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Борис"]`),
	)
	browsertest.ScanAccessibility(t, en, "en /clients/{id}")

	op := h.signIn(t, "operator", "ru")
	browsertest.Run(t, op, chromedp.Navigate(h.url+"/clients"))
	if p := browsertest.ReadPage(t, op); p.Status != 403 {
		t.Errorf("operator /clients: %+v", p)
	}
}
