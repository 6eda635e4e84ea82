package accounttest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// codeFormat is how StartLink shows a code.
var codeFormat = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$`)

func mustStartLink(t *testing.T, e *Env, name, platform string) account.LinkCode {
	t.Helper()
	c, err := e.Svc.StartLink(context.Background(), name, platform)
	if err != nil {
		t.Fatalf("StartLink(%s, %s): %v", name, platform, err)
	}
	return c
}

func mustRedeem(t *testing.T, e *Env, platform, id, display, code string) account.Link {
	t.Helper()
	l, err := e.Svc.RedeemLink(context.Background(), platform, id, display, code)
	if err != nil {
		t.Fatalf("RedeemLink(%s, %s, %q): %v", platform, id, code, err)
	}
	return l
}

func wantLogin(t *testing.T, e *Env, platform, id, want string) {
	t.Helper()
	got, ok, err := e.Svc.LoginOf(context.Background(), platform, id)
	if err != nil || ok != (want != "") || got != want {
		t.Errorf("LoginOf(%s, %s) = %q, %v, %v; want %q", platform, id, got, ok, err, want)
	}
}

func testLinkCode(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	c := mustStartLink(t, e, " Anna ", account.PlatformTelegram)
	if !codeFormat.MatchString(c.Code) || c.Platform != account.PlatformTelegram ||
		!c.Expires.Equal(e.Clock.Now().Add(account.DefaultLinkCodeTTL)) {
		t.Fatalf("StartLink = %+v; want a XXXX-XXXX code expiring in 10 minutes", c)
	}
	wantLogin(t, e, account.PlatformTelegram, "4242", "")
	e.Clock.Advance(time.Minute)
	// Typed back in lower case without the dash.
	l := mustRedeem(t, e, account.PlatformTelegram, "4242", " Анна Петрова (@anna) ", strings.ToLower(strings.ReplaceAll(c.Code, "-", "")))
	if l.User != "anna" || l.PlatformUserID != "4242" || l.DisplayName != "Анна Петрова (@anna)" || !l.LinkedAt.Equal(e.Clock.Now()) {
		t.Errorf("RedeemLink = %+v", l)
	}
	wantLogin(t, e, account.PlatformTelegram, "4242", "anna")
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", c.Code); !errors.Is(err, account.ErrLinkCodeUnknown) {
		t.Errorf("the code used again: %v; want ErrLinkCodeUnknown", err)
	}
	links, err := e.Svc.LinksOf(ctx, "anna")
	if err != nil || len(links) != 1 || links[0].PlatformUserID != "4242" || !links[0].LinkedAt.Equal(e.Clock.Now()) ||
		links[0].DisplayName != "Анна Петрова (@anna)" {
		t.Errorf("LinksOf(anna) = %+v, %v", links, err)
	}
	es, err := e.Svc.Audit(ctx, account.AuditFilter{Action: account.ActionUserLink})
	if err != nil || len(es) != 1 || es[0].Actor != "anna" || es[0].Object != "user anna" || es[0].Details != "telegram 4242" {
		t.Errorf("audit of the link: %+v, %v", es, err)
	}
}

func testLinkCodeExpires(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	c := mustStartLink(t, e, "anna", account.PlatformTelegram)
	e.Clock.Advance(account.DefaultLinkCodeTTL)
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", c.Code); !errors.Is(err, account.ErrLinkCodeExpired) {
		t.Errorf("after 10 minutes: %v; want ErrLinkCodeExpired", err)
	}
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", c.Code); !errors.Is(err, account.ErrLinkCodeUnknown) {
		t.Errorf("the expired code again: %v; want ErrLinkCodeUnknown (used up)", err)
	}
	wantLogin(t, e, account.PlatformTelegram, "4242", "")
}

func testLinkCodeReplaced(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	first := mustStartLink(t, e, "anna", account.PlatformTelegram)
	second := mustStartLink(t, e, "anna", account.PlatformTelegram)
	if first.Code == second.Code {
		t.Fatalf("two codes read %s", first.Code)
	}
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", first.Code); !errors.Is(err, account.ErrLinkCodeUnknown) {
		t.Errorf("the replaced code: %v; want ErrLinkCodeUnknown", err)
	}
	mustRedeem(t, e, account.PlatformTelegram, "4242", "", second.Code)
	wantLogin(t, e, account.PlatformTelegram, "4242", "anna")
}

// testLinkOneAccountOneUser: a platform account links to one user (a new
// link moves it) and a user has one account per platform (a new one
// replaces the old).
func testLinkOneAccountOneUser(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	mustAdd(t, e, "boris", account.RoleManager)
	mustRedeem(t, e, account.PlatformTelegram, "111", "", mustStartLink(t, e, "anna", account.PlatformTelegram).Code)
	mustRedeem(t, e, account.PlatformTelegram, "111", "", mustStartLink(t, e, "boris", account.PlatformTelegram).Code)
	wantLogin(t, e, account.PlatformTelegram, "111", "boris")
	if ls, err := e.Svc.LinksOf(ctx, "anna"); err != nil || len(ls) != 0 {
		t.Errorf("anna's links after the account moved to boris: %+v, %v", ls, err)
	}
	mustRedeem(t, e, account.PlatformTelegram, "222", "", mustStartLink(t, e, "boris", account.PlatformTelegram).Code)
	wantLogin(t, e, account.PlatformTelegram, "111", "")
	wantLogin(t, e, account.PlatformTelegram, "222", "boris")
	if ls, err := e.Svc.Links(ctx); err != nil || len(ls) != 1 || ls[0].User != "boris" || ls[0].PlatformUserID != "222" {
		t.Errorf("Links = %+v, %v; want boris's 222 only", ls, err)
	}
}

func testLinkPlatforms(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	mustAdd(t, e, "boris", account.RoleManager)
	tg := mustStartLink(t, e, "anna", account.PlatformTelegram)
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformVK, "555", "", tg.Code); !errors.Is(err, account.ErrLinkCodeUnknown) {
		t.Errorf("a Telegram code sent from VK: %v; want ErrLinkCodeUnknown", err)
	}
	mustRedeem(t, e, account.PlatformTelegram, "555", "", tg.Code)
	mustRedeem(t, e, account.PlatformVK, "555", "Анна VK", mustStartLink(t, e, "anna", account.PlatformVK).Code)
	mustRedeem(t, e, account.PlatformTelegram, "777", "", mustStartLink(t, e, "boris", account.PlatformTelegram).Code)
	wantLogin(t, e, account.PlatformTelegram, "555", "anna")
	wantLogin(t, e, account.PlatformVK, "555", "anna")
	ls, err := e.Svc.Links(ctx)
	var got []string
	for _, l := range ls {
		got = append(got, l.User+" "+l.Platform+" "+l.PlatformUserID)
	}
	if want := "anna telegram 555,anna vk 555,boris telegram 777"; err != nil || strings.Join(got, ",") != want {
		t.Errorf("Links = %q, %v; want %q", got, err, want)
	}
}

func testUnlink(t *testing.T, e *Env) {
	mustAdd(t, e, "anna", account.RoleManager)
	mustRedeem(t, e, account.PlatformTelegram, "4242", "", mustStartLink(t, e, "anna", account.PlatformTelegram).Code)
	ctx := account.WithActor(context.Background(), "admin")
	if err := e.Svc.Unlink(ctx, "anna", account.PlatformTelegram); err != nil {
		t.Fatal(err)
	}
	wantLogin(t, e, account.PlatformTelegram, "4242", "")
	if err := e.Svc.Unlink(ctx, "anna", account.PlatformTelegram); !errors.Is(err, account.ErrNoLink) {
		t.Errorf("Unlink again: %v; want ErrNoLink", err)
	}
	es, err := e.Svc.Audit(ctx, account.AuditFilter{Action: account.ActionUserUnlink})
	if err != nil || len(es) != 1 || es[0].Actor != "admin" || es[0].Object != "user anna" || es[0].Details != "telegram 4242" {
		t.Errorf("audit of the unlink: %+v, %v", es, err)
	}
}

func testLinkRefusals(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	if _, err := e.Svc.StartLink(ctx, "nobody", account.PlatformTelegram); !errors.Is(err, account.ErrNoUser) {
		t.Errorf("StartLink for no user: %v; want ErrNoUser", err)
	}
	if _, err := e.Svc.StartLink(ctx, "anna", "icq"); err == nil {
		t.Error("StartLink for an unknown platform succeeded")
	}
	c := mustStartLink(t, e, "anna", account.PlatformTelegram)
	for _, id := range []string{"chat-1001234", "-42", "", "0", "12a"} {
		var nl *account.NotLinkableError
		if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, id, "", c.Code); !errors.As(err, &nl) {
			t.Errorf("RedeemLink from %q: %v; want *NotLinkableError", id, err)
		}
	}
	wantLogin(t, e, account.PlatformTelegram, "chat-1001234", "")
	mustRedeem(t, e, account.PlatformTelegram, "4242", "", c.Code) // the refusals left the code alone
}

// testLinkThrottle: unknown codes from one account count like failed
// logins; past MaxFailures even the right code waits.
func testLinkThrottle(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	c := mustStartLink(t, e, "anna", account.PlatformTelegram)
	for i := range account.DefaultMaxFailures {
		if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", "AAAA-AAA"+string(rune('2'+i))); !errors.Is(err, account.ErrLinkCodeUnknown) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	var te *account.ThrottledError
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformTelegram, "4242", "", c.Code); !errors.As(err, &te) {
		t.Fatalf("the right code after %d wrong ones: %v; want *ThrottledError", account.DefaultMaxFailures, err)
	}
	mustRedeem(t, e, account.PlatformTelegram, "4343", "", c.Code) // another account is not held up
	e.Clock.Advance(account.DefaultThrottleBase)
	mustRedeem(t, e, account.PlatformTelegram, "4242", "", mustStartLink(t, e, "anna", account.PlatformTelegram).Code)
}

// testLinkCodeRace: one code sent by two accounts at once links one.
func testLinkCodeRace(t *testing.T, e *Env) {
	mustAdd(t, e, "anna", account.RoleManager)
	c := mustStartLink(t, e, "anna", account.PlatformTelegram)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.Svc.RedeemLink(context.Background(), account.PlatformTelegram, []string{"101", "202"}[i], "", c.Code)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, account.ErrLinkCodeUnknown):
			t.Errorf("the losing redeem: %v; want ErrLinkCodeUnknown", err)
		}
	}
	ls, err := e.Svc.LinksOf(context.Background(), "anna")
	if won != 1 || err != nil || len(ls) != 1 {
		t.Errorf("%d redeems won, links %+v (%v); want one", won, ls, err)
	}
}

func testRemoveUserDropsLinks(t *testing.T, e *Env) {
	ctx := account.WithActor(context.Background(), "cli")
	mustAdd(t, e, "admin", account.RoleAdmin)
	mustAdd(t, e, "anna", account.RoleManager)
	mustRedeem(t, e, account.PlatformTelegram, "4242", "", mustStartLink(t, e, "anna", account.PlatformTelegram).Code)
	pending := mustStartLink(t, e, "anna", account.PlatformVK)
	if err := e.Svc.RemoveUser(ctx, "anna"); err != nil {
		t.Fatal(err)
	}
	wantLogin(t, e, account.PlatformTelegram, "4242", "")
	if _, err := e.Svc.RedeemLink(ctx, account.PlatformVK, "4242", "", pending.Code); !errors.Is(err, account.ErrLinkCodeUnknown) {
		t.Errorf("a removed user's pending code: %v; want ErrLinkCodeUnknown", err)
	}
	mustAdd(t, e, "anna", account.RoleManager) // the name again: a new person, no links
	wantLogin(t, e, account.PlatformTelegram, "4242", "")
}
