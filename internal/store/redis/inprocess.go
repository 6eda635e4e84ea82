package redis

import (
	"context"
	"fmt"
	"net"

	goredis "github.com/redis/go-redis/v9"

	"github.com/alicebob/miniredis/v2"
)

// OpenInProcess starts an in-process Redis-compatible server (miniredis)
// and a client that reaches it through in-memory pipes instead of a TCP
// socket: the same go-redis client and Redis protocol as Open's embedded
// default, without a system call per command. Scenario tests
// (internal/scenariotest) run on it. Keys never expire by the wall clock
// (nothing advances the server's clock). The returned func closes the
// client and the server.
func OpenInProcess(ctx context.Context) (goredis.UniversalClient, func() error, error) {
	srv, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("redis: start in-process server: %w", err)
	}
	client := goredis.NewClient(&goredis.Options{
		Addr: "in-process",
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			c, s := net.Pipe()
			srv.Server().ServeConn(s)
			return c, nil
		},
	})
	if err := pingWithTimeout(ctx, client); err != nil {
		_ = client.Close()
		srv.Close()
		return nil, nil, fmt.Errorf("redis: connect to the in-process server: %w", err)
	}
	return client, onceFunc(func() error {
		err := client.Close()
		srv.Close()
		return err
	}), nil
}
