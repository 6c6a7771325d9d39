package cache

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unsafe"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

// location is where a request points, as the cache keys and purges it.
type location struct {
	scheme string // "http" or "https"
	host   string // as sent to the origin (reqctx.Info.Host: lower case, port if any); "" when the zone ignores the host
	path   string // the request path as sent (escaped)
	query  string // normalised: ignored parameters dropped, sorted if asked
}

// owned returns l with host, path and query copied into one new string.
// A request's strings are substrings of its whole head (internal/h1
// parses each head into one string), and an entry that held them would
// keep the head alive for as long as it is stored, cookies included.
func (l location) owned() location {
	var b strings.Builder
	b.Grow(len(l.host) + len(l.path) + len(l.query))
	b.WriteString(l.host)
	b.WriteString(l.path)
	b.WriteString(l.query)
	all, h, p := b.String(), len(l.host), len(l.path)
	return location{scheme: l.scheme, host: all[:h], path: all[h : h+p], query: all[h+p:]}
}

// locate returns the request's location under the zone's rules.
func (ru *Rules) locate(r *http.Request) location {
	l := location{scheme: "http", path: r.URL.EscapedPath(), query: ru.normaliseQuery(r.URL.RawQuery)}
	if r.TLS != nil {
		l.scheme = "https"
	}
	if l.path == "" {
		l.path = "/"
	}
	if !ru.IgnoreHost {
		// Exactly the host the origin is sent (the edge's canonical host,
		// port included): a page an origin built from a host is only ever
		// served to requests for that host.
		if info := reqctx.From(r.Context()); info != nil && info.Host != "" {
			l.host = info.Host
		} else {
			l.host = keyHost(r.Host)
		}
	}
	return l
}

// keyHost is the key form of a host without the edge (a purge URL, a
// request the edge did not see): lower case, one trailing dot of the name
// removed, the port kept.
func keyHost(h string) string {
	name, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		name, port = h[:i], h[i:]
	}
	return strings.ToLower(strings.TrimSuffix(name, ".")) + port
}

// hostMatches reports whether a purge's host want (keyHost form; "" for
// any) covers an entry's host got: equal, or equal but for got's port
// when want has none (purging https://example.org/ purges the entries of
// example.org:8443 too).
func hostMatches(want, got string) bool {
	if want == "" || want == got {
		return true
	}
	if strings.HasSuffix(want, "]") || strings.IndexByte(want, ':') < 0 {
		name, ok := cutPort(got)
		return ok && name == want
	}
	return false
}

// cutPort returns "host:port" or "[v6]:port" without its port; ok is
// false when h has no port.
func cutPort(h string) (name string, ok bool) {
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.Contains(h[i:], "]") {
		return h, false
	}
	return h[:i], true
}

// normaliseQuery drops the ignored parameters and, with SortQuery, sorts
// the rest by name then value. Parameter bytes are kept as sent otherwise,
// so that the origin and the key agree on what they mean.
func (ru *Rules) normaliseQuery(raw string) string {
	if raw == "" || (!ru.SortQuery && len(ru.IgnoreParams) == 0) {
		return raw
	}
	parts := strings.Split(raw, "&")
	out := parts[:0]
	for _, p := range parts {
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if len(ru.IgnoreParams) > 0 {
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if slices.Contains(ru.IgnoreParams, name) {
				continue
			}
		}
		out = append(out, p)
	}
	if ru.SortQuery {
		slices.Sort(out)
	}
	return strings.Join(out, "&")
}

// baseKey is the key of a location before Vary: zone, scheme, host, path
// and query, separated by NUL bytes (which cannot occur in any of them).
func baseKey(zone string, l location) string {
	b := appendBaseKey(make([]byte, 0, baseKeyLen(zone, l)), zone, l)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

func baseKeyLen(zone string, l location) int {
	return len(zone) + len(l.scheme) + len(l.host) + len(l.path) + len(l.query) + 4
}

// appendBaseKey appends baseKey(zone, l) to b.
func appendBaseKey(b []byte, zone string, l location) []byte {
	b = append(b, zone...)
	b = append(b, 0)
	b = append(b, l.scheme...)
	b = append(b, 0)
	b = append(b, l.host...)
	b = append(b, 0)
	b = append(b, l.path...)
	if l.query != "" {
		b = append(b, '?')
		b = append(b, l.query...)
	}
	return b
}

// varyKey extends base with the values of the request headers the stored
// response varies on (RFC 9111 section 4.1): values are compared after
// trimming and joining repeated lines, header names case-insensitively.
func varyKey(base string, names []string, h http.Header) string {
	if len(names) == 0 {
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	for _, n := range names {
		b.WriteString("\x00v\x00")
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strings.Join(h.Values(n), ","))
	}
	return b.String()
}

// varyNames returns the canonical header names a response's Vary lists,
// sorted and without duplicates. Accept-Encoding is left out: the cache
// fetches identity bodies and negotiates encodings itself.
func varyNames(h http.Header) []string {
	var names []string
	for _, line := range h["Vary"] {
		for _, n := range strings.Split(line, ",") {
			n = http.CanonicalHeaderKey(strings.TrimSpace(n))
			if n == "" || n == "Accept-Encoding" || slices.Contains(names, n) {
				continue
			}
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
