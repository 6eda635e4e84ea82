package health

import "context"

// Set is the backing services of one process. A nil or empty Set has no
// outage.
type Set []*Dependency

// Outage checks every service (see Dependency.Check) and, when one is down,
// returns a channel closed once that one answers again; nil when all
// answer. A caller whose work failed asks it to tell an outage (logged once
// by the Dependency, waited out) from a failure of its own (logged and
// retried by the caller).
func (s Set) Outage(ctx context.Context) <-chan struct{} {
	for _, d := range s {
		if d.Check(ctx) != nil {
			if ch := d.Outage(); ch != nil {
				return ch
			}
		}
	}
	return nil
}

// Down reports whether any service is known to be down, without probing.
func (s Set) Down() bool {
	for _, d := range s {
		if d.Down() {
			return true
		}
	}
	return false
}
