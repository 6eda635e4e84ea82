package storetest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill cmd when the thread that
// started it (a locked, never-ending one: startOrphanSafe) dies with the
// test binary.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
