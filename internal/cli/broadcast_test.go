package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeBroadcaster is an in-memory broadcast service over the real state
// machine; stats and deliveries are what the test sets.
type fakeBroadcaster struct {
	campaigns  []broadcast.Campaign
	stats      broadcast.Stats
	previews   []broadcast.Preview
	deliveries []broadcast.Delivery
	failOn     error // Deliveries fails after its rows when set
	created    *broadcast.Campaign
}

var cliNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func (f *fakeBroadcaster) find(id int64) (*broadcast.Campaign, error) {
	for i := range f.campaigns {
		if f.campaigns[i].ID == id {
			return &f.campaigns[i], nil
		}
	}
	return nil, fmt.Errorf("campaign %d: %w", id, broadcast.ErrNotFound)
}

func (f *fakeBroadcaster) Create(_ context.Context, c broadcast.Campaign) (broadcast.Campaign, error) {
	if strings.Contains(c.Text, "{{") && !strings.Contains(c.Text, "}}") {
		return broadcast.Campaign{}, &broadcast.ValidationError{Field: "text", Message: "template: unclosed action"}
	}
	c.ID, c.State, c.CreatedAt, c.UpdatedAt = int64(len(f.campaigns)+1), broadcast.Draft, cliNow, cliNow
	if c.StartAt != nil {
		c.State = broadcast.Scheduled
	}
	f.campaigns = append(f.campaigns, c)
	f.created = &c
	return c, nil
}

func (f *fakeBroadcaster) Get(_ context.Context, id int64) (broadcast.Campaign, error) {
	c, err := f.find(id)
	if err != nil {
		return broadcast.Campaign{}, err
	}
	return *c, nil
}

func (f *fakeBroadcaster) List(context.Context) ([]broadcast.Campaign, error) {
	out := slices.Clone(f.campaigns)
	slices.Reverse(out)
	return out, nil
}

func (f *fakeBroadcaster) move(id int64, to broadcast.State) error {
	c, err := f.find(id)
	if err != nil {
		return err
	}
	if !broadcast.CanTransition(c.State, to) {
		return fmt.Errorf("campaign %d is %s, cannot become %s: %w", id, c.State, to, broadcast.ErrInvalidTransition)
	}
	c.State = to
	return nil
}

func (f *fakeBroadcaster) Start(_ context.Context, id int64) error {
	return f.move(id, broadcast.Running)
}
func (f *fakeBroadcaster) Pause(_ context.Context, id int64) error {
	return f.move(id, broadcast.Paused)
}
func (f *fakeBroadcaster) Resume(_ context.Context, id int64) error {
	if c, err := f.find(id); err == nil && c.State != broadcast.Paused {
		return fmt.Errorf("campaign %d is %s, cannot become running: %w", id, c.State, broadcast.ErrInvalidTransition)
	}
	return f.move(id, broadcast.Running)
}
func (f *fakeBroadcaster) Cancel(_ context.Context, id int64) error {
	return f.move(id, broadcast.Cancelled)
}

func (f *fakeBroadcaster) DryRun(_ context.Context, id int64, n int) ([]broadcast.Preview, error) {
	if _, err := f.find(id); err != nil {
		return nil, err
	}
	return f.previews[:min(n, len(f.previews))], nil
}

func (f *fakeBroadcaster) Stats(_ context.Context, id int64) (broadcast.Stats, error) {
	_, err := f.find(id)
	return f.stats, err
}

func (f *fakeBroadcaster) Deliveries(_ context.Context, id int64, fn func(broadcast.Delivery) error) error {
	if _, err := f.find(id); err != nil {
		return err
	}
	for _, d := range f.deliveries {
		if err := fn(d); err != nil {
			return err
		}
	}
	return f.failOn
}

// runFakeBroadcast runs `chathub broadcast ARGS` against svc.
func runFakeBroadcast(t *testing.T, svc *fakeBroadcaster, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	bc := &broadcastCall{env: &Env{Args: args, Stdout: &out, Stderr: &errOut}, now: func() time.Time { return cliNow },
		sleep: func(context.Context, time.Duration) error { return errors.New("unexpected sleep") }}
	opened := false
	code := broadcastMain(t.Context(), bc, func(context.Context) (broadcaster, func(), error) {
		opened = true
		return svc, func() {}, nil
	})
	if code == 2 && opened {
		t.Errorf("a usage error opened the stores")
	}
	return code, out.String(), errOut.String()
}

func sampleCampaigns() *fakeBroadcaster {
	at := time.Date(2026, 12, 24, 7, 0, 0, 0, time.UTC)
	return &fakeBroadcaster{campaigns: []broadcast.Campaign{
		{ID: 1, Name: "Декабрь", Segment: `city == "Москва"`, State: broadcast.Draft, CreatedAt: cliNow},
		{ID: 2, Name: "Ёлка", Segment: "subscribed", State: broadcast.Running, Platforms: []messenger.Platform{"vk"}, CreatedAt: cliNow},
		{ID: 3, Name: "Позже", Segment: "subscribed", State: broadcast.Scheduled, StartAt: &at, CreatedAt: cliNow},
		{ID: 4, Name: "Прошлое", Segment: "subscribed", State: broadcast.Done, CreatedAt: cliNow},
	}}
}

func TestBroadcastCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		args            []string
		code            int
		stdoutRE, errRE string
	}{
		{"no subcommand", nil, 2, `^$`, `Usage:\n  chathub broadcast create`},
		{"help", []string{"help"}, 0, `chathub broadcast status ID \[--follow\]`, `^$`},
		{"--help", []string{"--help"}, 0, `^Usage:\n  chathub broadcast create`, `^$`},
		{"unknown", []string{"send"}, 2, `^$`, `unknown subcommand "send"`},
		{"list", []string{"list"}, 0, `(?s)^ID +NAME +STATE +PLATFORMS +START_AT +CREATED +SEGMENT\n4 +Прошлое +done +all .*\n2 +Ёлка +running +vk .*\n1 +Декабрь +draft +all +- +2026-12-01T12:00:00Z +city == "Москва"\n$`, `^$`},
		{"list extra arg", []string{"list", "x"}, 2, ``, `takes no arguments`},
		{"start", []string{"start", "1"}, 0, `^campaign 1 "Декабрь" is running; follow it with: chathub broadcast status 1 --follow\n$`, `^$`},
		{"pause", []string{"pause", "2"}, 0, `^campaign 2 "Ёлка" is paused; continue with: chathub broadcast resume 2\n$`, ``},
		{"cancel", []string{"cancel", "3"}, 0, `^campaign 3 "Позже" is cancelled\n$`, ``},
		{"resume a draft", []string{"resume", "1"}, 1, `^$`, `^chathub broadcast resume: campaign 1 is draft, cannot become running: broadcast: invalid state transition\n$`},
		{"pause a finished one", []string{"pause", "4"}, 1, ``, `campaign 4 is done, cannot become paused`},
		{"not found", []string{"start", "9"}, 1, ``, `campaign 9: broadcast: campaign not found \(see chathub broadcast list\)`},
		{"no id", []string{"start"}, 2, ``, `want one campaign ID, got 0`},
		{"bad id", []string{"status", "abc"}, 2, ``, `campaign ID must be a positive whole number, got "abc"`},
		{"two ids", []string{"cancel", "1", "2"}, 2, ``, `want one campaign ID, got 2`},
		{"unknown flag", []string{"start", "--now", "1"}, 2, ``, `flag provided but not defined: -now`},
		{"status of a scheduled one", []string{"status", "3"}, 0, `(?s)^campaign 3 "Позже": scheduled\n  targeted +0\n.*  scheduled 2026-12-24T07:00:00Z\n$`, ``},
		{"dry-run bad n", []string{"dry-run", "1", "-n", "51"}, 2, ``, `-n must be from 1 to 50, got 51`},
		{"interval too short", []string{"status", "1", "--follow", "--interval", "1ms"}, 2, ``, `--interval must be at least 100ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runFakeBroadcast(t, sampleCampaigns(), tt.args...)
			if code != tt.code || !regexp.MustCompile(tt.stdoutRE).MatchString(out) || !regexp.MustCompile(tt.errRE).MatchString(errOut) {
				t.Errorf("code %d\nstdout:\n%s\nstderr:\n%s\nwant code %d, stdout ~ %q, stderr ~ %q", code, out, errOut, tt.code, tt.stdoutRE, tt.errRE)
			}
		})
	}
}

func TestBroadcastCreateFlags(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 24, 10, 0, 0, 0, time.FixedZone("", 3*3600))
	tests := []struct {
		name  string
		args  []string
		want  *broadcast.Campaign // nil: a usage error mentioning errRE
		errRE string
	}{
		{"minimal", []string{"--name", "Декабрь", "--segment", "subscribed", "--text", "Привет"},
			&broadcast.Campaign{Name: "Декабрь", Segment: "subscribed", Text: "Привет"}, ""},
		{"everything", []string{"--name", "Ёлка", "--saved", "moscow", "--text", "Привет, {{ .client.first_name }}!",
			"--button", "Каталог|https://example.com/a|b", "--button-scenario", "Анкета | portrait", "--button", "Сайт|https://example.com",
			"--image", "https://example.com/p.jpg", "--platform", "vk", "--platform", "telegram",
			"--at", "2026-12-24T10:00:00+03:00", "--ignore-cap", "--ignore-quiet-hours"},
			&broadcast.Campaign{Name: "Ёлка", Segment: `segment("moscow")`, Text: "Привет, {{ .client.first_name }}!",
				Buttons:  []broadcast.Button{{Text: "Каталог|https://example.com/a", URL: "b"}, {Text: "Сайт", URL: "https://example.com"}, {Text: "Анкета", Scenario: "portrait"}},
				ImageURL: "https://example.com/p.jpg", Platforms: []messenger.Platform{"vk", "telegram"}, StartAt: &at,
				IgnoreFrequencyCap: true, IgnoreQuietHours: true}, ""},
		{"platform list", []string{"--name", "n", "--segment", "subscribed", "--text", "t", "--platform", "telegram,vk"},
			&broadcast.Campaign{Name: "n", Segment: "subscribed", Text: "t", Platforms: []messenger.Platform{"telegram", "vk"}}, ""},
		{"no name", []string{"--segment", "subscribed", "--text", "t"}, nil, `--name and --text are required`},
		{"no segment", []string{"--name", "n", "--text", "t"}, nil, `--segment 'EXPR' or --saved NAME`},
		{"both segments", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "--saved", "x"}, nil, `not both`},
		{"bad saved name", []string{"--name", "n", "--text", "t", "--saved", "a b"}, nil, `latin letters`},
		{"button without url", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "--button", "Каталог"}, nil, `--button "Каталог": want "Текст\|https://url"`},
		{"button empty text", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "--button-scenario", "|portrait"}, nil, `with both parts`},
		{"bad platform", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "--platform", "icq"}, nil, `--platform "icq": want telegram or vk`},
		{"bad time", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "--at", "завтра в 10"}, nil, `--at "завтра в 10": want an RFC 3339 time`},
		{"stray argument", []string{"--name", "n", "--text", "t", "--segment", "subscribed", "and", "more"}, nil, `unexpected argument "and"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeBroadcaster{}
			code, out, errOut := runFakeBroadcast(t, svc, append([]string{"create"}, tt.args...)...)
			if tt.want == nil {
				if code != 2 || !regexp.MustCompile(tt.errRE).MatchString(errOut) || svc.created != nil {
					t.Errorf("code %d, stderr:\n%s\nwant 2 and %q, nothing created", code, errOut, tt.errRE)
				}
				return
			}
			got := svc.created
			if code != 0 || got == nil {
				t.Fatalf("code %d, stderr %s", code, errOut)
			}
			want := *tt.want
			want.ID, want.State, want.CreatedAt, want.UpdatedAt = got.ID, got.State, got.CreatedAt, got.UpdatedAt
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", want) || (got.StartAt != nil) != (want.StartAt != nil) ||
				(got.StartAt != nil && !got.StartAt.Equal(*want.StartAt)) {
				t.Errorf("created\n%+v\nwant\n%+v", *got, want)
			}
			if !strings.HasPrefix(out, "created campaign 1 ") || !strings.Contains(out, "chathub broadcast dry-run 1") {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

func TestBroadcastCreateServiceError(t *testing.T) {
	t.Parallel()
	code, _, errOut := runFakeBroadcast(t, &fakeBroadcaster{}, "create", "--name", "n", "--segment", "subscribed", "--text", "{{ .client")
	if code != 1 || errOut != "chathub broadcast create: --text: template: unclosed action\n" {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

func TestBroadcastDryRun(t *testing.T) {
	t.Parallel()
	svc := sampleCampaigns()
	svc.previews = []broadcast.Preview{
		{ClientID: 7, Platform: "telegram", Name: "Анна", Text: "Привет, Анна!\nСкидка 10%"},
		{ClientID: 8, Platform: "vk", Text: "Привет, друг!", Skipped: "quiet_hours until 09:00 MSK"},
	}
	code, out, _ := runFakeBroadcast(t, svc, "dry-run", "1", "-n", "2")
	want := "client 7 (telegram, Анна): would be sent\n  | Привет, Анна!\n  | Скидка 10%\n" +
		"client 8 (vk, -): would be skipped: quiet_hours until 09:00 MSK\n  | Привет, друг!\n"
	if code != 0 || out != want {
		t.Errorf("code %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
	svc.previews = nil
	if _, out, _ := runFakeBroadcast(t, svc, "dry-run", "1"); out != "campaign 1: its segment selects no clients now\n" {
		t.Errorf("empty dry run: %q", out)
	}
}

func TestBroadcastExport(t *testing.T) {
	t.Parallel()
	svc := sampleCampaigns()
	upd := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc.deliveries = []broadcast.Delivery{
		{CampaignID: 2, ClientID: 1, Platform: "vk", PlatformUserID: "11", Status: "sent", Attempts: 1, MessageID: "5", SentAt: &upd, UpdatedAt: upd},
		{CampaignID: 2, ClientID: 2, Platform: "vk", PlatformUserID: "12", Status: "failed", Reason: "ошибка, \"платформы\"", Attempts: 2, UpdatedAt: upd},
	}
	code, out, errOut := runFakeBroadcast(t, svc, "export", "2")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[0][0] != "campaign_id" || rows[2][5] != `ошибка, "платформы"` {
		t.Fatalf("code %d, rows %q, %v, stderr %s", code, rows, err, errOut)
	}

	path := filepath.Join(t.TempDir(), "out.csv")
	code, out, errOut = runFakeBroadcast(t, svc, "export", "2", "-o", path)
	file, _ := os.ReadFile(path)
	if code != 0 || out != "" || errOut != "wrote 2 deliveries of campaign 2 to "+path+"\n" || !bytes.HasPrefix(file, []byte("campaign_id,")) {
		t.Errorf("export -o: code %d, stdout %q, stderr %q, file %q", code, out, errOut, file)
	}

	// a failed export leaves no file behind
	failed := filepath.Join(t.TempDir(), "failed.csv")
	svc.failOn = errors.New("read ledger: connection reset")
	code, _, errOut = runFakeBroadcast(t, svc, "export", "2", "-o", failed)
	entries, _ := os.ReadDir(filepath.Dir(failed))
	if code != 1 || !strings.Contains(errOut, "connection reset") || len(entries) != 0 {
		t.Errorf("failed export: code %d, stderr %q, files %v", code, errOut, entries)
	}
	if code, _, errOut := runFakeBroadcast(t, svc, "export", "9"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown campaign: %d %q", code, errOut)
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state broadcast.State
		stats broadcast.Stats
		want  string
	}{
		{"not started", broadcast.Draft, broadcast.Stats{}, "[----------]   0% sent 0/0 · failed 0 · skipped 0 · 0.0/s · ETA — · draft"},
		{"filling, no rate yet", broadcast.Running, broadcast.Stats{Targeted: 1000, Queued: 1000},
			"[----------]   0% sent 0/1000 · failed 0 · skipped 0 · 0.0/s · ETA — · running"},
		{"under way", broadcast.Running, broadcast.Stats{Targeted: 1000, Sent: 400, Failed: 30, Skipped: 50, Rate: 10},
			"[####------]  45% sent 400/950 · failed 30 · skipped 50 · 10.0/s · ETA 52s · running"},
		{"skipped rows are not progress", broadcast.Running, broadcast.Stats{Targeted: 5, Skipped: 1, Queued: 4},
			"[----------]   0% sent 0/4 · failed 0 · skipped 1 · 0.0/s · ETA — · running"},
		{"everyone skipped, state lags", broadcast.Running, broadcast.Stats{Targeted: 5, Skipped: 5},
			"[##########] 100% sent 0/0 · failed 0 · skipped 5 · 0.0/s · ETA 0s · running"},
		{"blocked shown", broadcast.Running, broadcast.Stats{Targeted: 100000, Sent: 1000, Blocked: 20, Rate: 12.5},
			"[----------]   1% sent 1000/100000 · failed 0 · blocked 20 · skipped 0 · 12.5/s · ETA 2h11m · running"},
		{"minutes", broadcast.Paused, broadcast.Stats{Targeted: 5000, Sent: 1000, Rate: 20},
			"[##--------]  20% sent 1000/5000 · failed 0 · skipped 0 · 20.0/s · ETA 3m20s · paused"},
		{"all finished, state lags", broadcast.Running, broadcast.Stats{Targeted: 10, Sent: 10, Rate: 3},
			"[##########] 100% sent 10/10 · failed 0 · skipped 0 · 3.0/s · ETA 0s · running"},
		{"done", broadcast.Done, broadcast.Stats{Targeted: 10, Sent: 9, Failed: 1, Duration: 95 * time.Second, Rate: 9.0 / 95},
			"[##########] 100% sent 9/10 · failed 1 · skipped 0 · 0.1/s · took 1m35s · done"},
		{"done, nobody targeted", broadcast.Done, broadcast.Stats{}, "[##########] 100% sent 0/0 · failed 0 · skipped 0 · 0.0/s · took 0s · done"},
		{"cancelled midway", broadcast.Cancelled, broadcast.Stats{Targeted: 10, Sent: 3, Skipped: 7, Duration: time.Second},
			"[##########] 100% sent 3/3 · failed 0 · skipped 7 · 0.0/s · took 1s · cancelled"},
		{"more finished than targeted", broadcast.Running, broadcast.Stats{Targeted: 2, Sent: 3},
			"[##########] 100% sent 3/2 · failed 0 · skipped 0 · 0.0/s · ETA 0s · running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := progressLine(tt.state, &tt.stats, 10); got != tt.want {
				t.Errorf("progressLine =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 1499 * time.Millisecond: "1s", 59 * time.Second: "59s", time.Minute: "1m00s",
		3599 * time.Second: "59m59s", time.Hour: "1h00m", 26*time.Hour + 5*time.Minute: "26h05m",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// followScript drives status --follow: each sleep advances the fake clock
// and applies the next step to the service.
func followScript(svc *fakeBroadcaster, steps []func()) (func() time.Time, func(context.Context, time.Duration) error) {
	now := cliNow
	i := 0
	return func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		if i >= len(steps) {
			return errors.New("slept after the campaign ended")
		}
		now = now.Add(d)
		steps[i]()
		i++
		return nil
	}
}

func TestStatusFollow(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			t.Parallel()
			svc := sampleCampaigns()
			c := &svc.campaigns[1]
			svc.stats = broadcast.Stats{Targeted: 100, Queued: 100}
			steps := []func(){
				func() { svc.stats = broadcast.Stats{Targeted: 100, Queued: 60, Sent: 40, Rate: 20} },
				func() {}, // nothing changed
				func() {
					svc.stats = broadcast.Stats{Targeted: 100, Sent: 95, Failed: 3, Skipped: 2, Rate: 25, Duration: 4 * time.Second,
						FailedByReason: map[string]int{"bad_request": 1, "transient": 2}, SkippedByReason: map[string]int{"frequency_cap": 2}}
					c.State = broadcast.Done
				},
			}
			now, sleep := followScript(svc, steps)
			var out bytes.Buffer
			bc := &broadcastCall{env: &Env{Args: []string{"status", "2", "--follow", "--interval", "2s"}, Stdout: &out, Stderr: io.Discard},
				tty: tty, now: now, sleep: sleep}
			code := broadcastMain(t.Context(), bc, func(context.Context) (broadcaster, func(), error) { return svc, func() {}, nil })
			l0 := "[------------------------]   0% sent 0/100 · failed 0 · skipped 0 · 0.0/s · ETA — · running"
			l1 := "[#########---------------]  40% sent 40/100 · failed 0 · skipped 0 · 20.0/s · ETA 3s · running"
			l3 := "[########################] 100% sent 95/98 · failed 3 · skipped 2 · 25.0/s · took 4s · done"
			report := "campaign 2 \"Ёлка\": done\n  targeted      100\n  sent           95\n" +
				"  failed          3  (transient 2, bad_request 1)\n  blocked         0\n  skipped         2  (frequency_cap 2)\n  queued          0\n"
			want := "12:00:00 " + l0 + "\n12:00:02 " + l1 + "\n12:00:06 " + l3 + "\n" + report
			if tty {
				want = "\r" + l0 + "\x1b[K\r" + l1 + "\x1b[K\r" + l1 + "\x1b[K\r" + l3 + "\x1b[K\n" + report
			}
			if code != 0 || out.String() != want {
				t.Errorf("code %d, stdout:\n%q\nwant:\n%q", code, out.String(), want)
			}
		})
	}
}

func TestStatusReportTimes(t *testing.T) {
	t.Parallel()
	started, finished := cliNow, cliNow.Add(95*time.Second)
	c := broadcast.Campaign{ID: 5, Name: "Итог", State: broadcast.Done}
	s := broadcast.Stats{Targeted: 2, Sent: 2, StartedAt: &started, FinishedAt: &finished, Duration: 95 * time.Second, Rate: 0.25}
	if got := statusReport(&c, &s); !strings.HasSuffix(got, "  started   2026-12-01T12:00:00Z, finished 2026-12-01T12:01:35Z, took 1m35s, 0.2/s on average\n") {
		t.Errorf("finished report:\n%s", got)
	}
	c.State, s.FinishedAt, s.Sent, s.Rate = broadcast.Running, nil, 1, 0.5
	if got := statusReport(&c, &s); !strings.HasSuffix(got, "  started   2026-12-01T12:00:00Z, running 1m35s, 0.5/s, ETA 2s\n") {
		t.Errorf("running report:\n%s", got)
	}
}

func TestStatusFollowInterrupted(t *testing.T) {
	t.Parallel()
	svc := sampleCampaigns()
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	bc := &broadcastCall{env: &Env{Args: []string{"status", "2", "--follow"}, Stdout: &out, Stderr: io.Discard}, tty: true,
		now: func() time.Time { return cliNow },
		sleep: func(ctx context.Context, _ time.Duration) error {
			cancel()
			return ctx.Err()
		}}
	code := broadcastMain(ctx, bc, func(context.Context) (broadcaster, func(), error) { return svc, func() {}, nil })
	if code != 0 || !strings.HasSuffix(out.String(), "running\x1b[K\n") {
		t.Errorf("interrupted follow: code %d, stdout %q", code, out.String())
	}
	if svc.campaigns[1].State != broadcast.Running {
		t.Errorf("an interrupt changed the campaign: %s", svc.campaigns[1].State)
	}
}
