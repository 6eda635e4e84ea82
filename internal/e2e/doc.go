// Package e2e holds the console's end-to-end tests: the whole `chathub
// run` (bots on the fake Telegram Bot API, broadcast workers, the console
// and the API) on the test PostgreSQL and Redis, driven in headless
// Chromium as a manager, an operator and an admin would use it. It has no
// code of its own outside its tests.
package e2e
