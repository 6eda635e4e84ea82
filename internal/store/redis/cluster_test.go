package redis

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ownClient returns a new client (its own connection pool: another
// "process") to the Redis or the Redis Cluster c talks to, with c's
// credentials and TLS and the given retries and dial timeout (0: go-redis'
// defaults). It is closed when t ends.
func ownClient(t testing.TB, c goredis.UniversalClient, maxRetries int, dialTimeout time.Duration) goredis.UniversalClient {
	t.Helper()
	var own goredis.UniversalClient
	switch c := c.(type) {
	case *goredis.ClusterClient:
		o := c.Options()
		own = goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: o.Addrs, Username: o.Username,
			Password: o.Password, TLSConfig: o.TLSConfig, MaxRetries: maxRetries, DialTimeout: dialTimeout})
	case *goredis.Client:
		o := c.Options()
		own = goredis.NewClient(&goredis.Options{Addr: o.Addr, DB: o.DB, Username: o.Username,
			Password: o.Password, TLSConfig: o.TLSConfig, MaxRetries: maxRetries, DialTimeout: dialTimeout})
	default:
		t.Fatalf("ownClient: unexpected client %T", c)
	}
	t.Cleanup(func() { _ = own.Close() })
	return own
}

// skipOnCluster skips a test that puts a fault proxy in front of one
// server's address: a cluster client follows the slot map to every node.
func skipOnCluster(t testing.TB, c goredis.UniversalClient) {
	t.Helper()
	if _, ok := c.(*goredis.ClusterClient); ok {
		t.Skip("needs a single server's address (fault proxy); the cluster backend covers the behaviour without faults")
	}
}

func TestParseClusterURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		addrs     []string
		user, pw  string
		tls       bool
		check     func(*goredis.ClusterOptions) bool
		wantErr   string
	}{
		{name: "three seeds", url: "redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:7002",
			addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}},
		{name: "password and options", url: "redis+cluster://app:p%40ss@h1:7000,h2:7001/0?dial_timeout=2s&read_only=true&pool_size=20",
			addrs: []string{"h1:7000", "h2:7001"}, user: "app", pw: "p@ss",
			check: func(o *goredis.ClusterOptions) bool {
				return o.DialTimeout == 2*time.Second && o.ReadOnly && o.PoolSize == 20
			}},
		{name: "default port, trailing slash", url: "redis+cluster://redis-a,redis-b/",
			addrs: []string{"redis-a:6379", "redis-b:6379"}},
		{name: "ipv6", url: "redis+cluster://[::1]:7000,[::1]:7001",
			addrs: []string{"[::1]:7000", "[::1]:7001"}},
		{name: "tls", url: "rediss+cluster://:pw@a.example:7000,b.example:7000",
			addrs: []string{"a.example:7000", "b.example:7000"}, pw: "pw", tls: true,
			check: func(o *goredis.ClusterOptions) bool { return o.TLSConfig.ServerName == "" }},
		{name: "database", url: "redis+cluster://h1:7000/3", wantErr: "only database 0"},
		{name: "no host", url: "redis+cluster:///?dial_timeout=1s", wantErr: "no cluster node"},
		{name: "bad option", url: "redis+cluster://h1:7000?nope=1", wantErr: "unexpected option"},
		{name: "bad port", url: "redis+cluster://h1:70x0", wantErr: "host:port"},
		{name: "not a cluster", url: "redis://h1:6379", wantErr: "scheme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := ParseClusterURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseClusterURL = %v; want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(o.Addrs, ",") != strings.Join(tc.addrs, ",") || o.Username != tc.user ||
				o.Password != tc.pw || (o.TLSConfig != nil) != tc.tls {
				t.Fatalf("options = addrs %v user %q pw %q tls %v", o.Addrs, o.Username, o.Password, o.TLSConfig != nil)
			}
			if tc.check != nil && !tc.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

func TestOpenClusterErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cretPa55"
	for _, u := range []string{
		"redis+cluster://user:" + secret + "@127.0.0.1:1,127.0.0.1:2",
		"redis+cluster://user:" + secret + "@127.0.0.1:1/5",
		"redis+cluster://:" + secret + "@127.0.0.1:1?dial_timeout=abc",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		_, _, err := Open(ctx, u, quietLogger)
		cancel()
		if err == nil {
			t.Fatalf("Open(%s) succeeded", redactURL(u))
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("password leaked: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("error %q should name the node", err)
		}
	}
}

// TestClusterSpreadsChats: on the test cluster, the Store's keys of many
// chats land on every master (the hash tag is per chat, not one slot for
// all), while each chat's keys stay together (the scripts would fail with
// CROSSSLOT otherwise).
func TestClusterSpreadsChats(t *testing.T) {
	t.Parallel()
	c := clusterRedis(t)
	cc := c.(*goredis.ClusterClient)
	s := newTestStore(t, c, Config{})
	ctx := t.Context()
	for i := range 60 {
		ch := chat
		ch.ID = strings.Repeat("9", 1+i%7) + string(rune('a'+i%26))
		if _, err := saveData(s, ctx, ch, []byte("x"), 0); err != nil {
			t.Fatalf("SaveState %s: %v", ch, err)
		}
	}
	var masters atomic.Int32
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		n := 0
		iter := m.Scan(ctx, 0, s.Config().Prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			n++
		}
		if n > 0 {
			masters.Add(1) // ForEachMaster runs the callbacks concurrently
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := masters.Load(); n < 2 {
		t.Errorf("the chats' keys are on %d master(s); want them spread", n)
	}
}
