package config

import (
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
			var chathubs []string
			for name, s := range f.Services {
				checkService(t, f, name, s)
				if s.isChathub() {
					chathubs = append(chathubs, name)
					checkChathub(t, f, name, s, known)
				}
			}
			if len(chathubs) != tc.replicas {
				t.Errorf("%d chathub services %v; want %d", len(chathubs), chathubs, tc.replicas)
			}
			if tc.replicas > 1 {
				checkReplicas(t, f, chathubs)
			}
		})
	}
}

// checkService checks what any service refers to.
func checkService(t *testing.T, f composeFile, name string, s composeService) {
	t.Helper()
	if s.Image == "" && s.Build == nil {
		t.Errorf("service %s: neither image nor build", name)
	}
	for dep, d := range s.DependsOn {
		target, ok := f.Services[dep]
		switch {
		case !ok:
			t.Errorf("service %s depends on %s, which is not a service", name, dep)
		case d.Condition == "service_healthy" && target.Healthcheck == nil:
			t.Errorf("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
		}
	}
	for _, v := range s.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
			if _, err := os.Stat(filepath.Join("..", "..", src)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
			continue
		}
		if _, ok := f.Volumes[src]; !ok {
			t.Errorf("service %s mounts volume %s, which is not declared", name, src)
		}
	}
}

// checkChathub checks a chathub container: known variables only, URLs to
// the services, a /readyz healthcheck.
func checkChathub(t *testing.T, f composeFile, name string, s composeService, known map[string]bool) {
	t.Helper()
	for k, v := range s.Environment {
		if !known[k] {
			t.Errorf("service %s sets %s, which internal/config does not read", name, k)
		}
		for _, m := range interpolation.FindAllStringSubmatch(v, -1) {
			if m[1] != k {
				t.Errorf("service %s: %s takes ${%s}; want the variable of the same name", name, k, m[1])
			}
		}
	}
	env := s.Environment
	db, err := url.Parse(env["DATABASE_URL"])
	if err != nil || db.Scheme != "postgres" {
		t.Errorf("service %s: DATABASE_URL %q is not a postgres:// URL", name, env["DATABASE_URL"])
	} else {
		pg, ok := f.Services[db.Hostname()]
		pw, _ := db.User.Password()
		switch {
		case !ok:
			t.Errorf("service %s: DATABASE_URL names host %s, which is not a service", name, db.Hostname())
		case pg.Environment["POSTGRES_USER"] != db.User.Username() || pg.Environment["POSTGRES_PASSWORD"] != pw ||
			pg.Environment["POSTGRES_DB"] != strings.TrimPrefix(db.Path, "/"):
			t.Errorf("service %s: DATABASE_URL's user, password or database differ from service %s's", name, db.Hostname())
		}
		if _, ok := s.DependsOn[db.Hostname()]; !ok {
			t.Errorf("service %s does not depend on its database %s", name, db.Hostname())
		}
	}
	r, err := url.Parse(env["REDIS_URL"])
	if err != nil || r.Scheme != "redis" {
		t.Errorf("service %s: REDIS_URL %q is not a redis:// URL", name, env["REDIS_URL"])
	} else if _, ok := f.Services[r.Hostname()]; !ok {
		t.Errorf("service %s: REDIS_URL names host %s, which is not a service", name, r.Hostname())
	} else if _, ok := s.DependsOn[r.Hostname()]; !ok {
		t.Errorf("service %s does not depend on its Redis %s", name, r.Hostname())
	}
	if s.Healthcheck == nil {
		t.Errorf("service %s has no healthcheck", name)
	} else if hc := strings.Join(s.Healthcheck.Test, " "); !strings.Contains(hc, "/app/chathub probe") || !strings.Contains(hc, "/readyz") {
		t.Errorf("service %s: healthcheck %q; want `/app/chathub probe --path /readyz`", name, hc)
	}
	port := httpPort(t, env["HTTP_ADDR"])
	for _, p := range s.Ports {
		if !strings.HasSuffix(p, ":"+port) {
			t.Errorf("service %s publishes %s; the container listens on %s (HTTP_ADDR)", name, p, port)
		}
	}
}

// httpPort is the port of an HTTP_ADDR.
func httpPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		t.Fatalf("HTTP_ADDR %q: want host:port or :port", addr)
	}
	return port
}

// checkReplicas checks the replicated file: identical replicas that are not
// published themselves, and a proxy whose upstreams are exactly them.
func checkReplicas(t *testing.T, f composeFile, replicas []string) {
	t.Helper()
	sort.Strings(replicas)
	first := f.Services[replicas[0]]
	for _, name := range replicas {
		s := f.Services[name]
		if len(s.Ports) > 0 {
			t.Errorf("replica %s publishes ports %v; only the proxy should", name, s.Ports)
		}
		if !maps.Equal(s.Environment, first.Environment) {
			t.Errorf("replica %s's environment differs from %s's", name, replicas[0])
		}
	}
	proxy, ok := f.Services["caddy"]
	if !ok {
		t.Fatal("no caddy service")
	}
	caddyfile := ""
	for _, v := range proxy.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); strings.HasPrefix(dst, "/etc/caddy/Caddyfile") {
			caddyfile = src
		}
	}
	if caddyfile == "" {
		t.Fatal("the caddy service mounts no /etc/caddy/Caddyfile")
	}
	for _, r := range replicas {
		if _, ok := proxy.DependsOn[r]; !ok {
			t.Errorf("caddy does not depend on %s", r)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", caddyfile))
	if err != nil {
		t.Fatal(err)
	}
	upstreams, health := caddyUpstreams(string(b))
	port := httpPort(t, first.Environment["HTTP_ADDR"])
	var want []string
	for _, r := range replicas {
		want = append(want, r+":"+port)
	}
	sort.Strings(upstreams)
	if !slices.Equal(upstreams, want) {
		t.Errorf("%s proxies to %v; want the replicas %v", caddyfile, upstreams, want)
	}
	if health != "/readyz" {
		t.Errorf("%s: health_uri %q; want /readyz", caddyfile, health)
	}
	for _, p := range []string{"80", "443"} {
		if !slices.ContainsFunc(proxy.Ports, func(s string) bool { return strings.HasSuffix(s, ":"+p) }) {
			t.Errorf("caddy does not publish port %s", p)
		}
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

// TestComposeChecksCatchMistakes makes sure the checks above fail on the
// mistakes they are for.
func TestComposeChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	up, health := caddyUpstreams("x {\n\treverse_proxy a:1 b:1 { # c:1\n\t\thealth_uri /healthz\n\t}\n}\n")
	if !slices.Equal(up, []string{"a:1", "b:1"}) || health != "/healthz" {
		t.Errorf("caddyUpstreams = %v, %q", up, health)
	}
	known := knownEnv(t)
	for _, k := range []string{"REDIS_URL", "DATABASE_URL", "HTTP_ADDR", "TELEGRAM_WEBHOOK_URL", "CONSOLE_HTTPS", "CONFIG_FILE"} {
		if !known[k] {
			t.Errorf("knownEnv lacks %s", k)
		}
	}
	if known["REDIS_ULR"] {
		t.Error("knownEnv accepts anything")
	}
	if m := interpolation.FindStringSubmatch("${VK_TOKEN:-}"); m == nil || m[1] != "VK_TOKEN" {
		t.Errorf("interpolation of ${VK_TOKEN:-} = %v", m)
	}
}
