// Package i18n holds the console's message catalogs (Russian, the default,
// and English) and the plural rules of both languages.
package i18n

import (
	"fmt"
	"net/http"
	"strings"
)

// Lang is a catalog's language: an ISO 639-1 code.
type Lang string

// The languages: Russian is the default.
const (
	Ru Lang = "ru"
	En Lang = "en"
)

// Default is the language of a request that chose none.
const Default = Ru

// Langs lists every language, the default first.
var Langs = []Lang{Ru, En}

// Parse returns the language of code s and whether it is one of Langs.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return Default, false
}

// CookieName is the cookie holding the chosen language.
const CookieName = "lang"

// FromRequest returns the request's language: ?lang= wins over the lang
// cookie; neither (or an unknown code) gives Default. fromQuery tells
// whether ?lang= chose it (the console then remembers it in the cookie).
func FromRequest(r *http.Request) (l Lang, fromQuery bool) {
	if l, ok := Parse(r.URL.Query().Get("lang")); ok {
		return l, true
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if l, ok := Parse(c.Value); ok {
			return l, false
		}
	}
	return Default, false
}

// Form is a plural form (CLDR names).
type Form string

// The plural forms used by the catalogs' languages: Russian has one, few
// and many; English one and other.
const (
	One   Form = "one"
	Few   Form = "few"
	Many  Form = "many"
	Other Form = "other"
)

// Forms lists the plural forms l's catalog must give for every plural key.
func (l Lang) Forms() []Form {
	if l == Ru {
		return []Form{One, Few, Many}
	}
	return []Form{One, Other}
}

// FormOf is the plural form of n in l: Russian 1, 21, 101 → one; 2–4,
// 22–24 → few; 0, 5–20, 25–30, 11–14 → many; English 1 → one, else other.
func (l Lang) FormOf(n int64) Form {
	if n < 0 {
		n = -n
	}
	if l != Ru {
		if n == 1 {
			return One
		}
		return Other
	}
	d, dd := n%10, n%100
	switch {
	case d == 1 && dd != 11:
		return One
	case d >= 2 && d <= 4 && (dd < 12 || dd > 14):
		return Few
	default:
		return Many
	}
}

// T is the message key in l, formatted with args (fmt verbs) when given.
// A key missing from the catalog shows as itself in brackets, so a gap is
// visible on the page (and TestCatalogsComplete keeps it from shipping).
func T(l Lang, key string, args ...any) string {
	s, ok := catalogs[l].text[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Plural is the plural message key in l for n: the form FormOf(n) with n
// formatted into it ("%d клиентов").
func Plural(l Lang, key string, n int64) string {
	forms, ok := catalogs[l].plural[key]
	if !ok {
		return "[" + key + "]"
	}
	s, ok := forms[l.FormOf(n)]
	if !ok {
		return "[" + key + "]"
	}
	if strings.Contains(s, "%d") {
		return fmt.Sprintf(s, n)
	}
	return s
}

// catalog is one language's messages: plain texts and plural ones by form.
type catalog struct {
	text   map[string]string
	plural map[string]map[Form]string
}

// catalogs are the languages' catalogs: the shared one (catalog_ru.go,
// catalog_en.go) merged with each area's (catalog_<area>.go).
var catalogs = map[Lang]catalog{
	Ru: merge(ru, overviewRu, clientsRu, segmentsRu, campaignsRu, composeRu, scenariosRu, usersRu, tourRu, inboxRu, profileRu),
	En: merge(en, overviewEn, clientsEn, segmentsEn, campaignsEn, composeEn, scenariosEn, usersEn, tourEn, inboxEn, profileEn),
}

// merge joins catalogs; a key given twice is a programming error.
func merge(parts ...catalog) catalog {
	all := catalog{text: map[string]string{}, plural: map[string]map[Form]string{}}
	for _, p := range parts {
		for k, v := range p.text {
			if _, dup := all.text[k]; dup {
				panic("i18n: message key " + k + " defined twice")
			}
			all.text[k] = v
		}
		for k, v := range p.plural {
			if _, dup := all.plural[k]; dup {
				panic("i18n: plural key " + k + " defined twice")
			}
			all.plural[k] = v
		}
	}
	return all
}

// Keys lists l's message keys and its plural keys (for tests and tools).
func Keys(l Lang) (text, plural []string) {
	c := catalogs[l]
	for k := range c.text {
		text = append(text, k)
	}
	for k := range c.plural {
		plural = append(plural, k)
	}
	return text, plural
}

// Has reports whether l's catalog holds key, plain or plural.
func Has(l Lang, key string) bool {
	c := catalogs[l]
	_, t := c.text[key]
	_, p := c.plural[key]
	return t || p
}

// PluralForms returns the forms l's catalog gives for plural key.
func PluralForms(l Lang, key string) map[Form]string { return catalogs[l].plural[key] }
