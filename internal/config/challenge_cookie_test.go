package config

import (
	"strings"
	"testing"
)

func TestChallengeCookieDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, host, aliases, domain string
		want                        string // canonical cookie_domain, or "" with wantErr
		wantErr                     string
	}{
		{"zone host itself", "example.org", "[]", "example.org", "example.org", ""},
		{"parent of host and aliases", "www.example.org", "[shop.example.org]", "example.org", "example.org", ""},
		{"leading dot and upper case", "www.example.org", "[]", ".Example.ORG.", "example.org", ""},
		{"wildcard zone under it", "*.example.org", "[]", "example.org", "example.org", ""},
		{"internationalised", "www.bücher.example", "[]", "Bücher.example", "xn--bcher-kva.example", ""},
		{"does not cover the host", "www.example.org", "[]", "example.net", "", `does not cover the zone's name "www.example.org"`},
		{"does not cover an alias", "www.example.org", "[example.net]", "example.org", "", `does not cover the zone's name "example.net"`},
		{"lookalike suffix", "www.badexample.org", "[]", "example.org", "", "does not cover"},
		{"narrower than the wildcard", "*.example.org", "[]", "a.example.org", "", `does not cover the zone's name "*.example.org"`},
		{"public suffix", "www.example.co.uk", "[]", "co.uk", "", "public suffix"},
		{"top-level domain", "www.example.org", "[]", "org", "", "public suffix"},
		{"wildcard", "www.example.org", "[]", "*.example.org", "", "not a wildcard"},
		{"IP address", "192.0.2.1", "[]", "192.0.2.1", "", "not an IP address"},
		{"port", "www.example.org", "[]", "example.org:443", "", "port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			yaml := "zones:\n  - host: \"" + tc.host + "\"\n    aliases: " + tc.aliases + "\n    origins: [\"http://127.0.0.1:9\"]\n    under_attack: \"on\"\n    challenge: {cookie_domain: \"" + tc.domain + "\"}\n"
			cfg, err := Parse("rampart.yaml", []byte(yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "zones[0].challenge.cookie_domain: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want zones[0].challenge.cookie_domain ... %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Zones[0].Challenge.CookieDomain; got != tc.want {
				t.Fatalf("cookie_domain %q, want %q", got, tc.want)
			}
		})
	}
}
