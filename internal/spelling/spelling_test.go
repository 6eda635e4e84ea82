package spelling

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	words := []string{"say", "steps", "first_name", "next", "age", "city", "a"}
	tests := []struct{ in, want string }{
		{"sya", "say"}, {"stpes", "steps"}, {"frist_name", "first_name"}, {"nxet", "next"},
		{"agee", "age"}, {"Ctiy", "city"}, {"b", ""}, {"completely_different", ""}, {"", ""},
		{"age", ""}, // an exact candidate needs no hint
	}
	for _, tt := range tests {
		if got := Closest(tt.in, words); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"город", "горд", 1}, {"", "abc", 3},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
