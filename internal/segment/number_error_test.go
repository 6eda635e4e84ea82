package segment

import (
	"errors"
	"strings"
	"testing"
)

// TestNumberLiteralErrors: a number literal Go cannot hold is reported at
// its first character in the segment's own words, never with strconv's.
func TestNumberLiteralErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`age > 99999999999999999999`, `segment:1:7: number 99999999999999999999 is out of range`},
		{`age > 9_999_999_999_999_999_999`, `segment:1:7: number 9_999_999_999_999_999_999 is out of range`},
		{`subscribed and attributes.csat > 1e999`, `segment:1:34: number 1e999 is out of range`},
		{`age in 1..99999999999999999999`, `segment:1:11: number 99999999999999999999 is out of range`},
		{`age > 0x1FFFFFFFFFFFFFFFF`, `segment:1:7: number 0x1FFFFFFFFFFFFFFFF is out of range`},
		{"subscribed and\n  age < 123456789012345678901234567890", `segment:2:9: number 123456789012345678901234567890 is out of range`},
		{`city == "Москва" and age > 99999999999999999999`, `segment:1:28: number 99999999999999999999 is out of range`},
		{`age > 9223372036854775807`, `segment:1:7: 9223372036854775807 is out of range for age`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) = %v, want *Error %q", tt.src, err, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "strconv") {
				t.Errorf("error %q quotes strconv", err)
			}
		})
	}
}
