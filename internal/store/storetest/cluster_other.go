//go:build !linux

package storetest

import "os/exec"

// setParentDeathSignal does nothing where there is no parent-death signal:
// StopRedisCluster (from TestMain) stops the servers.
func setParentDeathSignal(*exec.Cmd) {}
