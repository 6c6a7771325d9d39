package reqpath

import "strings"

// WithoutParams returns the decoded path p without the path parameters of
// its segments (from a ';' to the end of the segment): the path Tomcat,
// Jetty and other servlet containers resolve, where "/admin;x=1/" is
// "/admin/". Elsewhere ';' is an ordinary character, so a rule that
// restricts (rate_limit rule paths, cache.bypass.paths) applies when
// either form matches, and a rule that opens a hole (challenge
// exempt_paths, waf.skip) only when both do. It returns p itself, without
// allocating, when p has no ';'.
func WithoutParams(p string) string {
	if strings.IndexByte(p, ';') < 0 {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for len(p) > 0 {
		seg, rest, more := strings.Cut(p, "/")
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		b.WriteString(seg)
		if !more {
			break
		}
		b.WriteByte('/')
		p = rest
	}
	return b.String()
}

// HasPrefix reports whether the decoded path p starts with prefix both as
// it is and without its path parameters (WithoutParams): the test for a
// rule that exempts a path from a protection.
func HasPrefix(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) && strings.HasPrefix(WithoutParams(p), prefix)
}

// EitherHasPrefix reports whether the decoded path p starts with prefix
// as it is or without its path parameters: the test for a rule that adds
// a protection.
func EitherHasPrefix(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) || strings.HasPrefix(WithoutParams(p), prefix)
}
