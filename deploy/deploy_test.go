// Package deploy holds the files that install rampart (the systemd unit
// and example configurations; the Dockerfile is at the repository root)
// and the tests that check them without Docker or systemd: the Dockerfile
// builds in several stages a static binary the way these tests expect and
// runs it as a non-root user with a health check; the unit has its
// hardening; the example configurations load.
package deploy

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, file string) []instruction {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if more, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stages splits the instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../Dockerfile")
	st := stages(ins)
	if len(st) < 2 {
		t.Fatalf("%d stages, want a builder and a runtime stage", len(st))
	}
	builder, runtime := st[0], st[len(st)-1]

	// The builder: the Go of go.mod, a static, trimmed build of cmd/rampart
	// with the version stamped into variables that exist.
	goVersion := goModVersion(t)
	var goArg string
	for _, in := range ins {
		if in.cmd == "ARG" && strings.HasPrefix(in.args, "GO_VERSION=") {
			goArg = strings.TrimPrefix(in.args, "GO_VERSION=")
		}
	}
	if goArg != goVersion {
		t.Errorf("ARG GO_VERSION=%s, go.mod says go %s", goArg, goVersion)
	}
	if !strings.HasPrefix(builder[0].args, "golang:${GO_VERSION}") || !strings.Contains(builder[0].args, " AS ") {
		t.Errorf("builder stage FROM %q, want golang:${GO_VERSION}... AS name", builder[0].args)
	}
	var build string
	for _, in := range builder {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath", "-o /out/rampart ./cmd/rampart", "/out/rampart version"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build step lacks %q:\n%s", want, build)
		}
	}
	stamped := regexp.MustCompile(`-X ([\w./-]+)\.(\w+)=`).FindAllStringSubmatch(build, -1)
	vars := stringVars(t, "../internal/buildinfo")
	if len(stamped) != 3 {
		t.Errorf("%d -X flags, want Version, Commit and Date", len(stamped))
	}
	for _, m := range stamped {
		if m[1] != "github.com/rampart-edge/rampart/internal/buildinfo" || !vars[m[2]] {
			t.Errorf("-X %s.%s names no string variable of internal/buildinfo", m[1], m[2])
		}
	}

	// The runtime: small, non-root, the data volume, the ports of the
	// configuration it ships, a health check through the binary.
	if img := runtime[0].args; !strings.HasPrefix(img, "gcr.io/distroless/static") && !strings.Contains(img, "-slim") {
		t.Errorf("runtime image %q, want distroless static or a slim Debian", img)
	}
	var user, volume, expose, health, configFile string
	for _, in := range runtime {
		switch in.cmd {
		case "USER":
			user = in.args
		case "VOLUME":
			volume = in.args
		case "EXPOSE":
			expose = in.args
		case "HEALTHCHECK":
			health = in.args
		case "COPY":
			if f := strings.Fields(in.args); strings.HasSuffix(f[len(f)-1], "rampart.yaml") {
				configFile = f[0]
			}
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); user == "" || uid == "0" || uid == "root" {
		t.Errorf("runtime USER %q, want a non-root user", user)
	}
	if !strings.Contains(health, `"healthcheck"`) || !strings.Contains(health, "/healthz") {
		t.Errorf("HEALTHCHECK %q, want rampart healthcheck on /healthz", health)
	}
	if _, err := os.Stat("../cmd/rampart/healthcheck.go"); err != nil {
		t.Errorf("the HEALTHCHECK's subcommand: %v", err)
	}
	if configFile == "" {
		t.Fatal("the runtime stage copies no rampart.yaml")
	}
	cfg, err := config.Load(filepath.Join("..", configFile))
	if err != nil {
		t.Fatalf("the image's configuration: %v", err)
	}
	if !strings.Contains(volume, cfg.DataDir) {
		t.Errorf("VOLUME %s does not hold the configuration's data_dir %s", volume, cfg.DataDir)
	}
	for name, addr := range map[string]string{"http": cfg.Listen.HTTP, "admin": cfg.Listen.Admin} {
		host, port, _ := strings.Cut(addr, ":")
		if host != "" || !slices.Contains(strings.Fields(expose), port) {
			t.Errorf("listen.%s %q: want every address of the container and its port in EXPOSE %q", name, addr, expose)
		}
		if name == "admin" && !strings.Contains(health, "127.0.0.1:"+port+"/healthz") {
			t.Errorf("HEALTHCHECK %q does not ask the admin port %s", health, port)
		}
	}

	// The build context keeps what the build needs.
	ignore := dockerignore(t)
	for _, p := range []string{"go.mod", "go.sum", "cmd/rampart/main.go", "internal/buildinfo/buildinfo.go", configFile,
		"internal/lists/bundled/lists.tar.zst", "internal/store/postgres/migrations/001_init.up.sql"} {
		if ignored(ignore, p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
	for _, p := range []string{".git/HEAD", "internal/certs/certs_test.go", "internal/waf/testdata/x"} {
		if !ignored(ignore, p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
}

func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	return string(m[1])
}

// stringVars returns the package-level string variables of the package in
// dir, the ones -ldflags -X can set.
func stringVars(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	out := map[string]bool{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
					for _, n := range vs.Names {
						out[n.Name] = true
					}
				}
			}
		}
	}
	return out
}

func dockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// ignored applies the .dockerignore patterns the file uses (names, globs,
// a leading **/) to p or to one of its parent folders.
func ignored(patterns []string, p string) bool {
	for dir := p; dir != "." && dir != "/"; dir = path.Dir(dir) {
		for _, pat := range patterns {
			if rest, ok := strings.CutPrefix(pat, "**/"); ok {
				if m, _ := path.Match(rest, path.Base(dir)); m {
					return true
				}
				continue
			}
			if m, _ := path.Match(pat, dir); m {
				return true
			}
		}
	}
	return false
}

// unit reads a systemd unit into key -> values (a key may repeat).
func unit(t *testing.T, file string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("%s: line %q is no key=value", file, l)
			continue
		}
		out[section+"."+k] = append(out[section+"."+k], v)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unit(t, "rampart.service")
	want := map[string]string{
		"Service.ExecStart":               "/usr/local/bin/rampart serve --config /etc/rampart/rampart.yaml",
		"Service.ExecReload":              "/bin/kill -HUP $MAINPID",
		"Service.DynamicUser":             "yes",
		"Service.StateDirectory":          "rampart",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.NoNewPrivileges":         "yes",
		"Service.CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"Service.AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.KillSignal":              "SIGTERM",
		"Install.WantedBy":                "multi-user.target",
	}
	for k, v := range want {
		if got := u[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if f := u["Service.SystemCallFilter"]; !slices.Contains(f, "@system-service") {
		t.Errorf("SystemCallFilter = %q, want @system-service", f)
	}
	if n, err := strconv.Atoi(u["Service.LimitNOFILE"][0]); err != nil || n < 65536 {
		t.Errorf("LimitNOFILE = %q, want at least 65536", u["Service.LimitNOFILE"])
	}
	// The unit's stop timeout outlasts rampart's graceful stop.
	cfg, err := config.Load("rampart.yaml")
	if err != nil {
		t.Fatalf("deploy/rampart.yaml: %v", err)
	}
	stop := strings.TrimSuffix(u["Service.TimeoutStopSec"][0], "s")
	if n, err := strconv.Atoi(stop); err != nil || float64(n) <= cfg.Timeouts.Shutdown.Seconds() {
		t.Errorf("TimeoutStopSec = %q, want more than timeouts.shutdown (%v)", u["Service.TimeoutStopSec"], cfg.Timeouts.Shutdown)
	}
	// ProtectSystem=strict leaves only the StateDirectory writable: the
	// example configuration keeps its data there.
	if cfg.DataDir != "/var/lib/rampart" {
		t.Errorf("deploy/rampart.yaml data_dir = %q, want /var/lib/rampart (StateDirectory=rampart)", cfg.DataDir)
	}
	if !strings.HasPrefix(cfg.Listen.Admin, "127.0.0.1:") {
		t.Errorf("deploy/rampart.yaml listen.admin = %q, want loopback", cfg.Listen.Admin)
	}
}
