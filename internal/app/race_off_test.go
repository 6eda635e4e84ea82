//go:build !race

package app

// raceEnabled: the race detector slows the process several times, so the
// tests that measure time only log it.
const raceEnabled = false
