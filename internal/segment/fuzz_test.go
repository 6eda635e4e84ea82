package segment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
)

// FuzzCompile checks that no input makes the compiler panic, that every
// error is an *Error whose position lies inside the expression, and that a
// compiled segment renders on both dialects with one argument per
// placeholder and evaluates on an empty and a full client without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")`,
		`not ("minor" in tags) and gender != "male"`,
		`completed("portrait", "thanks", ago("2w")) or answered("feedback", "csat")`,
		`attributes.csat <= 3 or attributes["call-time"] == "вечер"`,
		`age in 25..40 and city in ["Москва", "Самара"] and occupation contains "бух"`,
		`birth_date < date("2000-01-01") and consent_at != nil`,
		`segment("adults")`, `agee > 3`, `gender == "robot"`, `city ==`, `(((`, `"\u0000"`, ``,
		`age > 3 ? true : false`, `let x = 1; x`, `[1, 2][0] == 1`, `city?.x`, `-age`, `age > -9223372036854775808`,
		`completed("portrat")`, `answered("portrait","cty")`, `completed("portrait", "city", ago("1d"))`,
		`answered("feedback", "attributes.csat") or answered("feedbak")`,
		`stuck("portrait", "city", ago("7d"), {version: "v3", platform: "vk", source: "promo"})`,
		`dropped("portrait", "city", {since: date("2026-01-01"), platfrom: "vk"}) and subscribed`,
		`stuck("portrait", "city", {since: ago("1d"), since: now()})`, `dropped("portrait", "age", {"version": 1})`,
		`stuck("portrait", "cty", {})`, `dropped("portrait", "city", {source: "a\u0000"})`,
		strings.Repeat(`city == "a" or `, 40) + `subscribed`, strings.Repeat(`age > 1 && `, 60) + `true`,
		strings.Repeat(`(subscribed or `, 20) + `blocked` + strings.Repeat(`)`, 20),
	} {
		f.Add(s)
	}
	c := marina()
	act := marinaActivity
	checked, err := NewCompiler(Config{Scenarios: shipped})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Compile(src)
		_, errChecked := checked.Compile(context.Background(), src)
		if err != nil && errChecked == nil {
			t.Fatalf("Compile(%q) fails (%v) only without the scenario names", src, err)
		}
		for _, err := range []error{err, errChecked} {
			if err != nil {
				checkError(t, src, err)
			}
		}
		if err != nil {
			return
		}
		s = s.At(testNow)
		for _, d := range []Dialect{Postgres, SQLite} {
			w, err := s.SQL(d)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(w.SQL, "?"); got != len(w.Args) {
				t.Fatalf("Compile(%q) on %s: %d placeholders for %d args: %s", src, d, got, len(w.Args), w.SQL)
			}
		}
		for _, cl := range []*crm.Client{c, {}} {
			if _, err := s.Match(cl, act); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// checkError checks that err is an *Error whose position lies inside src.
func checkError(t *testing.T, src string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Compile(%q) = %T %v, want *Error", src, err, err)
	}
	n := utf8.RuneCountInString(src)
	if e.Offset < 0 || e.Offset > n || e.Line < 1 || e.Column < 1 || e.Line > strings.Count(src, "\n")+1 {
		t.Fatalf("Compile(%q): position %d:%d (offset %d) outside the %d characters", src, e.Line, e.Column, e.Offset, n)
	}
	if e.Msg == "" || !strings.HasPrefix(err.Error(), "segment:") {
		t.Fatalf("Compile(%q): malformed error %q", src, err)
	}
}
