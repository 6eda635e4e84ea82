package app

import (
	"os"
	"testing"

	"github.com/chathub/chathub/internal/store/storetest"
)

// TestMain stops the local Redis Cluster some tests start (postgresCluster).
func TestMain(m *testing.M) {
	code := m.Run()
	storetest.StopRedisCluster()
	os.Exit(code)
}
