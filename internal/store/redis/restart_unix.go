//go:build unix

package redis

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// restartSlots is how many processes of one deployment on one host can
// each hold a restart slot; a process finding every slot taken runs
// without one.
const restartSlots = 16

// lockFile is a held restart slot.
type lockFile struct {
	f    *os.File
	path string
}

// release gives the slot back on a clean stop: the file is removed (the
// liveness key is deleted too, so there is nothing for a successor to
// recognise) and unlocked. A process that dies leaves the file, locked
// until the kernel lets go. A process that opened the file just before it
// was removed may still lock it; it then holds a slot nobody else can find,
// which only means its own death is not recognised by a successor (its
// turns are then taken when its liveness expires), never that a live
// process is taken for a dead one: a slot's content is written only by the
// holder of its lock.
func (l *lockFile) release() {
	_ = os.Remove(l.path)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// claimSlot takes the first free slot file <dir>/<name>-<n>.lock with an
// exclusive flock, returns the instance its previous holder wrote and writes
// instance in its place. A nil slot means every slot was held.
func claimSlot(dir, name, instance string) (*lockFile, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("redis store: restart slots: %w", err)
	}
	for n := range restartSlots {
		path := filepath.Join(dir, name+"-"+strconv.Itoa(n)+".lock")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, "", fmt.Errorf("redis store: restart slot: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue // a live process holds it
			}
			return nil, "", fmt.Errorf("redis store: restart slot %s: %w", path, err)
		}
		previous, err := readSlot(f)
		if err == nil {
			err = writeSlot(f, instance)
		}
		if err != nil {
			_ = f.Close()
			return nil, "", fmt.Errorf("redis store: restart slot %s: %w", path, err)
		}
		return &lockFile{f: f, path: path}, previous, nil
	}
	return nil, "", nil
}

func readSlot(f *os.File) (string, error) {
	b := make([]byte, 64)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(string(b[:n])), nil
}

func writeSlot(f *os.File, instance string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(instance+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// abandon closes the slot's file without removing it, as a process that
// dies does (the kernel drops the lock with the last descriptor).
func (l *lockFile) abandon() { _ = l.f.Close() }
