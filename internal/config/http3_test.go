package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTP3Config(t *testing.T) {
	cert, _ := filepath.Abs("testdata/tls/example.pem")
	key, _ := filepath.Abs("testdata/tls/example.key")
	tlsBlock := "tls:\n  certificates: [{cert: " + cert + ", key: " + key + "}]\n"
	zone := "zones:\n  - host: example.org\n    origins: [\"http://127.0.0.1:9\"]\n"
	tests := []struct {
		name, yaml string
		wantErr    []string
		check      func(t *testing.T, c *Config)
	}{
		{name: "no https, no http3", yaml: zone, check: func(t *testing.T, c *Config) {
			if c.Listen.HTTP3 != "" {
				t.Errorf("http3 = %q, want off", c.Listen.HTTP3)
			}
		}},
		{name: "default follows https", yaml: tlsBlock + "listen:\n  https: 127.0.0.1:9443\n", check: func(t *testing.T, c *Config) {
			if c.Listen.HTTP3 != "127.0.0.1:9443" {
				t.Errorf("http3 = %q, want the https address", c.Listen.HTTP3)
			}
			if c.QUIC.RetryAbove != DefaultQUICRetryAbove || c.QUIC.MaxStreams != DefaultQUICMaxStreams || !c.QUIC.EarlyDataOrDefault() {
				t.Errorf("quic defaults = %+v", c.QUIC)
			}
		}},
		{name: "default https address", yaml: tlsBlock, check: func(t *testing.T, c *Config) {
			if c.Listen.HTTP3 != DefaultHTTPSAddr {
				t.Errorf("http3 = %q, want %q", c.Listen.HTTP3, DefaultHTTPSAddr)
			}
		}},
		{name: "turned off", yaml: tlsBlock + "listen:\n  http3: \"\"\n", check: func(t *testing.T, c *Config) {
			if c.Listen.HTTP3 != "" || c.Listen.HTTPS == "" {
				t.Errorf("listen = %+v, want https on and http3 off", c.Listen)
			}
		}},
		{name: "own port", yaml: tlsBlock + "listen:\n  http3: 127.0.0.1:4433\n", check: func(t *testing.T, c *Config) {
			if c.Listen.HTTP3 != "127.0.0.1:4433" {
				t.Errorf("http3 = %q", c.Listen.HTTP3)
			}
		}},
		{name: "quic knobs", yaml: tlsBlock + "quic:\n  retry_above: 0\n  max_streams: 10\n  early_data: false\n", check: func(t *testing.T, c *Config) {
			if c.QUIC.RetryAbove != 0 || c.QUIC.MaxStreams != 10 || c.QUIC.EarlyDataOrDefault() {
				t.Errorf("quic = %+v", c.QUIC)
			}
		}},
		{name: "bad address", yaml: tlsBlock + "listen:\n  http3: 4433\n",
			wantErr: []string{"rampart.yaml:4: listen.http3: not a host:port address"}},
		{name: "http3 without https", yaml: "listen:\n  http3: 127.0.0.1:4433\n",
			wantErr: []string{"rampart.yaml:2: listen.http3: set, but listen.https is off"}},
		{name: "negative retry", yaml: tlsBlock + "quic:\n  retry_above: -1\n",
			wantErr: []string{"rampart.yaml:4: quic.retry_above: must not be negative"}},
		{name: "streams range", yaml: tlsBlock + "quic:\n  max_streams: 0\n",
			wantErr: []string{"rampart.yaml:4: quic.max_streams: must be from 1 to 1000"}},
		{name: "unknown key", yaml: tlsBlock + "quic:\n  max_stream: 3\n",
			wantErr: []string{"max_stream"}},
		{name: "hsts", yaml: zone + "    hsts: {max_age: 31536000, include_subdomains: true, preload: true}\n", check: func(t *testing.T, c *Config) {
			if got, want := c.Zones[0].HSTS.Header(), "max-age=31536000; includeSubDomains; preload"; got != want {
				t.Errorf("HSTS header = %q, want %q", got, want)
			}
		}},
		{name: "hsts off by default", yaml: zone, check: func(t *testing.T, c *Config) {
			if got := c.Zones[0].HSTS.Header(); got != "" {
				t.Errorf("HSTS header = %q, want none", got)
			}
		}},
		{name: "hsts short", yaml: zone + "    hsts: {max_age: 300}\n", check: func(t *testing.T, c *Config) {
			if got := c.Zones[0].HSTS.Header(); got != "max-age=300" {
				t.Errorf("HSTS header = %q", got)
			}
		}},
		{name: "hsts negative", yaml: zone + "    hsts: {max_age: -1}\n",
			wantErr: []string{"rampart.yaml:4: zones[0].hsts.max_age: must not be negative"}},
		{name: "hsts subdomains without age", yaml: zone + "    hsts:\n      include_subdomains: true\n",
			wantErr: []string{"zones[0].hsts.max_age: required"}},
		{name: "hsts preload needs subdomains and a year", yaml: zone + "    hsts:\n      max_age: 600\n      preload: true\n",
			wantErr: []string{
				"rampart.yaml:6: zones[0].hsts.preload: needs include_subdomains",
				"zones[0].hsts.preload: needs max_age of at least 31536000",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("rampart.yaml", []byte(tt.yaml))
			if err == nil {
				err = cfg.Validate()
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}
