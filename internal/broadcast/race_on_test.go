//go:build race

package broadcast_test

// allowed429s is how many 429s a test that sends at the bot's full 30/s
// tolerates. The budget spaces grants exactly 1/30 s apart, so 31 sends
// arrive within one second of the fake's sliding window whenever a send's
// way from its grant to the fake (goroutine wake-up, request, the fake's
// lock) is longer than that of the send 30 before it by more than the
// grants' own lateness: ~5-15 ms of room without the race detector (the
// benchmarks count 0 429s), less than the race detector's stalls on a
// loaded 2-core machine. One such 429 pauses the budget for its
// retry_after and the message is sent again; more than one is a pacing bug.
const allowed429s = 1
