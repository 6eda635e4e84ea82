package i18n

import "testing"

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    Lang
		n    int64
		want string
	}{
		{Ru, 0, "0"}, {Ru, 999, "999"}, {Ru, 1000, "1\u00a0000"}, {Ru, 1234567, "1\u00a0234\u00a0567"},
		{En, 100000, "100,000"}, {En, -1234, "-1,234"}, {Ru, -999, "-999"},
	} {
		if got := Number(tc.l, tc.n); got != tc.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tc.l, tc.n, got, tc.want)
		}
	}
}
