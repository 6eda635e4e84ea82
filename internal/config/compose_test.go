package config

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Docker Compose files and the reverse proxy's configuration cannot be
// run here (no Docker), so this test reads them and checks what a typo
// would break: services referenced exist, chathub's environment holds only
// variables the configuration knows, every chathub container's healthcheck
// asks /readyz on the port HTTP_ADDR listens on, the proxy's upstreams are
// exactly the replicas, and the URLs point at the database and Redis
// services. docs/DEPLOY.md describes the files.

// composeFile is the part of a Compose file the checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// isChathub reports whether the service runs the chathub image.
func (s composeService) isChathub() bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "chathub")
}

func readCompose(t *testing.T, name string) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// knownEnv is every environment variable config.FromEnv reads.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	if _, err := FromEnv(func(k string) string { seen[k] = true; return "" }); err != nil {
		t.Fatalf("FromEnv with an empty environment: %v", err)
	}
	if len(seen) < 20 {
		t.Fatalf("FromEnv read only %d variables: the recording does not work", len(seen))
	}
	return seen
}

// interpolation matches Compose's ${VAR}, ${VAR:-default}, ${VAR:?err}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}`)

// problems collects what the checks find, so that a test can also run them
// on a broken copy of a file and expect them to complain.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// readRepoFile reads a file of the repository by its path from the root.
func readRepoFile(name string) ([]byte, error) { return os.ReadFile(filepath.Join("..", "..", name)) }

func TestComposeFiles(t *testing.T) {
	t.Parallel()
	known := knownEnv(t)
	for _, tc := range []struct {
		file     string
		replicas int // chathub services
	}{
		{"docker-compose.yml", 1},
		{"docker-compose.replicated.yml", 3},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			f := readCompose(t, tc.file)
			for _, p := range checkCompose(f, tc.replicas, known, readRepoFile) {
				t.Error(p)
			}
		})
	}
}

// checkCompose runs every check on a Compose file with the given number of
// chathub services; readFile reads the files it mounts.
func checkCompose(f composeFile, replicas int, known map[string]bool, readFile func(string) ([]byte, error)) problems {
	var p problems
	var chathubs []string
	for name, s := range f.Services {
		checkService(&p, f, name, s, readFile)
		if s.isChathub() {
			chathubs = append(chathubs, name)
			checkChathub(&p, f, name, s, known)
		}
	}
	if len(chathubs) != replicas {
		p.add("%d chathub services %v; want %d", len(chathubs), chathubs, replicas)
	}
	if replicas > 1 && len(chathubs) > 0 {
		checkReplicas(&p, f, chathubs, readFile)
	}
	return p
}

// checkService checks what any service refers to.
func checkService(p *problems, f composeFile, name string, s composeService, readFile func(string) ([]byte, error)) {
	if s.Image == "" && s.Build == nil {
		p.add("service %s: neither image nor build", name)
	}
	for dep, d := range s.DependsOn {
		target, ok := f.Services[dep]
		switch {
		case !ok:
			p.add("service %s depends on %s, which is not a service", name, dep)
		case d.Condition == "service_healthy" && target.Healthcheck == nil:
			p.add("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
		}
	}
	for _, v := range s.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
			if _, err := readFile(src); err != nil && !isDir(src) {
				p.add("service %s mounts %s: %v", name, src, err)
			}
			continue
		}
		if _, ok := f.Volumes[src]; !ok {
			p.add("service %s mounts volume %s, which is not declared", name, src)
		}
	}
}

// isDir reports whether the repository holds a directory at path.
func isDir(path string) bool {
	st, err := os.Stat(filepath.Join("..", "..", path))
	return err == nil && st.IsDir()
}

// checkChathub checks a chathub container: known variables only, URLs to
// the services, a /readyz healthcheck.
func checkChathub(p *problems, f composeFile, name string, s composeService, known map[string]bool) {
	for k, v := range s.Environment {
		if !known[k] {
			p.add("service %s sets %s, which internal/config does not read", name, k)
		}
		for _, m := range interpolation.FindAllStringSubmatch(v, -1) {
			if m[1] != k {
				p.add("service %s: %s takes ${%s}; want the variable of the same name", name, k, m[1])
			}
		}
	}
	checkDatabaseURL(p, f, name, s)
	checkRedisURL(p, f, name, s)
	if s.Healthcheck == nil {
		p.add("service %s has no healthcheck", name)
	} else if hc := strings.Join(s.Healthcheck.Test, " "); !strings.Contains(hc, "/app/chathub probe") || !strings.Contains(hc, "/readyz") {
		p.add("service %s: healthcheck %q; want `/app/chathub probe --path /readyz`", name, hc)
	}
	port, ok := httpPort(p, s.Environment["HTTP_ADDR"])
	if !ok {
		return
	}
	for _, pub := range s.Ports {
		if !strings.HasSuffix(pub, ":"+port) {
			p.add("service %s publishes %s; the container listens on %s (HTTP_ADDR)", name, pub, port)
		}
	}
}

// checkDatabaseURL checks that DATABASE_URL names the database service
// with its user, password and database, and that the service waits for it.
func checkDatabaseURL(p *problems, f composeFile, name string, s composeService) {
	raw := s.Environment["DATABASE_URL"]
	db, err := url.Parse(raw)
	if err != nil || db.Scheme != "postgres" || db.Host == "" {
		p.add("service %s: DATABASE_URL %q is not a postgres:// URL", name, raw)
		return
	}
	pg, ok := f.Services[db.Hostname()]
	pw, _ := db.User.Password()
	switch {
	case !ok:
		p.add("service %s: DATABASE_URL names host %s, which is not a service", name, db.Hostname())
	case pg.Environment["POSTGRES_USER"] != db.User.Username() || pg.Environment["POSTGRES_PASSWORD"] != pw ||
		pg.Environment["POSTGRES_DB"] != strings.TrimPrefix(db.Path, "/"):
		p.add("service %s: DATABASE_URL's user, password or database differ from service %s's", name, db.Hostname())
	}
	if _, ok := s.DependsOn[db.Hostname()]; !ok {
		p.add("service %s does not depend on its database %s", name, db.Hostname())
	}
}

// checkRedisURL checks that REDIS_URL names the Redis service and that the
// service waits for it.
func checkRedisURL(p *problems, f composeFile, name string, s composeService) {
	raw := s.Environment["REDIS_URL"]
	r, err := url.Parse(raw)
	if err != nil || r.Scheme != "redis" || r.Host == "" {
		p.add("service %s: REDIS_URL %q is not a redis:// URL", name, raw)
		return
	}
	if _, ok := f.Services[r.Hostname()]; !ok {
		p.add("service %s: REDIS_URL names host %s, which is not a service", name, r.Hostname())
	} else if _, ok := s.DependsOn[r.Hostname()]; !ok {
		p.add("service %s does not depend on its Redis %s", name, r.Hostname())
	}
}

// httpPort is the port of an HTTP_ADDR; false (and a problem) when it has
// none.
func httpPort(p *problems, addr string) (string, bool) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		p.add("HTTP_ADDR %q: want host:port or :port", addr)
		return "", false
	}
	return port, true
}

// checkReplicas checks the replicated file: identical replicas that are not
// published themselves, and a proxy whose upstreams are exactly them.
func checkReplicas(p *problems, f composeFile, replicas []string, readFile func(string) ([]byte, error)) {
	sort.Strings(replicas)
	first := f.Services[replicas[0]]
	for _, name := range replicas {
		s := f.Services[name]
		if len(s.Ports) > 0 {
			p.add("replica %s publishes ports %v; only the proxy should", name, s.Ports)
		}
		if !maps.Equal(s.Environment, first.Environment) {
			p.add("replica %s's environment differs from %s's", name, replicas[0])
		}
	}
	proxy, ok := f.Services["caddy"]
	if !ok {
		p.add("no caddy service")
		return
	}
	for _, r := range replicas {
		if _, ok := proxy.DependsOn[r]; !ok {
			p.add("caddy does not depend on %s", r)
		}
	}
	for _, port := range []string{"80", "443"} {
		if !slices.ContainsFunc(proxy.Ports, func(s string) bool { return strings.HasSuffix(s, ":"+port) }) {
			p.add("caddy does not publish port %s", port)
		}
	}
	checkCaddyfile(p, proxy, replicas, first, readFile)
}

// checkCaddyfile checks that the proxy's Caddyfile sends requests to
// exactly the replicas and asks their /readyz.
func checkCaddyfile(p *problems, proxy composeService, replicas []string, first composeService, readFile func(string) ([]byte, error)) {
	caddyfile := ""
	for _, v := range proxy.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); strings.HasPrefix(dst, "/etc/caddy/Caddyfile") {
			caddyfile = src
		}
	}
	if caddyfile == "" {
		p.add("the caddy service mounts no /etc/caddy/Caddyfile")
		return
	}
	b, err := readFile(caddyfile)
	if err != nil {
		p.add("read %s: %v", caddyfile, err)
		return
	}
	port, ok := httpPort(p, first.Environment["HTTP_ADDR"])
	if !ok {
		return
	}
	upstreams, health := caddyUpstreams(string(b))
	var want []string
	for _, r := range replicas {
		want = append(want, r+":"+port)
	}
	sort.Strings(upstreams)
	if !slices.Equal(upstreams, want) {
		p.add("%s proxies to %v; want the replicas %v", caddyfile, upstreams, want)
	}
	if health != "/readyz" {
		p.add("%s: health_uri %q; want /readyz", caddyfile, health)
	}
}

// caddyUpstreams returns the upstreams of the Caddyfile's reverse_proxy
// directives and its health_uri.
func caddyUpstreams(src string) (upstreams []string, health string) {
	for _, line := range strings.Split(src, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "reverse_proxy":
			for _, u := range f[1:] {
				if u != "{" {
					upstreams = append(upstreams, u)
				}
			}
		case len(f) == 2 && f[0] == "health_uri":
			health = f[1]
		}
	}
	return upstreams, health
}

// TestComposeChecksCatchMistakes breaks a copy of the replicated file (and
// of its Caddyfile) in the ways the checks are for, one mistake at a time,
// and expects each to be reported; the unbroken copy must pass.
func TestComposeChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	known := knownEnv(t)
	if known["REDIS_ULR"] {
		t.Fatal("knownEnv accepts anything")
	}
	caddy, err := readRepoFile("deploy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		break_  func(f *composeFile)
		caddy   func(string) string // the Caddyfile as broken, nil: unchanged
		replica int                 // chathub services expected; 0: 3
		want    string              // a fragment of the problem expected
	}{
		{name: "unbroken"},
		{name: "a misspelt variable", want: "REDIS_ULR, which internal/config does not read", break_: func(f *composeFile) {
			env := f.Services["chathub-2"].Environment
			env["REDIS_ULR"] = env["REDIS_URL"]
		}},
		{name: "one replica's environment differs", want: "chathub-3's environment differs", break_: func(f *composeFile) {
			f.Services["chathub-3"].Environment["POLL_LEASE"] = "9s"
		}},
		{name: "a variable takes another's value", want: "takes ${VK_TOKEN}", break_: func(f *composeFile) {
			f.Services["chathub-1"].Environment["TELEGRAM_TOKEN"] = "${VK_TOKEN:-}"
		}},
		{name: "the database URL has no host", want: "is not a postgres:// URL", break_: func(f *composeFile) {
			f.Services["chathub-1"].Environment["DATABASE_URL"] = "postgres:chathub"
		}},
		{name: "the database host is no service", want: "names host pg, which is not a service", break_: func(f *composeFile) {
			f.Services["chathub-1"].Environment["DATABASE_URL"] = "postgres://chathub:chathub@pg:5432/chathub"
		}},
		{name: "the database password differs", want: "user, password or database differ", break_: func(f *composeFile) {
			f.Services["postgres"].Environment["POSTGRES_PASSWORD"] = "other"
		}},
		{name: "Redis is not waited for", want: "does not depend on its Redis redis", break_: func(f *composeFile) {
			delete(f.Services["chathub-2"].DependsOn, "redis")
		}},
		{name: "Redis URL is no URL", want: "is not a redis:// URL", break_: func(f *composeFile) {
			f.Services["chathub-1"].Environment["REDIS_URL"] = "redis:6379"
		}},
		{name: "the healthcheck asks /healthz", want: "want `/app/chathub probe --path /readyz`", break_: func(f *composeFile) {
			f.Services["chathub-1"].Healthcheck.Test = []string{"CMD", "/app/chathub", "probe", "--path", "/healthz"}
		}},
		{name: "a replica publishes a port", want: "only the proxy should", break_: func(f *composeFile) {
			s := f.Services["chathub-2"]
			s.Ports = []string{"8080:8080"}
			f.Services["chathub-2"] = s
		}},
		{name: "a dependency that is no service", want: "depends on pgbouncer, which is not a service", break_: func(f *composeFile) {
			f.Services["chathub-1"].DependsOn["pgbouncer"] = f.Services["chathub-1"].DependsOn["postgres"]
		}},
		{name: "an undeclared volume", want: "volume pgdata, which is not declared", break_: func(f *composeFile) {
			delete(f.Volumes, "pgdata")
		}},
		{name: "a replica too few", want: "2 chathub services", replica: 3, break_: func(f *composeFile) {
			delete(f.Services, "chathub-3")
			delete(f.Services["caddy"].DependsOn, "chathub-3")
		}},
		{name: "the proxy misses a replica", want: "want the replicas", caddy: func(c string) string {
			return strings.Replace(c, "chathub-3:8080", "", 1)
		}},
		{name: "the proxy asks /healthz", want: `health_uri "/healthz"`, caddy: func(c string) string {
			return strings.Replace(c, "health_uri /readyz", "health_uri /healthz", 1)
		}},
		{name: "the proxy publishes no 443", want: "does not publish port 443", break_: func(f *composeFile) {
			s := f.Services["caddy"]
			s.Ports = slices.DeleteFunc(slices.Clone(s.Ports), func(p string) bool { return strings.HasSuffix(p, ":443") })
			f.Services["caddy"] = s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := readCompose(t, "docker-compose.replicated.yml") // a fresh copy each time
			if tc.break_ != nil {
				tc.break_(&f)
			}
			read := readRepoFile
			if tc.caddy != nil {
				broken := tc.caddy(string(caddy))
				if broken == string(caddy) {
					t.Fatal("the Caddyfile mutation changed nothing: the test is out of date")
				}
				read = func(name string) ([]byte, error) {
					if name == "./deploy/Caddyfile" {
						return []byte(broken), nil
					}
					return readRepoFile(name)
				}
			}
			replicas := cmp.Or(tc.replica, 3)
			got := checkCompose(f, replicas, known, read)
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("the unbroken file has problems: %q", got)
				}
				return
			}
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentions %q; got %q", tc.want, got)
			}
		})
	}
	up, health := caddyUpstreams("x {\n\treverse_proxy a:1 b:1 { # c:1\n\t\thealth_uri /healthz\n\t}\n}\n")
	if !slices.Equal(up, []string{"a:1", "b:1"}) || health != "/healthz" {
		t.Errorf("caddyUpstreams = %v, %q", up, health)
	}
}
