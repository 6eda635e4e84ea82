package crm

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"  vip ", "vip", false},
		{"клиент-2025", "клиент-2025", false},
		{"", "", true},
		{"   ", "", true},
		{strings.Repeat("я", MaxTextLen), strings.Repeat("я", MaxTextLen), false},
		{strings.Repeat("я", MaxTextLen+1), "", true},
		{"a\nb", "", true},
	}
	for _, tt := range tests {
		got, err := CheckTag(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("CheckTag(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadTag) {
			t.Errorf("CheckTag(%q): %v does not wrap ErrBadTag", tt.in, err)
		}
	}
}
