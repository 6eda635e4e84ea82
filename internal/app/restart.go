package app

import (
	"context"
	"os"
	"path/filepath"
)

// restartDir holds the restart slot files (redis.Store.ClaimRestart):
// chathub under the system's temporary directory ($TMPDIR).
func restartDir() string { return filepath.Join(os.TempDir(), "chathub") }

// claimRestart lets this process recognise a predecessor on the same host
// that died holding chat turns, so they are taken at once; failing that,
// they are taken once its liveness expires. It only logs a failure.
func (r *Runtime) claimRestart(ctx context.Context) {
	n, err := r.stores.State.ClaimRestart(ctx, restartDir())
	switch {
	case err != nil:
		r.logger.Warn("recognising a previous process on this host failed; its chats are taken once its liveness expires", "err", err)
	case n > 0:
		r.logger.Info("previous process on this host stopped; its chats are taken over at once", "instance", r.stores.State.Instance())
	}
}
