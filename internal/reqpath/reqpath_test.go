package reqpath

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalise(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for a refusal
		err  error
	}{
		// Already normal.
		{"/", "/", nil},
		{"/a/b", "/a/b", nil},
		{"/a/b/", "/a/b/", nil},
		{"/a;b=c/d", "/a;b=c/d", nil},
		{"/!$&'()*+,;=:@/-._~", "/!$&'()*+,;=:@/-._~", nil},
		{"/a%20b%3C%25", "/a%20b%3C%25", nil},
		{"/%C3%A9t%C3%A9", "/%C3%A9t%C3%A9", nil},
		{"/%F0%9F%98%80", "/%F0%9F%98%80", nil},
		{"/...", "/...", nil},
		{"/.a/..b/a.", "/.a/..b/a.", nil},
		// RFC 3986 section 5.2.4's dot-segment removal and 5.4's normal
		// examples, as paths.
		{"/a/b/c/./../../g", "/a/g", nil},
		{"/mid/content=5/../6", "/mid/6", nil},
		{"/b/c/./g", "/b/c/g", nil},
		{"/b/c/.", "/b/c/", nil},
		{"/b/c/./", "/b/c/", nil},
		{"/b/c/..", "/b/", nil},
		{"/b/c/../", "/b/", nil},
		{"/b/c/../g", "/b/g", nil},
		{"/b/c/../..", "/", nil},
		{"/b/c/../../g", "/g", nil},
		{"/b/c/g.", "/b/c/g.", nil},
		{"/b/c/.g", "/b/c/.g", nil},
		{"/b/c/g..", "/b/c/g..", nil},
		{"/b/c/..g", "/b/c/..g", nil},
		{"/b/c/./../g", "/b/g", nil},
		{"/b/c/./g/.", "/b/c/g/", nil},
		{"/b/c/g/./h", "/b/c/g/h", nil},
		{"/b/c/g/../h", "/b/c/h", nil},
		{"/b/c/g;x=1/./y", "/b/c/g;x=1/y", nil},
		{"/b/c/g;x=1/../y", "/b/c/y", nil},
		{"/.", "/", nil},
		{"/./", "/", nil},
		// The red team's paths.
		{"/api/../admin/", "/admin/", nil},
		{"//admin/", "/admin/", nil},
		{"/./admin/", "/admin/", nil},
		{"//account-9", "/account-9", nil},
		{"///a////b//", "/a/b/", nil},
		{"/index.php/x.css", "/index.php/x.css", nil},
		// Encodings of the same.
		{"/api/%2e%2e/admin", "/admin", nil},
		{"/api/%2E%2E/admin", "/admin", nil},
		{"/api/.%2e/admin/", "/admin/", nil},
		{"/%2e/admin", "/admin", nil},
		{"/%61dmin", "/admin", nil},
		{"/%41%5a%7e%2D%5f", "/AZ~-_", nil},
		{"/a%3cb%3Cc%2a", "/a%3Cb%3Cc%2A", nil},
		{"/%252e%252e/admin", "/%252e%252e/admin", nil},
		{"/%25%32%65", "/%252e", nil},
		{"/a b", "/a%20b", nil},
		{"/a<b>\"{|}^`[]", "/a%3Cb%3E%22%7B%7C%7D%5E%60%5B%5D", nil},
		{"/\xc3\xa9", "/%C3%A9", nil},
		{"/%c3%a9", "/%C3%A9", nil},
		{"/%c3\xa9", "/%C3%A9", nil},
		// Refused.
		{"", "", ErrNotAbsolute},
		{"a/b", "", ErrNotAbsolute},
		{"*", "", ErrNotAbsolute},
		{"/..", "", ErrAboveRoot},
		{"/../", "", ErrAboveRoot},
		{"/../etc/passwd", "", ErrAboveRoot},
		{"/a/../../b", "", ErrAboveRoot},
		{"/%2e%2e/", "", ErrAboveRoot},
		{"/%2E%2E%2Fetc", "", ErrSlash},
		{"/admin%2f", "", ErrSlash},
		{"/api%2F..%2Fadmin", "", ErrSlash},
		{"/a\\b", "", ErrBackslash},
		{"/api/..\\admin", "", ErrBackslash},
		{"/a%5cb", "", ErrBackslash},
		{"/a%5Cb", "", ErrBackslash},
		{"/a%00b", "", ErrControl},
		{"/a%0d%0aX: y", "", ErrControl},
		{"/a\x00b", "", ErrControl},
		{"/a\tb", "", ErrControl},
		{"/a%7f", "", ErrControl},
		{"/a#b", "", ErrFragment},
		{"/a%", "", ErrEscape},
		{"/a%4", "", ErrEscape},
		{"/a%zz", "", ErrEscape},
		{"/%c0%ae%c0%ae/etc", "", ErrUTF8},
		{"/%C0%AF", "", ErrUTF8},
		{"/%e0%80%ae", "", ErrUTF8},
		{"/%ed%a0%80", "", ErrUTF8},
		{"/%ff", "", ErrUTF8},
		{"/\xff", "", ErrUTF8},
		{"/%C3", "", ErrUTF8},
		{"/%C3a", "", ErrUTF8},
		{"/api/..;/admin/", "", ErrDotParameter},
		{"/api/.;/admin/", "", ErrDotParameter},
		{"/api/..;x=1/admin", "", ErrDotParameter},
		{"/api/%2e%2e;/admin", "", ErrDotParameter},
		{"/;/admin", "", ErrDotParameter},
		{"/a/;x", "", ErrDotParameter},
		{"/get/https://example.com/", "", ErrEmbeddedURL},
		{"/get/file:///etc/passwd", "", ErrEmbeddedURL},
		{"/get/https:/example.com/", "/get/https:/example.com/", nil},
		{"/a:/", "/a:/", nil},
	}
	for _, tt := range tests {
		got, err := Normalise(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !errors.Is(err, ErrAmbiguous) {
				t.Errorf("Normalise(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalise(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if normal := IsNormal(tt.in); normal != (tt.in == tt.want) {
			t.Errorf("IsNormal(%q) = %v", tt.in, normal)
		}
		checkNormal(t, tt.in, got)
	}
}

// checkNormal asserts what the normal form promises of out, Normalise's
// answer for in.
func checkNormal(t *testing.T, in, out string) {
	t.Helper()
	if !IsNormal(out) {
		t.Fatalf("Normalise(%q) = %q, which IsNormal refuses", in, out)
	}
	if again, err := Normalise(out); err != nil || again != out {
		t.Fatalf("Normalise(%q) = %q, but Normalise(%q) = %q, %v (not idempotent)", in, out, out, again, err)
	}
	if strings.Contains(out, "//") {
		t.Fatalf("Normalise(%q) = %q has //", in, out)
	}
	for _, seg := range strings.Split(out[1:], "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("Normalise(%q) = %q has a dot segment", in, out)
		}
	}
	for i := 0; i < len(out); i++ {
		c := out[i]
		if c == '%' {
			if i+2 >= len(out) {
				t.Fatalf("Normalise(%q) = %q: truncated escape", in, out)
			}
			v := unhex(out[i+1])<<4 | unhex(out[i+2])
			if class[v]&clUnres != 0 || v == '/' || v == '\\' || v < 0x20 || v == 0x7f {
				t.Fatalf("Normalise(%q) = %q keeps %%%s encoded", in, out, out[i+1:i+3])
			}
			if strings.ToUpper(out[i+1:i+3]) != out[i+1:i+3] {
				t.Fatalf("Normalise(%q) = %q: lower-case hex", in, out)
			}
			i += 2
			continue
		}
		if class[c]&clRaw == 0 {
			t.Fatalf("Normalise(%q) = %q has raw byte %q", in, out, c)
		}
	}
	dec, err := url.PathUnescape(out)
	if err != nil || !utf8.ValidString(dec) {
		t.Fatalf("Normalise(%q) = %q does not decode to UTF-8: %q, %v", in, out, dec, err)
	}
	// Decoding once (what an origin does) gives a path with no dot
	// segment and no empty segment: nothing left to resolve.
	segs := strings.Split(dec[1:], "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || (seg == "" && i != len(segs)-1) {
			t.Fatalf("Normalise(%q) = %q decodes to %q, which an origin resolves further", in, out, dec)
		}
	}
}

func TestNormaliseNoAllocs(t *testing.T) {
	for _, p := range []string{"/", "/index.html", "/static/app.3f9c.css", "/api/v1/users/42;v=2", "/%C3%A9t%C3%A9/%3C", "/a/b/"} {
		var out string
		allocs := testing.AllocsPerRun(100, func() { out, _ = Normalise(p) })
		if allocs != 0 || out != p {
			t.Errorf("Normalise(%q) = %q with %.0f allocations, want itself and 0", p, out, allocs)
		}
	}
	r, err := http.NewRequest("GET", "http://x/static/app.css?v=3", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = "/static/app.css?v=3"
	allocs := testing.AllocsPerRun(100, func() {
		if changed, err := Apply(r); changed || err != nil {
			t.Fatal(changed, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Apply on a normal request: %.0f allocations", allocs)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		method, uri        string
		wantURI, wantPath  string
		wantRaw, wantQuery string
		changed, refused   bool
	}{
		{"GET", "/a/b?x=1", "/a/b?x=1", "/a/b", "", "x=1", false, false},
		{"GET", "/api/../admin/?q=%2e%2e", "/admin/?q=%2e%2e", "/admin/", "/admin/", "q=%2e%2e", true, false},
		{"GET", "//account-9", "/account-9", "/account-9", "/account-9", "", true, false},
		{"GET", "/x/..?", "/?", "/", "/", "", true, false},
		{"GET", "/%61%20b", "/a%20b", "/a b", "/a%20b", "", true, false},
		{"GET", "http://example.org/a/../b?c", "/b?c", "/b", "/b", "c", true, false},
		{"GET", "http://example.org", "/", "/", "/", "", true, false},
		{"OPTIONS", "*", "*", "*", "", "", false, false},
		{"GET", "*", "", "", "", "", false, true},
		{"GET", "/../x", "", "", "", "", false, true},
		{"GET", "/a%2fb", "", "", "", "", false, true},
	}
	for _, tt := range tests {
		target := tt.uri
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		r := &http.Request{Method: tt.method, URL: u, RequestURI: target, Header: http.Header{}}
		changed, err := Apply(r)
		if tt.refused {
			if err == nil || !errors.Is(err, ErrAmbiguous) || r.RequestURI != target {
				t.Errorf("%s %s: changed %v err %v, RequestURI %q: want a refusal that leaves it", tt.method, target, changed, err, r.RequestURI)
			}
			continue
		}
		if err != nil || changed != tt.changed || r.RequestURI != tt.wantURI || r.URL.Path != tt.wantPath ||
			(tt.changed && r.URL.RawPath != tt.wantRaw) || r.URL.RawQuery != tt.wantQuery {
			t.Errorf("%s %s: changed %v err %v; RequestURI %q Path %q RawPath %q RawQuery %q", tt.method, target, changed, err, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery)
		}
		if tt.changed && r.URL.RequestURI() != r.RequestURI {
			t.Errorf("%s %s: URL.RequestURI() %q, RequestURI %q", tt.method, target, r.URL.RequestURI(), r.RequestURI)
		}
	}
}

func TestWithoutParams(t *testing.T) {
	tests := []struct {
		in, want         string
		exempt, restrict bool // HasPrefix and EitherHasPrefix with "/admin/"
	}{
		{"/admin/", "/admin/", true, true},
		{"/admin;x=1/", "/admin/", false, true},
		{"/admin;jsessionid=A/b;c", "/admin/b", false, true},
		{"/admin/;x", "/admin/", true, true},
		{"/api;x/", "/api/", false, false},
		{"/admin", "/admin", false, false},
		{"/a;b;c/d;/e", "/a/d/e", false, false},
		{"/", "/", false, false},
	}
	for _, tt := range tests {
		if got := WithoutParams(tt.in); got != tt.want {
			t.Errorf("WithoutParams(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := HasPrefix(tt.in, "/admin/"); got != tt.exempt {
			t.Errorf("HasPrefix(%q, /admin/) = %v", tt.in, got)
		}
		if got := EitherHasPrefix(tt.in, "/admin/"); got != tt.restrict {
			t.Errorf("EitherHasPrefix(%q, /admin/) = %v", tt.in, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { WithoutParams("/static/app.css") }); n != 0 {
		t.Errorf("WithoutParams without ';': %.0f allocations", n)
	}
}

func TestApplyRemovesPathOverrideHeaders(t *testing.T) {
	for _, target := range []string{"/api/x", "/api/../x", "/../x"} {
		r, err := http.NewRequest("GET", "http://example.org"+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.RequestURI = target
		r.Header.Set("X-Original-URL", "/admin/")
		r.Header.Set("X-Rewrite-URL", "/admin/")
		r.Header.Set("X-Other", "kept")
		changed, _ := Apply(r)
		if !changed || len(r.Header) != 1 || r.Header.Get("X-Other") != "kept" {
			t.Errorf("%s: changed %v, headers %v; want only X-Other left", target, changed, r.Header)
		}
	}
}
