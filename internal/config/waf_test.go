package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWAFConfig(t *testing.T) {
	t.Parallel()
	const head = "zones:\n  - host: a.example\n    origins: [http://127.0.0.1:1]\n    waf:\n"
	tests := []struct {
		name    string
		waf     string
		wantErr []string // substrings of the error, in order; nil: valid
		check   func(t *testing.T, w WAF)
	}{
		{
			name: "full",
			waf: `      mode: block
      paranoia: 2
      anomaly_threshold: 10
      body_limit: 65536
      exclusions:
        - {rule: 942100, path: /search, args: [q]}
        - {rules: [941100, 941110]}
        - {args: ["user[name]"]}
      skip: {paths: [/static/], extensions: [.css, .js]}
`,
			check: func(t *testing.T, w WAF) {
				want := WAF{Mode: "block", Paranoia: 2, AnomalyThreshold: 10, BodyLimit: 65536,
					Exclusions: []WAFExclusion{
						{Rule: 942100, Path: "/search", Args: []string{"q"}},
						{Rules: []int{941100, 941110}},
						{Args: []string{"user[name]"}},
					},
					Skip: WAFSkip{Paths: []string{"/static/"}, Extensions: []string{".css", ".js"}}}
				if !reflect.DeepEqual(w, want) {
					t.Errorf("got %+v\nwant %+v", w, want)
				}
				if ids := w.Exclusions[0].IDs(); !reflect.DeepEqual(ids, []int{942100}) {
					t.Errorf("IDs = %v", ids)
				}
			},
		},
		{
			name: "defaults stay zero",
			waf:  "      mode: detect\n",
			check: func(t *testing.T, w WAF) {
				if w.Paranoia != 1 || w.AnomalyThreshold != 0 || w.BodyLimit != 0 || w.Response {
					t.Errorf("got %+v, want paranoia 1, zero (default) threshold and limit, response off", w)
				}
			},
		},
		{name: "bad mode", waf: "      mode: on\n", wantErr: []string{"rampart.yaml:5: zones[0].waf.mode"}},
		{name: "bad paranoia", waf: "      paranoia: 5\n", wantErr: []string{"zones[0].waf.paranoia: must be from 1 to 4"}},
		{name: "bad threshold", waf: "      anomaly_threshold: -1\n", wantErr: []string{"rampart.yaml:5: zones[0].waf.anomaly_threshold"}},
		{name: "bad body limit", waf: "      body_limit: 1000000000\n", wantErr: []string{"zones[0].waf.body_limit: must be from 1 to 67108864"}},
		{name: "empty exclusion", waf: "      exclusions: [{path: /x}]\n", wantErr: []string{"zones[0].waf.exclusions[0]: names no rule"}},
		{name: "bad rule id", waf: "      exclusions: [{rules: [0]}]\n", wantErr: []string{"zones[0].waf.exclusions[0].rules[0]: must be a rule id"}},
		{name: "path injection", waf: "      exclusions: [{rule: 1, path: '/x\" \"id:1,deny'}]\n", wantErr: []string{"zones[0].waf.exclusions[0].path: byte"}},
		{name: "relative path", waf: "      exclusions: [{rule: 1, path: x}]\n", wantErr: []string{`zones[0].waf.exclusions[0].path: must start with "/"`}},
		{name: "arg injection", waf: "      exclusions: [{args: ['q\"|ARGS']}]\n", wantErr: []string{"zones[0].waf.exclusions[0].args[0]"}},
		{
			name: "apps",
			waf:  "      mode: block\n      apps: [wordpress, nextcloud, drupal, dokuwiki, cpanel, xenforo]\n",
			check: func(t *testing.T, w WAF) {
				if want := []string{"wordpress", "nextcloud", "drupal", "dokuwiki", "cpanel", "xenforo"}; !reflect.DeepEqual(w.Apps, want) {
					t.Errorf("apps = %v, want %v", w.Apps, want)
				}
			},
		},
		{name: "unknown app", waf: "      apps: [wordpress, joomla]\n", wantErr: []string{
			`rampart.yaml:5: zones[0].waf.apps[1]: unknown application "joomla" (accepted: drupal, wordpress, nextcloud, dokuwiki, cpanel, xenforo)`}},
		{name: "app name is case-sensitive", waf: "      apps: [WordPress]\n", wantErr: []string{`zones[0].waf.apps[0]: unknown application "WordPress"`}},
		{name: "app listed twice", waf: "      apps: [wordpress, drupal, wordpress]\n", wantErr: []string{`zones[0].waf.apps[2]: application "wordpress" is listed twice`}},
		{
			name: "response inspection",
			waf:  "      mode: block\n      response: true\n",
			check: func(t *testing.T, w WAF) {
				if !w.Response {
					t.Error("response: true not kept")
				}
			},
		},
		{name: "bad extension", waf: "      skip: {extensions: [css]}\n", wantErr: []string{"zones[0].waf.skip.extensions[0]"}},
		{
			name: "limits",
			waf:  "      mode: block\n      limits: {args: 300, arg_name_length: 100, arg_length: 400, total_args_length: 64000}\n",
			check: func(t *testing.T, w WAF) {
				if want := (WAFLimits{Args: 300, ArgNameLength: 100, ArgLength: 400, TotalArgsLength: 64000}); w.Limits != want {
					t.Errorf("limits = %+v, want %+v", w.Limits, want)
				}
			},
		},
		{name: "limits: negative args", waf: "      limits: {args: -1}\n", wantErr: []string{"rampart.yaml:5: zones[0].waf.limits.args: must be from 1 to 10000 (0 or unset: 255), got -1"}},
		{name: "limits: too many args", waf: "      limits: {args: 10001}\n", wantErr: []string{"zones[0].waf.limits.args: must be from 1 to 10000"}},
		{name: "limits: negative name length", waf: "      limits: {arg_name_length: -5}\n", wantErr: []string{"zones[0].waf.limits.arg_name_length: must be from 1 to 65536 (0 or unset: 256)"}},
		{name: "limits: arg length past the body limit", waf: "      limits: {arg_length: 100000000}\n", wantErr: []string{"zones[0].waf.limits.arg_length: must be from 1 to 67108864 (0 or unset: no limit)"}},
		{name: "limits: negative total", waf: "      limits: {total_args_length: -1}\n", wantErr: []string{"zones[0].waf.limits.total_args_length"}},
		{name: "limits: unknown key", waf: "      limits: {max_args: 5}\n", wantErr: []string{"max_args: unknown key"}},
		{name: "bad skip path", waf: "      skip: {paths: [static]}\n", wantErr: []string{"zones[0].waf.skip.paths[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse(testName, []byte(head+tt.waf))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, cfg.Zones[0].WAF)
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error with %q", tt.wantErr)
			}
			msg := err.Error()
			at := 0
			for _, w := range tt.wantErr {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q", msg, w)
				}
				at += i + len(w)
			}
		})
	}
}

// TestNodeWAFConfig checks the top-level waf section: the node's
// inspection memory budget.
func TestNodeWAFConfig(t *testing.T) {
	t.Parallel()
	const zones = "zones:\n  - host: a.example\n    origins: [http://127.0.0.1:1]\n"
	tests := []struct {
		name     string
		yaml     string
		wantErr  string
		wantSize int64
		wantWait time.Duration
	}{
		{name: "defaults", yaml: "", wantSize: 32 << 20, wantWait: time.Second},
		{name: "set", yaml: "waf: {memory: 256MiB, memory_wait: 250ms}\n", wantSize: 256 << 20, wantWait: 250 * time.Millisecond},
		{name: "too small", yaml: "waf: {memory: 1000}\n", wantErr: `rampart.yaml:1: waf.memory: must be at least 1MiB, got "1000"`},
		{name: "not a size", yaml: "waf: {memory: lots}\n", wantErr: "waf.memory: size \"lots\" does not start with a number"},
		{name: "wait too long", yaml: "waf: {memory_wait: 1m}\n", wantErr: "waf.memory_wait: must be from 0 to 30s (0 or unset: 1s), got 1m0s"},
		{name: "negative wait", yaml: "waf: {memory_wait: -1s}\n", wantErr: "waf.memory_wait: must be from 0 to 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse(testName, []byte(tt.yaml+zones))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.WAFMemoryBytes(); got != tt.wantSize {
				t.Errorf("WAFMemoryBytes = %d, want %d", got, tt.wantSize)
			}
			if got := cfg.WAFMemoryWait(); got != tt.wantWait {
				t.Errorf("WAFMemoryWait = %s, want %s", got, tt.wantWait)
			}
		})
	}
}
