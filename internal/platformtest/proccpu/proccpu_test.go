package proccpu

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSelf(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	pid := os.Getpid()
	if f := Fields(pid); len(f) < 15 {
		t.Fatalf("Fields(self) = %q; want at least 15 fields", f)
	}
	if got := Parent(pid); got != os.Getppid() {
		t.Fatalf("Parent(self) = %d; want %d", got, os.Getppid())
	}
	before := Of(pid)
	for deadline := time.Now().Add(5 * time.Second); Of(pid)-before < 20*time.Millisecond && time.Now().Before(deadline); {
		for i := 0; i < 1_000_000; i++ { // burn some CPU
			_ = i * i
		}
	}
	if Of(pid)-before < 20*time.Millisecond {
		t.Fatal("Of(self) did not grow while the test burnt CPU")
	}
	if Tree(pid) < Of(pid) {
		t.Fatalf("Tree(self) %s < Of(self) %s", Tree(pid), Of(pid))
	}
	if Tree(0) != 0 || Of(-1) != 0 || Fields(-1) != nil || Parent(-1) != 0 {
		t.Fatal("a process that does not exist reads as something")
	}
}
