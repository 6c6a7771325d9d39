package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the testdata/good/*.golden files")

// testName is the name configs are parsed under, so expected errors read
// "rampart.yaml:LINE: ...". Its directory is ".", the package directory,
// so testdata paths inside the configs resolve.
const testName = "rampart.yaml"

// TestGoodConfigs parses every testdata/good/*.yaml and compares the result,
// defaults included, with its .golden JSON (go test -update rewrites them).
func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good configs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(testName, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed config differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestBadConfigs parses every testdata/bad/*.yaml; each file starts with
// one "# want: ..." line per expected error, in order.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				w, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "# want: ")
				if !ok {
					break
				}
				want = append(want, w)
			}
			if len(want) == 0 {
				t.Fatalf("%s has no leading \"# want: \" line", file)
			}
			cfg, err := Parse(testName, data)
			if err == nil {
				t.Fatalf("Parse succeeded with %d zones, want errors:\n%s", len(cfg.Zones), strings.Join(want, "\n"))
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors differ\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			es := AsErrors(err)
			if len(es) != len(want) {
				t.Fatalf("AsErrors gave %d errors, want %d", len(es), len(want))
			}
			for _, e := range es {
				if e.File != testName || e.Line < 1 {
					t.Errorf("error %q lacks file or line", e)
				}
			}
		})
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen.http", c.Listen.HTTP, "127.0.0.1:8080"},
		{"listen.https", c.Listen.HTTPS, ""},
		{"listen.admin", c.Listen.Admin, "127.0.0.1:9090"},
		{"data_dir", c.DataDir, "./rampart-data"},
		{"store", c.Store, ""},
		{"threshold", c.Compliance.Threshold, 0.90},
		{"read_header", c.Timeouts.ReadHeader, 10 * time.Second},
		{"read", c.Timeouts.Read, 60 * time.Second},
		{"write", c.Timeouts.Write, time.Duration(0)},
		{"idle", c.Timeouts.Idle, 120 * time.Second},
		{"dial", c.Timeouts.Dial, 5 * time.Second},
		{"response_header", c.Timeouts.ResponseHeader, 30 * time.Second},
		{"origin_idle", c.Timeouts.OriginIdle, 90 * time.Second},
		{"shutdown", c.Timeouts.Shutdown, 30 * time.Second},
		{"store timeout", c.Timeouts.Store, 5 * time.Second},
		{"max_header_bytes", c.Timeouts.MaxHeaderBytes, 64 << 10},
		{"log.format", c.Log.Format, "json"},
		{"log.level", c.Log.Level, "info"},
		{"zones", len(c.Zones), 0},
		{"trusted proxies", len(c.TrustedProxyPrefixes()), 0},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}
}

// TestZoneDefaults checks the defaults of a zone that sets nothing and that
// explicit zero values in the file are kept, not replaced by defaults.
func TestZoneDefaults(t *testing.T) {
	cfg, err := Parse(testName, []byte(`
listen: {http: "", admin: "127.0.0.1:9091"}
zones:
  - host: a.example
    origins: [http://127.0.0.1:1]
  - host: b.example
    origins: [http://127.0.0.1:1]
    retries: 0
    preserve_host: false
    health_check: {max_fails: 0, eject_for: 0s}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.HTTP != "" || cfg.Listen.Admin != "127.0.0.1:9091" {
		t.Errorf("listen = %+v, want http off and admin as set", cfg.Listen)
	}
	a, b := cfg.Zones[0], cfg.Zones[1]
	wantA := Zone{
		Host: "a.example", Origins: []string{"http://127.0.0.1:1"},
		LoadBalancing: "round_robin", Retries: 1, PreserveHost: a.PreserveHost,
		HealthCheck: HealthCheck{Interval: 5 * time.Second, Timeout: 2 * time.Second, Healthy: 2, Unhealthy: 3, MaxFails: 3, EjectFor: 10 * time.Second},
		UnderAttack: "off", WAF: WAF{Mode: "off", Paranoia: 1}, Line: 4,
	}
	if !reflect.DeepEqual(a, wantA) {
		t.Errorf("zone a = %+v\nwant %+v", a, wantA)
	}
	if a.PreserveHost == nil || !*a.PreserveHost || !a.PreserveHostOrDefault() {
		t.Errorf("zone a preserve_host = %v, want true", a.PreserveHost)
	}
	if b.Retries != 0 || b.PreserveHost == nil || *b.PreserveHost || b.HealthCheck.MaxFails != 0 || b.HealthCheck.EjectFor != 0 {
		t.Errorf("zone b lost explicit zeros: retries %d, preserve_host %v, health %+v", b.Retries, *b.PreserveHost, b.HealthCheck)
	}
	if b.Line != 6 {
		t.Errorf("zone b line = %d, want 6", b.Line)
	}

	var z Zone
	z.SetDefaults()
	wantA.Host, wantA.Origins, wantA.Line, wantA.PreserveHost = "", nil, 0, z.PreserveHost
	if !reflect.DeepEqual(z, wantA) {
		t.Errorf("SetDefaults = %+v\nwant %+v", z, wantA)
	}
}

func TestAnchorsKeepExplicitZero(t *testing.T) {
	data, err := os.ReadFile("testdata/good/anchors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(testName, data)
	if err != nil {
		t.Fatal(err)
	}
	// retries: 0 merged from the anchor is explicit, so no default of 1.
	for i, want := range []int{0, 0, 3} {
		if got := cfg.Zones[i].Retries; got != want {
			t.Errorf("zones[%d].retries = %d, want %d", i, got, want)
		}
		if got := cfg.Zones[i].WAF.Paranoia; got != 2 {
			t.Errorf("zones[%d].waf.paranoia = %d, want 2", i, got)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "etc")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile("testdata/tls/example.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("testdata/tls/example.key")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"a.pem": pem, "a.key": key} {
		if err := os.WriteFile(filepath.Join(sub, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(sub, "rampart.yaml")
	conf := "data_dir: data\ntls: {certificates: [{cert: a.pem, key: " + filepath.Join(sub, "a.key") + "}]}\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Path != path {
		t.Errorf("Path = %q, want %q", cfg.Path, path)
	}
	// Relative paths in the file are relative to the file's directory.
	if want := filepath.Join(sub, "a.pem"); cfg.TLS.Certificates[0].Cert != want {
		t.Errorf("cert = %q, want %q", cfg.TLS.Certificates[0].Cert, want)
	}
	if want := filepath.Join(sub, "data"); cfg.DataDir != want {
		t.Errorf("data_dir = %q, want %q", cfg.DataDir, want)
	}
	if cfg.Listen.HTTPS != DefaultHTTPSAddr {
		t.Errorf("https with certificates = %q, want %q", cfg.Listen.HTTPS, DefaultHTTPSAddr)
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want not exist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, err := Load(dir)
		var e *Error
		if !errors.As(err, &e) || e.File != dir || !strings.Contains(e.Msg, "directory") {
			t.Errorf("err = %v, want an *Error naming the directory", err)
		}
	})
	t.Run("error names the path", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("zones:\n  - host: x.example\n    origins: [gopher://x]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(bad)
		want := bad + `:3: zones[0].origins[0]: not an http(s) URL: "gopher://x"`
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"all", Error{"rampart.yaml", 12, "zones[0].origins[1]", "bad"}, "rampart.yaml:12: zones[0].origins[1]: bad"},
		{"no line", Error{"rampart.yaml", 0, "store", "bad"}, "rampart.yaml: store: bad"},
		{"no field", Error{"rampart.yaml", 3, "", "bad"}, "rampart.yaml:3: bad"},
		{"no file", Error{"", 0, "zones[0].host", "bad"}, "zones[0].host: bad"},
		{"line only", Error{"", 4, "", "bad"}, "line 4: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	var err error = Errors{{File: "f", Line: 1, Msg: "one"}, {File: "f", Line: 2, Msg: "two"}}
	var e *Error
	if !errors.As(err, &e) || e.Msg != "one" {
		t.Errorf("errors.As found %v, want the first error", e)
	}
}

func TestValidateInCode(t *testing.T) {
	c := Default()
	c.Zones = []Zone{{Host: "a.example", Origins: []string{"http://127.0.0.1:1"}}, {Host: "A.example", Origins: []string{"http://x"}}}
	for i := range c.Zones {
		c.Zones[i].SetDefaults()
	}
	err := c.Validate()
	want := `zones[1].host: host "a.example" is already claimed by zones[0].host`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	z := Zone{Host: "*.example", Origins: []string{"http://127.0.0.1:1"}}
	z.SetDefaults()
	if err := z.Validate(); err != nil {
		t.Errorf("Zone.Validate = %v", err)
	}
	z.Origins = []string{"http://127.0.0.1:1/path"}
	if err := z.Validate(); err == nil || !strings.HasPrefix(err.Error(), "origins[0]: ") {
		t.Errorf("Zone.Validate = %v, want an origins[0] error", err)
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	c := Default()
	c.TrustedProxies = []string{"10.1.2.3/8", "192.168.1.7", "::1", "2001:db8::1/32", "bogus"}
	got := c.TrustedProxyPrefixes()
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "www.example.org", want: "www.example.org"},
		{in: "WWW.Example.ORG.", want: "www.example.org"},
		{in: "*.Example.org", want: "*.example.org"},
		{in: "bücher.example", want: "xn--bcher-kva.example"},
		{in: "*.BÜCHER.example", want: "*.xn--bcher-kva.example"},
		{in: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{in: "localhost", want: "localhost"},
		{in: "127.0.0.1", want: "127.0.0.1"},
		{in: "::1", want: "::1"},
		{in: "[2001:DB8::1]", want: "2001:db8::1"},
		{in: "", wantErr: "empty host"},
		{in: "*", wantErr: "malformed wildcard"},
		{in: "*.", wantErr: "empty host name"},
		{in: "a.*.example", wantErr: "malformed wildcard"},
		{in: "*.*.example", wantErr: "malformed wildcard"},
		{in: "*.127.0.0.1", wantErr: "wildcard needs a domain name"},
		{in: "example.org:80", wantErr: "port"},
		{in: "a..example", wantErr: "not a valid host name"},
		{in: "under_score.example", wantErr: "not a valid host name"},
		{in: "has space.example", wantErr: "not a valid host name"},
		{in: "-lead.example", wantErr: "not a valid host name"},
		{in: strings.Repeat("a", 64) + ".example", wantErr: "not a valid host name"},
		{in: "10.0.0", wantErr: "numeric"},
		{in: "fe80::1%eth0", wantErr: "zone"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalHost(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("CanonicalHost(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("CanonicalHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that every error it returns is
// located in the file, and that a config it accepts validates again.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("zones: [{host: x.example, origins: [http://a], <<: {retries: 2}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(testName, data)
		if err != nil {
			for _, e := range AsErrors(err) {
				if e.File != testName {
					t.Fatalf("error without the file name: %v", e)
				}
				if e.Line < 1 && !strings.Contains(e.Msg, "internal parser failure") {
					t.Fatalf("error without a line: %v", e)
				}
			}
			if len(AsErrors(err)) == 0 {
				t.Fatalf("error is not a config.Error: %v", err)
			}
			if strings.Contains(err.Error(), "internal parser failure") {
				t.Fatalf("Parse recovered from a panic: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
	})
}

// FuzzCanonicalHost checks that an accepted host is canonical: lower-case
// ASCII without a trailing dot, and unchanged by a second pass.
func FuzzCanonicalHost(f *testing.F) {
	for _, s := range []string{"www.example.org", "*.Example.ORG.", "bücher.example", "[::1]", "127.0.0.1", "a.*.b", "xn--bcher-kva.example", "ｅｘａｍｐｌｅ.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CanonicalHost(in)
		if err != nil {
			return
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
				t.Fatalf("CanonicalHost(%q) = %q, not lower-case ASCII", in, out)
			}
		}
		if strings.HasSuffix(out, ".") || out == "" {
			t.Fatalf("CanonicalHost(%q) = %q", in, out)
		}
		again, err := CanonicalHost(out)
		if err != nil || again != out {
			t.Fatalf("CanonicalHost(%q) = %q, but CanonicalHost(%q) = %q, %v", in, out, out, again, err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/good/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(testName, data); err != nil {
			b.Fatal(err)
		}
	}
}
