package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"256MiB", 256 << 20, ""},
		{"10 GB", 10_000_000_000, ""},
		{"1048576", 1 << 20, ""},
		{"2gib", 2 << 30, ""},
		{"1k", 1024, ""},
		{"", 0, "empty"},
		{"MiB", 0, "does not start with a number"},
		{"12 parsecs", 0, "unknown unit"},
		{"-5MiB", 0, "does not start with a number"},
		{"99999999999TiB", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSize(%q) error %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256MiB", "1 GB", "0", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func TestCacheConfig(t *testing.T) {
	t.Parallel()
	const base = "zones:\n  - host: example.org\n    origins: [\"http://127.0.0.1:1\"]\n"
	tests := []struct {
		name, yaml, err string
	}{
		{"full", "cache: {memory: 64MiB, disk: {path: /tmp/x, size: 1GiB}}\n" + base +
			"    cache: {enabled: true, max_ttl: 1h, default_ttl: 5m, bypass: {paths: [/admin/], cookies: [session]}, query: {sort: true, ignore: [utm_source]}, key_host: false, always_online: true, stale_while_revalidate: 30s, stale_if_error: 1h}\n", ""},
		{"bad memory", "cache: {memory: lots}\n" + base, "rampart.yaml:1: cache.memory: size \"lots\" does not start with a number"},
		{"tiny memory", "cache: {memory: 10KiB}\n" + base, "cache.memory: must be at least 1MiB"},
		{"disk path without size", "cache: {disk: {path: /tmp/x}}\n" + base, "cache.disk.size: required"},
		{"bad disk size", "cache: {disk: {size: 5 apples}}\n" + base, "cache.disk.size: size \"5 apples\" has an unknown unit"},
		{"bypass path", base + "    cache: {bypass: {paths: [admin]}}\n", "zones[0].cache.bypass.paths[0]: must start with \"/\""},
		{"default above max", base + "    cache: {max_ttl: 1m, default_ttl: 1h}\n", "zones[0].cache.default_ttl: must not exceed max_ttl"},
		{"negative ttl", base + "    cache: {max_ttl: -1s}\n", "zones[0].cache.max_ttl: must not be negative"},
		{"negative lock timeout", base + "    cache: {lock_timeout: -1s}\n", "zones[0].cache.lock_timeout: must not be negative"},
		{"long lock timeout", base + "    cache: {lock_timeout: 2m}\n", "zones[0].cache.lock_timeout: must be at most 1m0s, got 2m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("rampart.yaml", []byte(tt.yaml))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				zc := c.Zones[0].Cache
				if c.CacheMemoryBytes() != 64<<20 || zc.KeyHostOrDefault() || !zc.CompressOrDefault() || zc.MaxTTL != time.Hour ||
					!zc.Query.Sort || zc.Bypass.Cookies[0] != "session" {
					t.Fatalf("parsed %+v", zc)
				}
				if dir, size := c.CacheDisk(); dir != "/tmp/x" || size != 1<<30 {
					t.Fatalf("disk %q %d", dir, size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
	d := Default()
	if d.CacheMemoryBytes() != 256<<20 {
		t.Fatalf("default memory %d", d.CacheMemoryBytes())
	}
	if dir, size := d.CacheDisk(); dir != "" || size != 0 {
		t.Fatalf("default disk %q %d", dir, size)
	}
}
