package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scaleConfig is the config bench/scale/run.sh writes: an edge-only node
// with n zones, each with the edge cache and a rate limit. Zone i
// (1-based) starts on line 4*i+1.
func scaleConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("listen: {http: \"127.0.0.1:18700\", admin: \"\"}\n")
	b.WriteString("data_dir: /tmp/rampart-data\n")
	b.WriteString("log: {format: \"off\", level: info}\n")
	b.WriteString("zones:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - host: z%06d.scale.test\n", i)
		b.WriteString("    origins: [http://127.0.0.1:18701]\n")
		b.WriteString("    cache: {enabled: true}\n")
		b.WriteString("    rate_limit: {requests: 100, per: 1s, burst: 50}\n")
	}
	return []byte(b.String())
}

// fastCases are configs in (or next to) the fast subset; each must
// decode as the general path decodes it.
var fastCases = []string{
	"zones:\n- host: a.example\n  origins:\n  - http://127.0.0.1:8081\n  retries: 0\n",
	"listen:\n  http: 127.0.0.1:8080\n  admin: ''\n",
	"listen: {http: ':8080', admin: \"\"}  # comment\n",
	"compliance: {threshold: 0.95, screening: false}\n",
	"compliance: {threshold: 1}\n",
	"compliance:\n  threshold: 0.90\n  lists: []\n",
	"timeouts: {read: 5s, write: 1m30s, max_header_bytes: 65536}\n",
	"zones:\n  - host: 'it''s.example'\n    origins: [http://a:1, 'http://b:2']\n",
	"zones: []\n",
	"zones:\n  - {host: a.example, origins: [http://x]}\n  - host: b.example\n    origins: [http://y]\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    cache:\n      enabled: true\n      bypass: {paths: [/admin/, /login], cookies: [session]}\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    rate_limit: {requests: 100, per: 1s, burst: 50}\n    waf: {mode: block, paranoia: 2}\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    preserve_host: false\n    max_body_size: 1048576\n",
	"data_dir: /var/lib/rampart # where\nlog: {format: json, level: debug}\n",
	// outside the subset, or wrong: the fast path must give up
	"zones:\n  - host: a.example\n    origins: [http://x]\n    retries: 010\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    rate_limit: {per: 5}\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    hots: b\n",
	"zones:\n  - host: a.example\n    host: b.example\n",
	"zones:\n  - host: 12\n",
	"zones:\n  - host: null\n",
	"zones:\n  - host: a.example\n    origins:\n",
	"zones:\n  - host: a\n    b\n",
	"zones:\n  - host: \"a\\tb\"\n",
	"listen: &l {http: ':80'}\n",
	"listen: {http: ':80',}\n",
	"listen: {http: ':80'\n  }\n",
	"log: {format: off}\n",
	"log: {format: yes}\n",
	"compliance: {threshold: .5}\n",
	"compliance: {threshold: 1e3}\n",
	"---\nzones: []\n",
	"zones:\n- host: a.example\n  origins: [http://x]\n- host: b.example\n  origins: [http://y]\nlog: {level: warn}\n",
	"zones:\n  - host: a.example\n    origins: [http://x] # c\n\n    # c\n    cache: {enabled: true}\n",
	"zones:\n  -   host: a.example\n      origins: [http://x]\n",
	"timeouts: {read: 1x}\n",
	"timeouts: {read: \"5s\"}\n",
	"timeouts:\n    read: 5s\n  write: 5s\n",
	"listen: {http: a:b}\n",
	"listen: {http: a: b}\n",
	"listen:\n  http: a: b\n",
	"listen:\n  http: a #b\n",
	"listen:\n  http: a#b\n",
	"dashboard: {traffic: True}\n",
	"trusted_proxies: [10.0.0.0/8, \"::1/128\"]\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    waf: {paranoia: -1}\n",
	// strings that look like other things
	"data_dir: 2001-12-14\n", "data_dir: 15:04\n", "data_dir: 0.5.1\n", "log: {format: off now}\n",
	"data_dir: a - b\n", "data_dir: \"a #b\"\n", "data_dir: a:b:c\n", "store: x?y=1&z=%20\n",
	"data_dir: 12:30:00\n", "data_dir: 2001-12-14T21:59:43Z\n", "trusted_proxies: [::1/128]\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    retries: -0\n",
	"zones:\n  - host: a.example\n    origins: [http://x]\n    retries: 9223372036854775807\n",
	"compliance: {threshold: -0.0}\n", "compliance: {threshold: 0.1234567890123456789}\n",
}

// checkFast compares the fast path with the general path on data: a
// config the fast path accepts must decode to the same value with the
// same field lines, and Parse must answer the same either way. It
// reports whether the fast path accepted data.
func checkFast(t *testing.T, data []byte) bool {
	t.Helper()
	fc, fsrc, ok := parseFast(testName, data)
	if ok {
		gc, gsrc, shapeErrs, err := parseGeneral(testName, data)
		if err != nil || len(shapeErrs) > 0 {
			t.Fatalf("fast path accepted what the general path refuses: %v %v\n%s", err, shapeErrs, data)
		}
		if !reflect.DeepEqual(fc, gc) {
			t.Fatalf("fast and general decode differ:\nfast    %+v\ngeneral %+v\n%s", fc, gc, data)
		}
		if fl, gl := flatLines(fsrc), flatLines(gsrc); !reflect.DeepEqual(fl, gl) {
			t.Fatalf("fast and general field lines differ:\nfast    %v\ngeneral %v\n%s", fl, gl, data)
		}
	}
	fcfg, ferr := parse(testName, data, true)
	gcfg, gerr := parse(testName, data, false)
	if fmt.Sprint(ferr) != fmt.Sprint(gerr) {
		t.Fatalf("errors differ:\nfast    %v\ngeneral %v\n%s", ferr, gerr, data)
	}
	if !reflect.DeepEqual(fcfg, gcfg) {
		t.Fatalf("configs differ:\nfast    %+v\ngeneral %+v\n%s", fcfg, gcfg, data)
	}
	return ok
}

// flatLines is every field path src records, with its line.
func flatLines(src *source) map[string]int {
	out := map[string]int{}
	for p, l := range src.lines {
		out[p] = l
	}
	for _, fl := range src.zoneLines {
		p := zonePath(int(fl.zone))
		if fl.path != "" {
			p += "." + fl.path
		}
		if _, ok := out[p]; !ok || fl.line > 0 {
			out[p] = int(fl.line)
		}
		if l, ok := src.lookup(p); !ok || l != out[p] {
			panic(fmt.Sprintf("lookup(%q) = %d, %v; want %d", p, l, ok, out[p]))
		}
	}
	return out
}

// TestFastParseSameAsGeneral runs checkFast on every test config, the
// cases above and a config of many zones, which must take the fast path.
func TestFastParseSameAsGeneral(t *testing.T) {
	fast := 0
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if checkFast(t, data) {
			fast++
		}
	}
	for _, c := range fastCases {
		if checkFast(t, []byte(c)) {
			fast++
		}
	}
	if fast < 20 {
		t.Errorf("only %d configs took the fast path", fast)
	}
	for _, want := range []string{"testdata/good/minimal.yaml", "testdata/good/product.yaml"} {
		data, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := parseFast(testName, data); !ok {
			t.Errorf("%s did not take the fast path", want)
		}
	}
	if !checkFast(t, scaleConfig(300)) {
		t.Error("the scale config did not take the fast path")
	}
}

// TestFastParseErrorLines: a problem in zone 9,999 of 10,000 is named by
// its line and field, whether the fast path finds the config well formed
// and validation refuses it, or the fast path gives up on it.
func TestFastParseErrorLines(t *testing.T) {
	const n, bad = 10000, 9999
	zoneLine := 4*bad + 1
	tests := []struct {
		name, from, to, want string
	}{
		{"invalid origin", "origins: [http://127.0.0.1:18701]", "origins: [ftp://127.0.0.1:18701]",
			fmt.Sprintf("rampart.yaml:%d: zones[%d].origins[0]: ", zoneLine+1, bad-1)},
		{"unknown key", "cache: {enabled: true}", "cache: {enabld: true}",
			fmt.Sprintf("rampart.yaml:%d: zones[%d].cache.enabld: unknown key; did you mean \"enabled\"?", zoneLine+2, bad-1)},
		{"bad duration", "per: 1s", "per: 1", fmt.Sprintf("rampart.yaml:%d: zones[%d].rate_limit.per: not a duration", zoneLine+3, bad-1)},
		{"duplicate host", fmt.Sprintf("z%06d.", bad), "z000001.",
			fmt.Sprintf("rampart.yaml:%d: zones[%d].host: ", zoneLine, bad-1)},
	}
	base := string(scaleConfig(n))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := strings.SplitAfter(base, "\n")
			for i := zoneLine - 1; i < zoneLine+3; i++ {
				lines[i] = strings.Replace(lines[i], tt.from, tt.to, 1)
			}
			data := []byte(strings.Join(lines, ""))
			if string(data) == base {
				t.Fatal("the test did not change the config")
			}
			_, err := Parse(testName, data)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v; want it to start with %q", err, tt.want)
			}
		})
	}
}

// FuzzFastParse checks the fast path against the general path.
func FuzzFastParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	f.Add(scaleConfig(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		checkFast(t, data)
	})
}

func BenchmarkParseZones(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		data := scaleConfig(n)
		for _, fast := range []bool{true, false} {
			b.Run(fmt.Sprintf("zones=%d/fast=%v", n, fast), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := parse(testName, data, fast); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestPlainHost: a name plainHost lets through is one the IDNA path
// returns unchanged.
func TestPlainHost(t *testing.T) {
	tests := []struct {
		in    string
		plain bool
	}{
		{"z000001.scale.test", true},
		{"www.example.org", true},
		{"a-b.c-d.example", true},
		{"a", true},
		{strings.Repeat("a", 63) + ".example", true},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("a.", 127) + "ab", false},
		{"Example.org", false},
		{"example.org.", false},
		{"xn--bcher-kva.example", false},
		{"a--b.example", false},
		{"-a.example", false},
		{"a-.example", false},
		{"a..example", false},
		{".example", false},
		{"127.0.0.1", false},
		{"example.123", false},
		{"*.example.org", false},
		{"a_b.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := plainHost(tt.in); got != tt.plain {
			t.Errorf("plainHost(%q) = %v, want %v", tt.in, got, tt.plain)
		}
		checkPlainHost(t, tt.in)
	}
}

func checkPlainHost(t *testing.T, in string) {
	t.Helper()
	if !plainHost(in) {
		return
	}
	if out, err := canonicalHost(in); err != nil || out != in {
		t.Fatalf("plainHost(%q), but the IDNA path gives %q, %v", in, out, err)
	}
}

func FuzzPlainHost(f *testing.F) {
	for _, s := range []string{"www.example.org", "a-b.example", "a--b.example", "xn--bcher-kva.example", "example.123", "a"} {
		f.Add(s)
	}
	f.Fuzz(checkPlainHost)
}
