package reqpath

import (
	"net/http"
	"net/url"
	"strings"
)

// Apply normalises r's path in place, before any rule looks at it: the
// request-target's path is replaced by its normal form in r.URL.Path
// (decoded), r.URL.RawPath and r.RequestURI (escaped, the query as the
// client sent it), so that every rule reading r.URL.Path and a proxy
// sending r.RequestURI agree. An absolute-form target
// ("GET http://host/a/../b") becomes origin-form ("/b"); the asterisk form
// ("*") is accepted for OPTIONS only; CONNECT (authority form, which the
// edge refuses) is left alone. It reports whether r changed; a
// request it refuses (an error wrapping ErrAmbiguous) keeps its path.
// A request whose path is already normal is not touched and costs no
// allocation. Whatever the outcome, the OverrideHeaders are removed.
func Apply(r *http.Request) (changed bool, err error) {
	// A path in a header would be a second path the rules never see.
	for _, h := range OverrideHeaders {
		if _, ok := r.Header[h]; ok {
			delete(r.Header, h)
			changed = true
		}
	}
	if r.Method == http.MethodConnect {
		return changed, nil
	}
	uri := r.RequestURI
	if uri == "*" || (uri == "" && r.URL.Path == "*") {
		if r.Method != http.MethodOptions {
			return changed, wrap("'*' target for a method other than OPTIONS")
		}
		return changed, nil
	}
	var raw, query string
	hasQuery := false
	if uri != "" && uri[0] == '/' {
		raw, query, hasQuery = strings.Cut(uri, "?")
	} else {
		// Absolute form (or a request built in-process): the path as
		// net/url keeps it escaped.
		if r.URL.Opaque != "" {
			return changed, ErrNotAbsolute
		}
		raw = r.URL.EscapedPath()
		if raw == "" && r.URL.Host != "" {
			raw = "/"
		}
		query, hasQuery = r.URL.RawQuery, r.URL.RawQuery != "" || r.URL.ForceQuery
	}
	norm, err := Normalise(raw)
	if err != nil {
		return changed, err
	}
	if norm == raw && uri != "" && uri[0] == '/' {
		return changed, nil
	}
	path, err := url.PathUnescape(norm)
	if err != nil {
		return false, ErrEscape // cannot happen: norm is well-formed
	}
	r.URL.Path, r.URL.RawPath = path, norm
	r.URL.RawQuery, r.URL.ForceQuery = query, hasQuery && query == ""
	if hasQuery {
		r.RequestURI = norm + "?" + query
	} else {
		r.RequestURI = norm
	}
	return true, nil
}

// OverrideHeaders are request headers that some frameworks and servers
// read as the request's path in place of the request-target
// (X-Original-URL and X-Rewrite-URL: IIS URL Rewrite, Symfony, Zend,
// Laminas): "GET /api/" with "X-Original-URL: /admin/" is /admin/ to them.
// Apply removes them, so the request-target is the only path.
var OverrideHeaders = []string{"X-Original-Url", "X-Rewrite-Url"}
