// Package proccpu reads the CPU time of processes on this machine from
// Linux's /proc, for the benchmarks that report CPU per update: chathub's
// own processes, and the PostgreSQL server's (its postmaster and
// backends, live and exited). On another system, or for a process that is
// gone, the readings are zero.
package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// tick is a clock tick of /proc/PID/stat (USER_HZ, 100 on Linux).
const tick = 10 * time.Millisecond

// Fields returns the fields of /proc/PID/stat after the command name (the
// first is the state, the second the parent's pid), or nil. The command
// name is in parentheses and may hold spaces and parentheses itself, so
// the fields start after the last ')'.
func Fields(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// Parent returns the parent process id of pid, 0 when unknown.
func Parent(pid int) int {
	f := Fields(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// Of returns the user + system CPU time process pid used so far.
func Of(pid int) time.Duration { return ticks(Fields(pid), false) }

// Tree returns the CPU time of server process pid and of its children,
// live and exited (user + system, with the reaped children's): what a
// PostgreSQL server spent, whatever else runs beside it. 0 for pid <= 0.
func Tree(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	total := ticks(Fields(pid), true)
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, c := range strings.Fields(string(children)) {
		if n, err := strconv.Atoi(c); err == nil {
			total += ticks(Fields(n), true)
		}
	}
	return total
}

// ticks sums utime and stime (fields 14 and 15 of stat, f[11] and f[12])
// and, with reaped, cutime and cstime (f[13] and f[14]).
func ticks(f []string, reaped bool) time.Duration {
	last := 12
	if reaped {
		last = 14
	}
	if len(f) <= last {
		return 0
	}
	var t int64
	for _, v := range f[11 : last+1] {
		n, _ := strconv.ParseInt(v, 10, 64)
		t += n
	}
	return time.Duration(t) * tick
}
