// Package storetest gives tests outside the store packages an isolated
// PostgreSQL schema and Redis key prefix on the shared test services
// (TEST_DATABASE_URL, TEST_REDIS_URL), cleaned up when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// DatabaseURL is TEST_DATABASE_URL or the local default.
func DatabaseURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// RedisURL is TEST_REDIS_URL or the local default.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// SkipUnlessServices skips t when CHATHUB_SKIP_PG or CHATHUB_SKIP_REDIS is 1
// (CI never sets them: there a missing service fails the test).
func SkipUnlessServices(t testing.TB) {
	t.Helper()
	if os.Getenv("CHATHUB_SKIP_PG") == "1" || os.Getenv("CHATHUB_SKIP_REDIS") == "1" {
		t.Skip("CHATHUB_SKIP_PG / CHATHUB_SKIP_REDIS set")
	}
}

// Name returns a random identifier "prefix_<hex>".
func Name(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "_" + hex.EncodeToString(b)
}

// PostgresURL creates a fresh schema on the test database, drops it when the
// test ends, and returns a DATABASE_URL whose search_path is that schema.
func PostgresURL(t testing.TB) string {
	t.Helper()
	schema := Name(t, "t")
	base := DatabaseURL()
	db := open(t, base)
	if _, err := db.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		db.Close()
		t.Fatalf("create schema on %s: %v", base, err)
	}
	db.Close()
	t.Cleanup(func() {
		db := open(t, base)
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func open(t testing.TB, url string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	return stdlib.OpenDB(*cfg)
}

// RedisPrefix returns a fresh key prefix on the test Redis whose keys are
// deleted when the test ends.
func RedisPrefix(t testing.TB) string {
	t.Helper()
	prefix := Name(t, "t")
	t.Cleanup(func() {
		opts, err := goredis.ParseURL(RedisURL())
		if err != nil {
			t.Error(err)
			return
		}
		rdb := goredis.NewClient(opts)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean redis prefix %s: %v", prefix, err)
		}
	})
	return prefix
}
