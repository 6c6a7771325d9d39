package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives is a parsed Cache-Control field: directive names in lower
// case mapped to their values ("" for a directive without argument).
type directives map[string]string

// maxDirectives bounds how many directives one field may carry; more are
// ignored, so a hostile origin cannot make the parse allocate without end.
const maxDirectives = 64

// parseCacheControl parses every Cache-Control line of h (RFC 9111
// section 5.2). Unknown directives are kept; a directive repeated keeps
// its first value, as section 4.2.1 asks for conflicting duplicates;
// quoted values lose their quotes and backslash escapes.
func parseCacheControl(values []string) directives {
	if len(values) == 0 {
		return nil
	}
	d := directives{}
	for _, line := range values {
		for len(line) > 0 && len(d) < maxDirectives {
			var part string
			part, line = nextDirective(line)
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, val, _ := strings.Cut(part, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = unquote(val[1 : len(val)-1])
			}
			if _, dup := d[name]; !dup {
				d[name] = val
			}
		}
	}
	return d
}

// nextDirective splits s at the first comma outside a quoted string.
func nextDirective(s string) (part, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (d directives) has(name string) bool {
	_, ok := d[name]
	return ok
}

// seconds returns a delta-seconds directive's value (RFC 9111 section
// 1.2.2): a non-negative integer; values too large for the clock count as
// about 68 years ("2147483648" in the RFC's words). ok is false when the
// directive is absent or its value is not a number.
func (d directives) seconds(name string) (time.Duration, bool) {
	v, ok := d[name]
	if !ok || v == "" {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > 1<<31 {
		n = 1 << 31
	}
	return time.Duration(n) * time.Second, true
}

// httpDate parses an HTTP-date header value; ok is false when it is
// missing or invalid.
func httpDate(h http.Header, name string) (time.Time, bool) {
	v := h.Get(name)
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
