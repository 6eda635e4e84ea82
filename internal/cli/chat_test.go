package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/store/storetest"
)

// portraitAnswers is a client going through the portrait scenario, with bad
// input along the way that must be re-asked without losing anything.
var portraitAnswers = strings.Join([]string{
	"1",                        // consent: "Да, согласен"
	"",                         // empty line → re-ask
	"😀",                        // emoji → re-ask (name must be letters)
	"'; DROP TABLE clients;--", // SQL metacharacters → re-ask
	"Анна Петровна",
	"сорок три", // not a number → re-ask
	"43",
	"Самара",
	"2",      // "В браке"
	"1", "2", // toggle Фитнес, Путешествия
	"Готово",
	"1",                // the contact button
	"+7 912 345-67-89", // the phone it shares
}, "\n") + "\n"

type clientJSON struct {
	Platform     string         `json:"platform"`
	UserID       string         `json:"user_id"`
	FirstName    string         `json:"first_name"`
	Age          int            `json:"age"`
	City         string         `json:"city"`
	FamilyStatus string         `json:"family_status"`
	Phone        string         `json:"phone"`
	Subscribed   bool           `json:"subscribed"`
	ConsentAt    string         `json:"consent_at"`
	Tags         []string       `json:"tags"`
	Attributes   map[string]any `json:"attributes"`
}

// checkPortraitRecord asserts the CRM record the portrait answers produce.
func checkPortraitRecord(t *testing.T, clientsJSON []byte, user string) {
	t.Helper()
	var clients []clientJSON
	if err := json.Unmarshal(clientsJSON, &clients); err != nil {
		t.Fatalf("clients --format json: %v\n%s", err, clientsJSON)
	}
	i := slices.IndexFunc(clients, func(c clientJSON) bool { return c.UserID == user })
	if i < 0 {
		t.Fatalf("no client %q in %s", user, clientsJSON)
	}
	c := clients[i]
	if c.Platform != "terminal" || c.FirstName != "Анна Петровна" || c.Age != 43 || c.City != "Самара" ||
		c.FamilyStatus != "married" || c.Phone != "+79123456789" || !c.Subscribed || c.ConsentAt == "" {
		t.Errorf("client = %+v", c)
	}
	if got, _ := json.Marshal(c.Attributes["interests"]); string(got) != `["fitness","travel"]` {
		t.Errorf("interests = %s", got)
	}
	for _, tag := range []string{"survey", "portrait_done", "reward_sent"} {
		if !slices.Contains(c.Tags, tag) {
			t.Errorf("tags %v lack %q", c.Tags, tag)
		}
	}
}

func checkTranscript(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"Согласны на обработку", "[1] Да, согласен",
		"Напишите имя буквами", "Анна Петровна, сколько вам лет", "Напишите возраст числом",
		"Выбрано: Фитнес, Путешествия", "📱 Отправить номер", "Спасибо, Анна Петровна",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
}

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChatBinaryEmbedded pipes answers into the real `chathub chat` binary on
// the zero-config default (SQLite file + in-process Redis).
func TestChatBinaryEmbedded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "chathub")
	build := exec.Command("go", "build", "-o", bin, "./cmd/chathub")
	build.Dir = repoPath(t, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(stdin string, args ...string) (string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SCENARIOS_DIR="+repoPath(t, "scenarios"), "DATABASE_URL=", "REDIS_URL=")
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chathub %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	out, stderr := run(portraitAnswers, "chat", "--scenario", "portrait")
	checkTranscript(t, out)
	if strings.Contains(stderr, "+79123456789") || strings.Contains(stderr, "Анна") {
		t.Errorf("personal data in logs:\n%s", stderr)
	}
	js, _ := run("", "clients", "--format", "json")
	checkPortraitRecord(t, []byte(js), "local")
	table, _ := run("", "clients")
	if !strings.Contains(table, "Анна Петровна") || !strings.Contains(table, "portrait_done") {
		t.Errorf("clients table:\n%s", table)
	}
	csvOut, _ := run("", "clients", "--format", "csv")
	if !strings.HasPrefix(csvOut, "id,platform,user_id,first_name") || !strings.Contains(csvOut, "+79123456789") {
		t.Errorf("clients csv:\n%s", csvOut)
	}
}

// TestChatPostgresRedis runs the same conversation on PostgreSQL and Redis
// (TEST_DATABASE_URL / TEST_REDIS_URL), isolated by schema and key prefix.
func TestChatPostgresRedis(t *testing.T) {
	t.Parallel()
	storetest.SkipUnlessServices(t)
	ctx := context.Background()
	env := map[string]string{
		"DATABASE_URL":  storetest.PostgresURL(t),
		"REDIS_URL":     storetest.RedisURL(),
		"REDIS_PREFIX":  storetest.Name(t, "t"),
		"SCENARIOS_DIR": repoPath(t, "scenarios"),
	}
	run := func(stdin string, args ...string) string {
		var stdout, stderr bytes.Buffer
		code := Main(ctx, &Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string { return env[k] }})
		if code != 0 {
			t.Fatalf("chathub %v exited %d\n%s\n%s", args, code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	checkTranscript(t, run(portraitAnswers, "chat", "--scenario", "portrait", "--user", "pg-1"))
	checkPortraitRecord(t, []byte(run("", "clients", "--format", "json")), "pg-1")
}
