package i18n

import (
	"net/http/httptest"
	"slices"
	"testing"
)

// TestCatalogsComplete: every key of every catalog exists in every other,
// plain as plain and plural as plural, and every plural key gives each
// form its language needs.
func TestCatalogsComplete(t *testing.T) {
	t.Parallel()
	for _, a := range Langs {
		text, plural := Keys(a)
		for _, b := range Langs {
			for _, k := range text {
				if _, ok := catalogs[b].text[k]; !ok {
					t.Errorf("key %q is in %s but not in %s", k, a, b)
				}
			}
			for _, k := range plural {
				if _, ok := catalogs[b].plural[k]; !ok {
					t.Errorf("plural key %q is in %s but not in %s", k, a, b)
				}
			}
		}
		for _, k := range plural {
			forms := PluralForms(a, k)
			for _, f := range a.Forms() {
				if forms[f] == "" {
					t.Errorf("%s plural %q lacks the form %s", a, k, f)
				}
			}
			for f := range forms {
				if !slices.Contains(a.Forms(), f) {
					t.Errorf("%s plural %q has form %s, which %s does not use", a, k, f, a)
				}
			}
		}
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang Lang
		n    int64
		want string
	}{
		{Ru, 0, "0 клиентов"}, {Ru, 1, "1 клиент"}, {Ru, 2, "2 клиента"}, {Ru, 4, "4 клиента"},
		{Ru, 5, "5 клиентов"}, {Ru, 11, "11 клиентов"}, {Ru, 12, "12 клиентов"}, {Ru, 14, "14 клиентов"},
		{Ru, 21, "21 клиент"}, {Ru, 22, "22 клиента"}, {Ru, 25, "25 клиентов"}, {Ru, 101, "101 клиент"},
		{Ru, 111, "111 клиентов"}, {Ru, 112, "112 клиентов"}, {Ru, 1000, "1000 клиентов"}, {Ru, 100001, "100001 клиент"},
		{En, 0, "0 clients"}, {En, 1, "1 client"}, {En, 2, "2 clients"}, {En, 21, "21 clients"},
	}
	for _, tt := range tests {
		if got := Plural(tt.lang, "count.clients", tt.n); got != tt.want {
			t.Errorf("Plural(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestTMissingKeyIsVisible(t *testing.T) {
	t.Parallel()
	if got := T(Ru, "no.such.key"); got != "[no.such.key]" {
		t.Errorf("T(missing) = %q", got)
	}
	if got := T(En, "user.signed_in", "anna", "admin"); got != "Signed in as anna (admin)" {
		t.Errorf("T with args = %q", got)
	}
}

func TestFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, cookie string
		want              Lang
		fromQuery         bool
	}{
		{"default", "/", "", Ru, false},
		{"query", "/?lang=en", "", En, true},
		{"query wins over cookie", "/?lang=ru", "en", Ru, true},
		{"cookie", "/", "en", En, false},
		{"unknown query falls to cookie", "/?lang=de", "en", En, false},
		{"unknown cookie", "/", "xx", Ru, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", CookieName+"="+tt.cookie)
			}
			l, q := FromRequest(r)
			if l != tt.want || q != tt.fromQuery {
				t.Errorf("FromRequest = %s, %v; want %s, %v", l, q, tt.want, tt.fromQuery)
			}
		})
	}
}

func FuzzFormOf(f *testing.F) {
	for _, n := range []int64{0, 1, 2, 5, 11, 21, -3} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		for _, l := range Langs {
			if !slices.Contains(l.Forms(), l.FormOf(n)) {
				t.Fatalf("%s FormOf(%d) = %s, not one of its forms", l, n, l.FormOf(n))
			}
		}
	})
}
