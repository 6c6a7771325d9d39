package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultCacheMemory is the cache's memory budget when cache.memory is
// not set.
const DefaultCacheMemory = "256MiB"

// ParseSize parses a byte size: a whole number with an optional unit, B,
// KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), case
// insensitive, with an optional space ("512MiB", "10 GB", "1048576").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty size")
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q does not start with a number", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]int64{
		"": 1, "b": 1,
		"k": 1 << 10, "kb": 1000, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1000 * 1000, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1000 * 1000 * 1000, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1000 * 1000 * 1000 * 1000, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q has an unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, t[i:])
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// CacheMemoryBytes returns cache.memory in bytes (DefaultCacheMemory when
// unset). Call it on a validated config.
func (c *Config) CacheMemoryBytes() int64 {
	m := c.Cache.Memory
	if m == "" {
		m = DefaultCacheMemory
	}
	n, _ := ParseSize(m)
	return n
}

// CacheDisk returns the disk tier's directory and budget; size 0 means
// no disk tier. A relative cache.disk.path is relative to the config
// file's directory; an empty one is data_dir/cache.
func (c *Config) CacheDisk() (dir string, size int64) {
	if c.Cache.Disk.Size == "" {
		return "", 0
	}
	size, _ = ParseSize(c.Cache.Disk.Size)
	dir = c.Cache.Disk.Path
	switch {
	case dir == "":
		dir = filepath.Join(c.DataDir, "cache")
	case !filepath.IsAbs(dir) && c.Path != "":
		dir = filepath.Join(filepath.Dir(c.Path), dir)
	}
	return dir, size
}

// KeyHostOrDefault reports whether the host is part of the cache key:
// key_host, or true when unset.
func (c *Cache) KeyHostOrDefault() bool { return c.KeyHost == nil || *c.KeyHost }

// CompressOrDefault reports whether cached responses are compressed:
// compress, or true when unset.
func (c *Cache) CompressOrDefault() bool { return c.Compress == nil || *c.Compress }

// minCacheMemory is the smallest memory budget accepted (1 MiB).
const minCacheMemory = 1 << 20

// nodeCache checks the top-level cache settings.
func (v *validator) nodeCache(c *Config) {
	if c.Cache.Memory != "" {
		n, err := ParseSize(c.Cache.Memory)
		switch {
		case err != nil:
			v.errorf("cache.memory", "%v", err)
		case n < minCacheMemory:
			v.errorf("cache.memory", "must be at least 1MiB, got %q", c.Cache.Memory)
		}
	}
	d := c.Cache.Disk
	if d.Size != "" {
		n, err := ParseSize(d.Size)
		switch {
		case err != nil:
			v.errorf("cache.disk.size", "%v", err)
		case n < minCacheMemory:
			v.errorf("cache.disk.size", "must be at least 1MiB, got %q", d.Size)
		}
	} else if d.Path != "" {
		v.errorf("cache.disk.size", "required when cache.disk.path is set (the disk tier needs a budget)")
	}
}

// maxLockTimeout bounds cache.lock_timeout: a request never waits longer
// than this for another request's fetch.
const maxLockTimeout = time.Minute

// zoneCache checks a zone's cache rules.
func (v *validator) zoneCache(prefix string, c *Cache) {
	p := join(prefix, "cache")
	for _, d := range []struct {
		name string
		val  int64
	}{
		{"max_ttl", int64(c.MaxTTL)}, {"default_ttl", int64(c.DefaultTTL)},
		{"stale_while_revalidate", int64(c.StaleWhileRevalidate)}, {"stale_if_error", int64(c.StaleIfError)},
		{"lock_timeout", int64(c.LockTimeout)},
	} {
		if d.val < 0 {
			v.errorf(p+"."+d.name, "must not be negative")
		}
	}
	if c.LockTimeout > maxLockTimeout {
		v.errorf(p+".lock_timeout", "must be at most %s, got %s", maxLockTimeout, c.LockTimeout)
	}
	if c.MaxTTL > 0 && c.DefaultTTL > c.MaxTTL {
		v.errorf(p+".default_ttl", "must not exceed max_ttl (%s), got %s", c.MaxTTL, c.DefaultTTL)
	}
	for i, path := range c.Bypass.Paths {
		if !strings.HasPrefix(path, "/") {
			v.errorf(fmt.Sprintf("%s.bypass.paths[%d]", p, i), "must start with \"/\", got %q", path)
		}
	}
	for i, name := range c.Bypass.Cookies {
		if name == "" || strings.ContainsAny(name, "=; \t") {
			v.errorf(fmt.Sprintf("%s.bypass.cookies[%d]", p, i), "must be a cookie name, got %q", name)
		}
	}
	for i, name := range c.Query.Ignore {
		if name == "" {
			v.errorf(fmt.Sprintf("%s.query.ignore[%d]", p, i), "must not be empty")
		}
	}
}
