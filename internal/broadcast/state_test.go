package broadcast

import (
	"errors"
	"testing"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	all := []State{Draft, Scheduled, Running, Paused, Done, Cancelled}
	allowed := map[[2]State]bool{
		{Draft, Scheduled}: true, {Draft, Running}: true, {Draft, Cancelled}: true,
		{Scheduled, Running}: true, {Scheduled, Draft}: true, {Scheduled, Cancelled}: true,
		{Running, Paused}: true, {Running, Done}: true, {Running, Cancelled}: true,
		{Paused, Running}: true, {Paused, Cancelled}: true,
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]State{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
			err := checkTransition(1, from, to)
			if want != (err == nil) || (!want && !errors.Is(err, ErrInvalidTransition)) {
				t.Errorf("checkTransition(%s, %s) = %v", from, to, err)
			}
		}
	}
	for _, s := range all {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Final() != (s == Done || s == Cancelled) {
			t.Errorf("%s.Final() wrong", s)
		}
	}
	if State("bogus").Valid() {
		t.Error("bogus state valid")
	}
}
