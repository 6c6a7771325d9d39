package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAccessRule(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: " 10.1.2.3/8 ", want: "10.0.0.0/8"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "::ffff:192.0.2.0/120", want: "192.0.2.0/24"},
		{in: "country:fr", want: "country:FR"},
		{in: "Country: RU", want: "country:RU"},
		{in: "asn:64512", want: "asn:64512"},
		{in: "ASN:AS13335", want: "asn:13335"},
		{in: "", wantErr: "empty rule"},
		{in: "country:XX", wantErr: "not an ISO 3166-1"},
		{in: "country:", wantErr: "not an ISO 3166-1"},
		{in: "asn:0", wantErr: "not an AS number"},
		{in: "asn:4294967296", wantErr: "not an AS number"},
		{in: "asn:-1", wantErr: "not an AS number"},
		{in: "city:Paris", wantErr: "not an IP address, CIDR"},
		{in: "10.0.0.0/33", wantErr: "not an IP address, CIDR"},
		{in: "fe80::1%eth0", wantErr: "not an IP address, CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseAccessRule(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAccessRule(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAccessRule(%q): %v", tt.in, err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("ParseAccessRule(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAccessConfigErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "country.mmdb")
	if err := os.WriteFile(db, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad entry", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    access:
      deny: ["10.0.0.0/8", "country:ZZ"]
`, []string{"rampart.yaml:6: zones[0].access.deny[1]: \"country:ZZ\": \"ZZ\" is not an ISO 3166-1"}},
		{"geo rule without db", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    access:
      allow: ["asn:64512"]
`, []string{"zones[0].access: country or asn rules need geoip"}},
		{"missing db file", `
geoip:
  country_db: ` + filepath.Join(dir, "nope.mmdb") + `
`, []string{"rampart.yaml:3: geoip.country_db: cannot read GeoIP country database file"}},
		{"limits", `
limits:
  max_conns: 10
  max_conns_per_ip: 20
`, []string{"rampart.yaml:4: limits.max_conns_per_ip: 20 is above limits.max_conns (10)"}},
		{"negative", `
limits:
  max_conns: -1
`, []string{"limits.max_conns: must not be negative"}},
		{"proxy protocol untrusted", `
listen:
  proxy_protocol: true
`, []string{"listen.proxy_protocol: on, but trusted_proxies is empty"}},
		{"good", `
geoip:
  country_db: ` + db + `
trusted_proxies: [10.0.0.0/8]
listen:
  proxy_protocol: true
limits: {max_conns: 100, max_conns_per_ip: 10}
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    access:
      allow: ["country:fr", "192.0.2.0/24"]
      deny: ["asn:64512"]
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("rampart.yaml", []byte(tt.yaml))
			if err == nil {
				err = cfg.Validate()
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got := cfg.Zones[0].Access.Allow[0]; got != "country:fr" {
					t.Errorf("allow[0] = %q", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// FuzzParseAccessRule checks that the parser never panics, and that what
// it accepts prints to a form it parses back to the same rule.
func FuzzParseAccessRule(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.1", "::1", "2001:db8::/48", "country:DE", "asn:13335", "ASN:AS1", "country:", ":", "asn:", "1.2.3.4/", "::ffff:1.2.3.4/104"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseAccessRule(s)
		if err != nil {
			return
		}
		n := 0
		if r.Prefix.IsValid() {
			n++
			if r.Prefix != r.Prefix.Masked() || r.Prefix.Addr().Is4In6() {
				t.Fatalf("%q: prefix %v not canonical", s, r.Prefix)
			}
		}
		if r.Country != "" {
			n++
		}
		if r.ASN != 0 {
			n++
		}
		if n != 1 {
			t.Fatalf("%q: %d kinds set in %+v", s, n, r)
		}
		back, err := ParseAccessRule(r.String())
		if err != nil || back != r {
			t.Fatalf("%q: round trip %q gave %+v, %v", s, r.String(), back, err)
		}
	})
}

func TestRateLimitRules(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string
	}{
		{"good", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    rate_limit:
      rules:
        - name: api
          path: /api/
          key: header:X-Api-Key+ip
          limits: [{requests: 10, burst: 5}, {requests: 100, per: 1m}]
`, ""},
		{"bad key", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    rate_limit:
      rules:
        - name: api
          key: cookie:sid
          limits: [{requests: 10}]
`, `rampart.yaml:8: zones[0].rate_limit.rules[0].key: key "cookie:sid": unknown part "cookie:sid"`},
		{"reserved name", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    rate_limit:
      rules:
        - name: zone
          limits: [{requests: 10}]
`, `zones[0].rate_limit.rules[0].name: "zone" is used twice`},
		{"no limits", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    rate_limit:
      rules:
        - name: a
          path: api
`, "zones[0].rate_limit.rules[0].path: must start with \"/\""},
		{"bad rate", `
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    rate_limit:
      rules:
        - name: a
          limits: [{requests: 0, burst: -1}]
`, "zones[0].rate_limit.rules[0].limits[0].requests: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("rampart.yaml", []byte(tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				r := cfg.Zones[0].RateLimit.Rules[0]
				if r.Limits[0].Per != time.Second || r.Limits[1].Per != time.Minute {
					t.Errorf("per defaults: %+v", r.Limits)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestChallengeConfig(t *testing.T) {
	cfg, err := Parse("rampart.yaml", []byte(`
zones:
  - host: example.org
    origins: ["http://127.0.0.1:9"]
    under_attack: auto
    challenge:
      difficulty: 40
      exempt_paths: ["api/"]
      exempt_cidrs: ["66.249.64.0/19", "not-a-cidr"]
`))
	if err == nil {
		t.Fatalf("bad challenge settings accepted: %+v", cfg.Zones[0].Challenge)
	}
	for _, want := range []string{
		"rampart.yaml:7: zones[0].challenge.difficulty: must be from 0 (default) to 26, got 40",
		"rampart.yaml:8: zones[0].challenge.exempt_paths[0]: must start with \"/\"",
		"zones[0].challenge.exempt_cidrs[1]: not a CIDR or IP address",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	good := Challenge{ExemptCIDRs: []string{"66.249.64.0/19", "192.0.2.1"}}
	if got := fmt.Sprint(good.ExemptPrefixes()); got != "[66.249.64.0/19 192.0.2.1/32]" {
		t.Errorf("ExemptPrefixes = %s", got)
	}
}
