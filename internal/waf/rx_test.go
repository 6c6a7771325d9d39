package waf

import (
	"bufio"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/goccy/go-yaml"
)

// captureState is the part of a transaction an operator uses: whether the
// rule captures, and the captured fields.
type captureState struct {
	plugintypes.TransactionState // nil: the operator must use nothing else
	capturing                    bool
	fields                       map[int]string
}

func (s *captureState) Capturing() bool { return s.capturing }
func (s *captureState) CaptureField(i int, v string) {
	if s.fields == nil {
		s.fields = map[int]string{}
	}
	s.fields[i] = v
}

// crsPattern is one @rx operand of the embedded Core Rule Set.
type crsPattern struct {
	file    string // "REQUEST-942-APPLICATION-ATTACK-SQLI.conf"
	line    int
	pattern string
}

var secRuleRx = regexp.MustCompile(`(?s)^SecRule\s+\S+\s+"((?:[^"\\]|\\.)*)"`)

// crsPatterns reads every @rx operand of the CRS files coraza-coreruleset
// embeds, joining continued lines and unescaping \" as Coraza's parser
// does.
func crsPatterns(t testing.TB) []crsPattern {
	t.Helper()
	return crsOperands(t, "@rx ")
}

// crsOperands returns the operands of every operator op ("@rx ", with its
// space) in the CRS files coraza-coreruleset embeds.
func crsOperands(t testing.TB, op string) []crsPattern {
	t.Helper()
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing the embedded CRS files: %v (%d files)", err, len(files))
	}
	var out []crsPattern
	for _, f := range files {
		data, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		var stmt strings.Builder
		start := 0
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if stmt.Len() == 0 {
				start = n
			}
			if strings.HasSuffix(line, "\\") {
				stmt.WriteString(strings.TrimSuffix(line, "\\"))
				continue
			}
			stmt.WriteString(line)
			s := strings.TrimSpace(stmt.String())
			stmt.Reset()
			m := secRuleRx.FindStringSubmatch(s)
			if m == nil || !strings.HasPrefix(m[1], op) {
				continue
			}
			p := strings.ReplaceAll(strings.TrimPrefix(m[1], op), `\"`, `"`)
			out = append(out, crsPattern{file: filepath.Base(f), line: start, pattern: p})
		}
	}
	return out
}

// crsInputs returns, by CRS rule file number ("942"), the request parts of
// the CRS regression tests for that file's rules: URIs, bodies and header
// values, raw, URL-decoded and lowercased, as the rules' transformations
// would present them.
func crsInputs(t testing.TB) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/corazawaf/coraza-coreruleset/v4").Output()
	if err != nil {
		t.Fatalf("locating coraza-coreruleset: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "tests")
	type stage struct {
		Input struct {
			URI     string            `yaml:"uri"`
			Data    string            `yaml:"data"`
			Headers map[string]string `yaml:"headers"`
		} `yaml:"input"`
	}
	type file struct {
		RuleID int `yaml:"rule_id"`
		Tests  []struct {
			Stages []stage `yaml:"stages"`
		} `yaml:"tests"`
	}
	inputs := map[string][]string{}
	seen := map[string]bool{}
	add := func(group, s string) {
		if s == "" || seen[group+"\x00"+s] {
			return
		}
		seen[group+"\x00"+s] = true
		inputs[group] = append(inputs[group], s)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f file
		if err := yaml.Unmarshal(data, &f); err != nil {
			return nil // a few files hold YAML this loose schema does not fit; the runner in test/crs reads them all
		}
		group := strconv.Itoa(f.RuleID / 1000)
		for _, tc := range f.Tests {
			for _, st := range tc.Stages {
				parts := []string{st.Input.URI, st.Input.Data}
				for _, v := range st.Input.Headers {
					parts = append(parts, v)
				}
				for _, p := range parts {
					add(group, p)
					if u, err := url.QueryUnescape(p); err == nil {
						add(group, u)
						add(group, strings.ToLower(u))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the CRS tests in %s: %v", dir, err)
	}
	return inputs
}

// extraInputs are inputs the CRS tests lack: invalid UTF-8 before an
// attack (which RE2 would stop at), newlines around anchors, long benign
// text.
var extraInputs = []string{
	"\xff' or 1=1--",
	"a\xc0\xaf../../etc/passwd",
	"<scr\xffipt>alert(1)</script>",
	"x\n<script>alert(1)</script>",
	"Upload\nmore",
	"' UNION SELECT password FROM users--\xfe",
	";cat /etc/passwd\x00",
	"${jndi:ldap://x\xff/a}",
	strings.Repeat("Hello I would like to ask about my order ", 100),
	strings.Repeat("\xe9t\xe9 ", 50) + "<img src=x onerror=alert(1)>",
	"\x1d\xe9e\xa2\x8a\x89\xa5\xa8\x1e\x96\x8a\xbb\xa9\x9e UNION SELECT 1,2--", // base64-decoded prose, then SQL
	"\xed\xa0\x80<script>\xc0\xbcalert(1)</script>",                            // a surrogate half, an overlong '<'
	"\xe2\x82 /etc/passwd \xf0\x9f",                                            // truncated sequences
	"\xef\xbf\xbd\xff\xef\xbf\xbd' or '1'='1",                                  // U+FFFD itself, then an invalid byte
}

func TestReplaceInvalidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii", "plain ascii"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"a\xffb", "a\uFFFDb"},
		{"\xff\xfe", "\uFFFD\uFFFD"}, // one per byte, not one per run
		{"\xe2\x82x", "\uFFFD\uFFFDx"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xef\xbf\xbd", "\xef\xbf\xbd"},
	}
	for _, tt := range tests {
		got := replaceInvalidUTF8(tt.in)
		if got != tt.want {
			t.Errorf("replaceInvalidUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("replaceInvalidUTF8(%q) = %q is not valid UTF-8", tt.in, got)
		}
	}
}

// TestRXMatchesGoRegexp checks rampart's @rx operator against Coraza's
// semantics (Go's regexp over "(?sm)" + pattern) for every CRS pattern on
// the CRS regression tests' own attack and benign inputs: the same
// verdict, and with capturing on, the same captured groups.
func TestRXMatchesGoRegexp(t *testing.T) {
	t.Parallel()
	patterns := crsPatterns(t)
	if len(patterns) < 250 {
		t.Fatalf("found %d @rx patterns in the embedded CRS, want the ~300 it has", len(patterns))
	}
	inputs := crsInputs(t)
	matches, evals, viaRE2 := 0, 0, 0
	for _, p := range patterns {
		op, err := newRX(plugintypes.OperatorOptions{Arguments: p.pattern})
		if err != nil {
			t.Fatalf("%s:%d: compiling %q: %v", p.file, p.line, p.pattern, err)
		}
		r, ok := op.(*rx)
		if !ok {
			continue // a binary pattern: Coraza's own matcher
		}
		if r.re2 != nil {
			viaRE2++
		}
		std := regexp.MustCompile("(?sm)" + p.pattern)
		group := strings.SplitN(p.file, "-", 3)[1]
		for _, in := range append(inputs[group], extraInputs...) {
			evals++
			want := std.MatchString(in)
			if got := op.Evaluate(&captureState{}, in); got != want {
				t.Errorf("%s:%d: %q on %q: rampart %v, Go regexp %v", p.file, p.line, p.pattern, in, got, want)
				continue
			}
			if !want {
				continue
			}
			matches++
			st := &captureState{capturing: true}
			op.Evaluate(st, in)
			sub := std.FindStringSubmatch(in)
			for i := 0; i < len(sub) && i < 9; i++ {
				if st.fields[i] != sub[i] {
					t.Errorf("%s:%d: %q on %q: capture %d = %q, Go regexp %q", p.file, p.line, p.pattern, in, i, st.fields[i], sub[i])
				}
			}
		}
	}
	t.Logf("%d patterns (%d on RE2), %d evaluations, %d matches", len(patterns), viaRE2, evals, matches)
	if viaRE2 < len(patterns)*9/10 {
		t.Errorf("only %d of %d patterns run on RE2", viaRE2, len(patterns))
	}
	if matches < 1000 {
		t.Errorf("only %d matches over %d evaluations: the inputs do not exercise the patterns", matches, evals)
	}
}

// FuzzRX checks that rampart's @rx operator and Go's regexp agree on any
// input, for every CRS pattern. Seeds: testdata/fuzz/FuzzRX.
func FuzzRX(f *testing.F) {
	for _, s := range extraInputs {
		f.Add(s)
	}
	patterns := crsPatterns(f)
	type pair struct {
		op  plugintypes.Operator
		std *regexp.Regexp
		p   crsPattern
	}
	var pairs []pair
	for _, p := range patterns {
		op, err := newRX(plugintypes.OperatorOptions{Arguments: p.pattern})
		if err != nil {
			f.Fatal(err)
		}
		pairs = append(pairs, pair{op, regexp.MustCompile("(?sm)" + p.pattern), p})
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, pp := range pairs {
			if _, ok := pp.op.(*rx); !ok {
				continue
			}
			want := pp.std.MatchString(in)
			if got := pp.op.Evaluate(&captureState{}, in); got != want {
				t.Errorf("%s:%d: %q on %q: rampart %v, Go regexp %v", pp.p.file, pp.p.line, pp.p.pattern, in, got, want)
			}
		}
	})
}
