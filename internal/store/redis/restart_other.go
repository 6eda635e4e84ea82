//go:build !unix

package redis

// lockFile is a held restart slot; none without file locks.
type lockFile struct{}

func (l *lockFile) release() {}

// claimSlot does nothing where flock is not available: no predecessor is
// recognised.
func claimSlot(dir, name, instance string) (*lockFile, string, error) { return nil, "", nil }

func (l *lockFile) abandon() {}
