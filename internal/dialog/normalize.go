package dialog

import (
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseNumber reads a number a person typed: "25", " 25 ", "1 500", "36,6".
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, false
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '_':
			return -1
		case ',':
			return '.'
		}
		return r
	}, s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// NormalizeEmail trims and lower-cases an address and checks its shape.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", false
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return "", false
	}
	return s, true
}

// NormalizePhone turns a typed or shared phone number into E.164 ("+79123456789").
// Russian national forms are understood: 8 912 345-67-89, 7912…, 912 345 67 89.
// Other countries need the leading "+".
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	b.Grow(16)
	b.WriteByte('+')
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '\u00a0':
		default:
			return "", false
		}
	}
	out := b.String()
	switch {
	case plus && digits >= 8 && digits <= 15 && out[1] != '0':
		return out, true
	case plus:
		return "", false
	case digits == 11 && (out[1] == '8' || out[1] == '7'):
		return "+7" + out[2:], true
	case digits == 10 && out[1] == '9':
		return "+7" + out[1:], true
	}
	return "", false
}

// ParseDate reads "dd.mm.yyyy" (also d.m.yyyy, dd/mm/yyyy, dd-mm-yyyy) or ISO
// "yyyy-mm-dd" and returns midnight UTC of that day.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 10 {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	s = strings.NewReplacer("/", ".", "-", ".").Replace(s)
	t, err := time.Parse("2.1.2006", s)
	if err != nil || t.Year() < 1000 {
		return time.Time{}, false
	}
	return t, true
}

// CleanText trims a typed answer and removes control characters other than
// newlines and tabs; it reports the length in characters.
func CleanText(s string) (string, int) {
	s = strings.TrimSpace(s)
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && r != '\n' && r != '\t' || r == utf8.RuneError {
				return -1
			}
			return r
		}, s)
	}
	return s, utf8.RuneCountInString(s)
}

// truthy reads a consent-like answer.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "1", "да", "д", "ok", "ок", "согласен", "согласна", "on":
		return true
	}
	return false
}

// ageAt returns full years between birth and now.
func ageAt(birth, now time.Time) int {
	years := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		years--
	}
	return years
}
