package app

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// TestRunRedisOutageMidCampaign cuts Redis (through a fault proxy) while
// `chathub run` sends a campaign at Telegram's 30 msg/s, enforced by the
// fake with 429s: sending pauses (no grant from the shared budget, so no
// send) and no row fails or loses an attempt because of it; once Redis is
// back the campaign resumes and finishes, each recipient with exactly one
// message and no 429.
func TestRunRedisOutageMidCampaign(t *testing.T) {
	t.Parallel()
	e := newCastEnv(t, nil)
	redis := proxyRedis(t, &e.cfg)
	e.start(t)
	const n = 150
	e.seed(t, n)
	e.fake.SetRateLimit(30, time.Second, 1)
	c := e.launch(t, "Новости недели")
	eventually(t, "30 messages are sent", func() bool { return e.fake.Calls("sendMessage") >= 30 })

	logsAtCut := len(e.logs.String())
	redis.Cut()
	time.Sleep(300 * time.Millisecond) // sends granted before the cut finish
	atCut := e.fake.Calls("sendMessage")
	time.Sleep(2 * time.Second)
	if got := e.fake.Calls("sendMessage"); got != atCut {
		t.Fatalf("%d messages sent while Redis was unreachable", got-atCut)
	}
	if atCut >= n {
		t.Fatalf("all %d sent before the cut: the test shows nothing", n)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status <> 'queued' AND status <> 'sent'", c.ID); got != 0 {
		t.Fatalf("%d rows failed or skipped during the outage", got)
	}
	if !strings.Contains(e.logs.String(), "rate limiter unavailable; pausing") {
		t.Fatal("no log line says the broadcaster paused")
	}

	redis.Restore()
	st := e.waitState(t, c.ID, broadcast.Done)
	if st.Sent != n || st.Failed != 0 {
		t.Fatalf("stats %+v, want %d sent, none failed", st, n)
	}
	e.exactlyOnce(t, n)
	if got := e.fake.TooManyRequests(); got > allowed429s {
		t.Fatalf("%d sends got 429, want at most %d", got, allowed429s)
	}
	// The claims handed back while Redis was down did not count as attempts.
	if got := e.count(t, "SELECT MAX(attempts) FROM deliveries WHERE campaign_id = $1", c.ID); got != 1 {
		t.Fatalf("a row took %d attempts", got)
	}
	// The outage is logged once each way; the pauses at debug level only.
	checkOutageLogs(t, e.logs.String()[logsAtCut:], "Redis", 0)
	t.Logf("%d sent before the cut, %d after the restore", atCut, n-atCut)
}

// TestRunPostgresOutageLoggedOnce cuts PostgreSQL (through a fault proxy)
// for 3 s under a running broadcaster, whose supervisor queries the
// database every 0.5 s: the outage is one "PostgreSQL unreachable" line and
// one "PostgreSQL recovered" line, not an ERROR with the SQL (nor a
// warning) per failed query; once the database is back a campaign is sent.
func TestRunPostgresOutageLoggedOnce(t *testing.T) {
	t.Parallel()
	e := newCastEnv(t, nil)
	db := proxyDatabase(t, &e.cfg)
	rt := e.start(t)
	const n = 5
	e.seed(t, n)
	time.Sleep(time.Second) // the supervisor's first ticks
	atCut := len(e.logs.String())

	db.Cut()
	eventually(t, "/metrics shows PostgreSQL down", func() bool {
		return strings.Contains(getBody(t, "http://"+rt.Addr()+"/metrics"), `chathub_dependency_up{dependency="PostgreSQL"} 0`)
	})
	time.Sleep(3 * time.Second)
	db.Restore()
	if n := strings.Count(e.logs.String()[atCut:], `"level":"ERROR","msg":"SQL failed"`); n > 0 {
		t.Errorf("%d failed SQL statements logged as errors during the outage", n)
	}
	eventually(t, "the recovery is logged", func() bool {
		return strings.Contains(e.logs.String()[atCut:], `"msg":"PostgreSQL recovered"`)
	})
	checkOutageLogs(t, e.logs.String()[atCut:], "PostgreSQL", 0)
	if m := getBody(t, "http://"+rt.Addr()+"/metrics"); !strings.Contains(m, `chathub_dependency_up{dependency="PostgreSQL"} 1`) {
		t.Errorf("/metrics does not show PostgreSQL up after the recovery")
	}

	c := e.launch(t, "Новости недели")
	if st := e.waitState(t, c.ID, broadcast.Done); st.Sent != n {
		t.Fatalf("stats %+v after the recovery, want %d sent", st, n)
	}
}
