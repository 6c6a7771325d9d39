package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultWAFAnomalyThreshold is waf.anomaly_threshold's default, used
// when it is 0 or unset: the CRS
// inbound anomaly score at which a request is blocked. 5 is the score of
// one critical rule, the CRS default.
const DefaultWAFAnomalyThreshold = 5

// DefaultWAFBodyLimit is waf.body_limit's default, used when it is 0 or
// unset: 128 KiB of request
// body is inspected; the rest of a larger body streams to the origin
// uninspected.
const DefaultWAFBodyLimit = 128 << 10

// MaxWAFBodyLimit bounds waf.body_limit (64 MiB): the inspected part of a
// body is held in memory while the WAF reads it.
const MaxWAFBodyLimit = 64 << 20

// The argument limits of waf.limits (internal/waf/limits.go), checked by
// a scan of the query string and of the inspected body before Coraza
// parses them: a request past one is refused with 413 in block mode, and
// inspected only up to the limit in detect mode. Their names are the
// CRS's (tx.max_num_args, tx.arg_name_length, tx.arg_length,
// tx.total_arg_length; rules 920380, 920360, 920370, 920390).
const (
	// DefaultWAFArgs is waf.limits.args's default, used when it is 0 or
	// unset: the CRS's own value for tx.max_num_args (crs-setup.conf).
	// Each argument costs Coraza about 56 KiB of heap at paranoia 1, so
	// 255 arguments are about 14 MiB per request; ModSecurity's
	// SecArgumentsLimit of 1000 (PHP's max_input_vars) would be about
	// 57 MiB, which one request alone would push the node past the
	// 64 MiB the target allows. A zone with larger forms raises
	// it, and waf.memory with it.
	DefaultWAFArgs = 255
	// MaxWAFArgs bounds waf.limits.args.
	MaxWAFArgs = 10_000
	// DefaultWAFArgNameLength is waf.limits.arg_name_length's default,
	// used when it is 0 or unset. The CRS suggests 100; 256 leaves room
	// for frameworks' nested names (a[b][c], ASP.NET's ctl00$...).
	DefaultWAFArgNameLength = 256
	// DefaultWAFMemory is waf.memory's default: the node's budget of
	// memory for WAF inspection.
	// 32 MiB of live heap is about 64 MiB of resident memory with Go's
	// default GOGC, and about two requests at the argument limit.
	DefaultWAFMemory = "32MiB"
	// DefaultWAFMemoryWait is waf.memory_wait's default.
	DefaultWAFMemoryWait = time.Second
	// MaxWAFMemoryWait bounds waf.memory_wait.
	MaxWAFMemoryWait = 30 * time.Second
)

// WAFLimits bound the arguments (query string and body parameters:
// urlencoded pairs, multipart parts, JSON values) and cookies a request
// may carry into the WAF. Lengths are of names and values as the WAF
// sees them, percent-decoded. ArgLength and TotalArgsLength are off by
// default (0): the inspected body is already bounded by body_limit, and
// applications with long values (rich text, ASP.NET's __VIEWSTATE) are
// common.
type WAFLimits struct {
	// Args: the most arguments, query and body together (default 255);
	// cookies are counted on their own against the same number.
	Args int `yaml:"args"`
	// ArgNameLength: the longest argument or cookie name (default 256).
	ArgNameLength int `yaml:"arg_name_length"`
	// ArgLength: the longest argument value (0: no limit).
	ArgLength int `yaml:"arg_length"`
	// TotalArgsLength: the most bytes of names and values together (0:
	// no limit).
	TotalArgsLength int `yaml:"total_args_length"`
}

// NodeWAF is the node's WAF settings (the top-level waf section): the
// memory budget shared by every zone's inspections.
type NodeWAF struct {
	// Memory bounds the memory the WAF may use for the requests it
	// inspects at once, estimated per request from its size and argument
	// count before Coraza sees it (default 32MiB). A request that does
	// not fit waits up to MemoryWait, then gets 503 with Retry-After in
	// block mode (passes uninspected, logged, in detect mode).
	Memory string `yaml:"memory"`
	// MemoryWait is how long a request waits for room (default 1s, at
	// most 30s).
	MemoryWait time.Duration `yaml:"memory_wait"`
}

// WAFMemoryBytes returns waf.memory in bytes (DefaultWAFMemory when
// unset).
func (c *Config) WAFMemoryBytes() int64 {
	m := c.WAF.Memory
	if m == "" {
		m = DefaultWAFMemory
	}
	n, _ := ParseSize(m)
	return n
}

// WAFMemoryWait returns waf.memory_wait (DefaultWAFMemoryWait when 0).
func (c *Config) WAFMemoryWait() time.Duration {
	if c.WAF.MemoryWait <= 0 {
		return DefaultWAFMemoryWait
	}
	return c.WAF.MemoryWait
}

// nodeWAF checks the top-level waf section.
func (v *validator) nodeWAF(c *Config) {
	if c.WAF.Memory != "" {
		n, err := ParseSize(c.WAF.Memory)
		switch {
		case err != nil:
			v.errorf("waf.memory", "%v", err)
		case n < 1<<20:
			v.errorf("waf.memory", "must be at least 1MiB, got %q", c.WAF.Memory)
		}
	}
	if c.WAF.MemoryWait < 0 || c.WAF.MemoryWait > MaxWAFMemoryWait {
		v.errorf("waf.memory_wait", "must be from 0 to %s (0 or unset: %s), got %s", MaxWAFMemoryWait, DefaultWAFMemoryWait, c.WAF.MemoryWait)
	}
}

// wafLimits checks a zone's waf.limits; prefix is "zones[i].waf.limits".
func (v *validator) wafLimits(prefix string, l WAFLimits) {
	if l.Args < 0 || l.Args > MaxWAFArgs {
		v.errorf(prefix+".args", "must be from 1 to %d (0 or unset: %d), got %d", MaxWAFArgs, DefaultWAFArgs, l.Args)
	}
	if l.ArgNameLength < 0 || l.ArgNameLength > 1<<16 {
		v.errorf(prefix+".arg_name_length", "must be from 1 to %d (0 or unset: %d), got %d", 1<<16, DefaultWAFArgNameLength, l.ArgNameLength)
	}
	if l.ArgLength < 0 || l.ArgLength > MaxWAFBodyLimit {
		v.errorf(prefix+".arg_length", "must be from 1 to %d (0 or unset: no limit), got %d", MaxWAFBodyLimit, l.ArgLength)
	}
	if l.TotalArgsLength < 0 || l.TotalArgsLength > 2*MaxWAFBodyLimit {
		v.errorf(prefix+".total_args_length", "must be from 1 to %d (0 or unset: no limit), got %d", 2*MaxWAFBodyLimit, l.TotalArgsLength)
	}
}

// WAFApps lists the names accepted in waf.apps, in the CRS's order: the
// CRS application exclusion packages rampart embeds (internal/waf/apps,
// REQUEST-903.9001 to 903.9006 of CRS v3.3.4, the files the CRS v4
// application plugins were made from). Each turns off, for that
// application's own paths and arguments, the CRS rules its ordinary
// requests trip.
var WAFApps = []string{"drupal", "wordpress", "nextcloud", "dokuwiki", "cpanel", "xenforo"}

// WAFExclusion turns Core Rule Set rules off for a zone. Rule and Rules
// name the rule ids (at least one id, unless Args is set); Path, when set,
// limits the exclusion to request paths starting with it; Args, when set,
// removes only those request arguments (query or body parameters, by
// name) from the rules' inspection instead of the whole rules, or from
// every CRS rule when no id is given.
//
// An exclusion is a hole in the WAF: prefer the narrowest (rule id + path
// + argument name) that stops a false positive.
type WAFExclusion struct {
	Rule  int      `yaml:"rule"`
	Rules []int    `yaml:"rules"`
	Path  string   `yaml:"path"`
	Args  []string `yaml:"args"`
}

// IDs returns Rule (when set) followed by Rules.
func (e WAFExclusion) IDs() []int {
	ids := make([]int, 0, len(e.Rules)+1)
	if e.Rule != 0 {
		ids = append(ids, e.Rule)
	}
	return append(ids, e.Rules...)
}

// WAFSkip lists static assets the WAF does not inspect: GET and HEAD
// requests whose path starts with one of Paths or ends with one of
// Extensions (".css", case-insensitive) skip the WAF entirely, query
// string included. It saves the WAF's cost (about 1 ms of CPU per request)
// on assets that cannot carry an attack to a static file server; do not
// list paths an application handles dynamically. Empty (the default)
// skips nothing.
type WAFSkip struct {
	Paths      []string `yaml:"paths"`
	Extensions []string `yaml:"extensions"`
}

// waf checks a zone's waf section; prefix is "zones[i].waf".
func (v *validator) waf(prefix string, w *WAF) {
	v.oneOf(prefix+".mode", w.Mode, "off", "detect", "block")
	if w.Paranoia < 1 || w.Paranoia > 4 {
		v.errorf(prefix+".paranoia", "must be from 1 to 4, got %d", w.Paranoia)
	}
	// 0 stands for the default in both (the waf package resolves it), so
	// that configs written before these settings existed keep their meaning.
	if w.AnomalyThreshold < 0 || w.AnomalyThreshold > 10000 {
		v.errorf(prefix+".anomaly_threshold", "must be from 1 to 10000 (0 or unset: %d), got %d", DefaultWAFAnomalyThreshold, w.AnomalyThreshold)
	}
	if w.BodyLimit < 0 || w.BodyLimit > MaxWAFBodyLimit {
		v.errorf(prefix+".body_limit", "must be from 1 to %d bytes (0 or unset: %d), got %d", MaxWAFBodyLimit, DefaultWAFBodyLimit, w.BodyLimit)
	}
	v.wafLimits(prefix+".limits", w.Limits)
	for i, e := range w.Exclusions {
		ep := fmt.Sprintf("%s.exclusions[%d]", prefix, i)
		ids := e.IDs()
		if len(ids) == 0 && len(e.Args) == 0 {
			v.errorf(ep, "names no rule (rule or rules) and no args: it would exclude nothing")
		}
		if e.Rule < 0 || e.Rule > 99_999_999 {
			v.errorf(ep+".rule", "must be a rule id from 1 to 99999999, got %d", e.Rule)
		}
		for j, id := range e.Rules {
			if id < 1 || id > 99_999_999 {
				v.errorf(fmt.Sprintf("%s.rules[%d]", ep, j), "must be a rule id from 1 to 99999999, got %d", id)
			}
		}
		if e.Path != "" {
			if err := checkWAFPath(e.Path); err != nil {
				v.errorf(ep+".path", "%v", err)
			}
		}
		for j, a := range e.Args {
			if err := checkWAFArg(a); err != nil {
				v.errorf(fmt.Sprintf("%s.args[%d]", ep, j), "%v", err)
			}
		}
	}
	seen := map[string]bool{}
	for i, app := range w.Apps {
		field := fmt.Sprintf("%s.apps[%d]", prefix, i)
		if !slices.Contains(WAFApps, app) {
			v.errorf(field, "unknown application %q (accepted: %s)", app, strings.Join(WAFApps, ", "))
			continue
		}
		if seen[app] {
			v.errorf(field, "application %q is listed twice", app)
		}
		seen[app] = true
	}
	for i, p := range w.Skip.Paths {
		if err := checkWAFPath(p); err != nil {
			v.errorf(fmt.Sprintf("%s.skip.paths[%d]", prefix, i), "%v", err)
		}
	}
	for i, x := range w.Skip.Extensions {
		if len(x) < 2 || x[0] != '.' || !isWAFName(x[1:], false) {
			v.errorf(fmt.Sprintf("%s.skip.extensions[%d]", prefix, i), "must be a dot and letters or digits, such as \".css\", got %q", x)
		}
	}
}

// checkWAFPath accepts a path prefix such as "/wp-admin/": it starts with
// "/" and holds only URL path characters, none of which can end the quoted
// SecLang operand it is written into.
func checkWAFPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("must start with \"/\", got %q", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("/-._~%!$&()*+,;=:@", c) >= 0:
		default:
			return fmt.Errorf("byte %q at %d is not allowed in a path prefix %q (percent-encode it)", c, i, p)
		}
	}
	return nil
}

// checkWAFArg accepts an argument name such as "comment" or "user[name]".
func checkWAFArg(a string) error {
	if a == "" {
		return fmt.Errorf("must not be empty")
	}
	if !isWAFName(a, true) {
		return fmt.Errorf("%q holds a byte other than letters, digits and -_.[]", a)
	}
	return nil
}

func isWAFName(s string, punct bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case punct && strings.IndexByte("-_.[]", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}
