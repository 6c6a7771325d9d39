package cache

import (
	"net/http"
	"testing"
	"time"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// TestStorable follows RFC 9111 section 3 (and 3.5 for Authorization).
func TestStorable(t *testing.T) {
	t.Parallel()
	get := func(kv ...string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://example.org/", nil)
		r.Header = hdr(kv...)
		return r
	}
	post, _ := http.NewRequest(http.MethodPost, "http://example.org/", nil)
	tests := []struct {
		name   string
		rules  Rules
		req    *http.Request
		status int
		h      http.Header
		want   bool
		reason string
	}{
		{"200 max-age", Rules{}, get(), 200, hdr("Cache-Control", "max-age=60"), true, ""},
		{"200 without freshness is heuristically cacheable", Rules{}, get(), 200, hdr(), true, ""},
		{"404 heuristically cacheable", Rules{}, get(), 404, hdr(), true, ""},
		{"302 without explicit freshness", Rules{}, get(), 302, hdr(), false, "status"},
		{"302 with max-age", Rules{}, get(), 302, hdr("Cache-Control", "max-age=10"), true, ""},
		{"500 without explicit freshness", Rules{}, get(), 500, hdr(), false, "status"},
		{"201 with Expires", Rules{}, get(), 201, hdr("Expires", "Thu, 01 Jan 2099 00:00:00 GMT"), true, ""},
		{"no-store", Rules{}, get(), 200, hdr("Cache-Control", "max-age=60, no-store"), false, "no-store"},
		{"private", Rules{}, get(), 200, hdr("Cache-Control", "private, max-age=60"), false, "private"},
		{"qualified private", Rules{}, get(), 200, hdr("Cache-Control", `private="Set-Cookie", max-age=60`), false, "private"},
		{"no-cache is storable", Rules{}, get(), 200, hdr("Cache-Control", "no-cache", "ETag", `"a"`), true, ""},
		{"POST", Rules{}, post, 200, hdr("Cache-Control", "max-age=60"), false, "method"},
		{"206", Rules{}, get(), 206, hdr("Cache-Control", "max-age=60"), false, "status"},
		{"304", Rules{}, get(), 304, hdr("Cache-Control", "max-age=60"), false, "status"},
		{"Vary *", Rules{}, get(), 200, hdr("Cache-Control", "max-age=60", "Vary", "*"), false, "vary"},
		{"Authorization without permission", Rules{}, get("Authorization", "Bearer x"), 200, hdr("Cache-Control", "max-age=60"), false, "authorization"},
		{"Authorization with public", Rules{}, get("Authorization", "Bearer x"), 200, hdr("Cache-Control", "public, max-age=60"), true, ""},
		{"Authorization with s-maxage", Rules{}, get("Authorization", "Bearer x"), 200, hdr("Cache-Control", "s-maxage=60"), true, ""},
		{"Authorization with must-revalidate", Rules{}, get("Authorization", "Bearer x"), 200, hdr("Cache-Control", "max-age=60, must-revalidate"), true, ""},
		{"Set-Cookie refused by default", Rules{}, get(), 200, hdr("Cache-Control", "max-age=60", "Set-Cookie", "s=1"), false, "set-cookie"},
		{"Set-Cookie stored when the zone allows", Rules{StoreSetCookie: true}, get(), 200, hdr("Cache-Control", "max-age=60", "Set-Cookie", "s=1"), true, ""},
		// Issue 11 point 5: a request with cookies is stored only with
		// the origin's explicit freshness.
		{"Cookie, Last-Modified only", Rules{}, get("Cookie", "session=victim"), 200, hdr("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), false, "cookie"},
		{"Cookie, no validators", Rules{}, get("Cookie", "session=victim"), 200, hdr(), false, "cookie"},
		{"Cookie, zone default_ttl", Rules{DefaultTTL: time.Hour}, get("Cookie", "a=b"), 200, hdr(), false, "cookie"},
		{"Cookie, public alone", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "public"), false, "cookie"},
		{"Cookie, no-cache alone", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "no-cache", "ETag", `"a"`), false, "cookie"},
		{"Cookie, stale-while-revalidate alone", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "stale-while-revalidate=60"), false, "cookie"},
		{"Cookie, empty value", Rules{}, get("Cookie", ""), 200, hdr(), false, "cookie"},
		{"Cookie, 404 heuristic", Rules{}, get("Cookie", "a=b"), 404, hdr(), false, "cookie"},
		{"Cookie, public max-age", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "public, max-age=60"), true, ""},
		{"Cookie, max-age", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "max-age=60"), true, ""},
		{"Cookie, s-maxage", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "s-maxage=60"), true, ""},
		{"Cookie, Expires", Rules{}, get("Cookie", "a=b"), 200, hdr("Expires", "Thu, 01 Jan 2099 00:00:00 GMT"), true, ""},
		{"Cookie, Set-Cookie with max-age", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "max-age=60", "Set-Cookie", "s=1"), false, "set-cookie"},
		{"Cookie, private max-age", Rules{}, get("Cookie", "a=b"), 200, hdr("Cache-Control", "private, max-age=60"), false, "private"},
		{"Authorization, heuristic", Rules{}, get("Authorization", "Basic eDp5"), 200, hdr("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), false, "authorization"},
		{"Set-Cookie, heuristic", Rules{}, get(), 200, hdr("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT", "Set-Cookie", "s=1"), false, "set-cookie"},
		{"public alone, 302", Rules{}, get(), 302, hdr("Cache-Control", "public"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, reason := tt.rules.storable(tt.req, tt.status, tt.h)
			if got != tt.want || reason != tt.reason {
				t.Errorf("storable = %v %q, want %v %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

// TestFreshness follows RFC 9111 section 4.2.1 (order of precedence) and
// 4.2.2 (heuristics only where allowed).
func TestFreshness(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name               string
		rules              Rules
		status             int
		h                  http.Header
		lifetime           time.Duration
		swr, sie           time.Duration
		mustReval, noCache bool
	}{
		{"s-maxage beats max-age", Rules{}, 200, hdr("Cache-Control", "max-age=10, s-maxage=100"), 100 * time.Second, 0, 0, true, false},
		{"max-age beats Expires", Rules{}, 200, hdr("Cache-Control", "max-age=10", "Date", date, "Expires", now.Add(time.Hour).Format(http.TimeFormat)), 10 * time.Second, 0, 0, false, false},
		{"Expires minus Date", Rules{}, 200, hdr("Date", date, "Expires", now.Add(time.Hour).Format(http.TimeFormat)), time.Hour, 0, 0, false, false},
		{"Expires in the past", Rules{}, 200, hdr("Date", date, "Expires", now.Add(-time.Hour).Format(http.TimeFormat)), 0, 0, 0, false, false},
		{"invalid Expires is expired", Rules{}, 200, hdr("Date", date, "Expires", "0"), 0, 0, 0, false, false},
		{"invalid max-age is stale", Rules{}, 200, hdr("Cache-Control", "max-age=abc"), 0, 0, 0, false, false},
		{"heuristic from Last-Modified", Rules{}, 200, hdr("Date", date, "Last-Modified", now.Add(-100*time.Hour).Format(http.TimeFormat)), 10 * time.Hour, 0, 0, false, false},
		{"heuristic capped at a day", Rules{}, 200, hdr("Date", date, "Last-Modified", now.Add(-1000*time.Hour).Format(http.TimeFormat)), 24 * time.Hour, 0, 0, false, false},
		{"default_ttl as the heuristic", Rules{DefaultTTL: time.Minute}, 200, hdr(), time.Minute, 0, 0, false, false},
		{"no heuristic for 302", Rules{DefaultTTL: time.Minute}, 302, hdr(), 0, 0, 0, false, false},
		{"no heuristic with explicit max-age=0", Rules{DefaultTTL: time.Minute}, 200, hdr("Cache-Control", "max-age=0"), 0, 0, 0, false, false},
		{"max_ttl caps", Rules{MaxTTL: time.Minute}, 200, hdr("Cache-Control", "max-age=3600"), time.Minute, 0, 0, false, false},
		{"no-cache forces revalidation", Rules{DefaultTTL: time.Minute}, 200, hdr("Cache-Control", "no-cache, max-age=60"), 0, 0, 0, false, true},
		{"stale directives", Rules{}, 200, hdr("Cache-Control", "max-age=1, stale-while-revalidate=30, stale-if-error=600"), time.Second, 30 * time.Second, 600 * time.Second, false, false},
		{"zone stale defaults", Rules{StaleWhileRevalidate: 5 * time.Second, StaleIfError: time.Hour}, 200, hdr("Cache-Control", "max-age=1"), time.Second, 5 * time.Second, time.Hour, false, false},
		{"must-revalidate forbids stale", Rules{StaleIfError: time.Hour}, 200, hdr("Cache-Control", "max-age=1, must-revalidate, stale-if-error=60"), time.Second, 0, 0, true, false},
		{"proxy-revalidate forbids stale", Rules{}, 200, hdr("Cache-Control", "max-age=1, proxy-revalidate"), time.Second, 0, 0, true, false},
		{"huge max-age is clamped", Rules{}, 200, hdr("Cache-Control", "max-age=99999999999999999999"), (1 << 31) * time.Second, 0, 0, false, false},
		{"quoted value", Rules{}, 200, hdr("Cache-Control", `max-age="30"`), 30 * time.Second, 0, 0, false, false},
		{"first duplicate wins", Rules{}, 200, hdr("Cache-Control", "max-age=30", "Cache-Control", "max-age=90"), 30 * time.Second, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tt.rules.computeFreshness(tt.status, tt.h, now)
			if f.lifetime != tt.lifetime || f.swr != tt.swr || f.sie != tt.sie || f.mustRevalidate != tt.mustReval || f.noCache != tt.noCache {
				t.Errorf("freshness = %+v, want lifetime %v swr %v sie %v mustRevalidate %v noCache %v",
					f, tt.lifetime, tt.swr, tt.sie, tt.mustReval, tt.noCache)
			}
		})
	}
}

// TestAge follows RFC 9111 section 4.2.3.
func TestAge(t *testing.T) {
	t.Parallel()
	req := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	resp := req.Add(2 * time.Second)
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"response delay only", hdr(), 2 * time.Second},
		{"Age header plus delay", hdr("Age", "100"), 102 * time.Second},
		{"apparent age from Date", hdr("Date", req.Add(-60*time.Second).Format(http.TimeFormat)), 62 * time.Second},
		{"Date in the future", hdr("Date", req.Add(time.Hour).Format(http.TimeFormat)), 2 * time.Second},
		{"bad Age ignored", hdr("Age", "x"), 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := initialAge(tt.h, req, resp); got != tt.want {
				t.Errorf("initialAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBypassRequest(t *testing.T) {
	t.Parallel()
	rules := Rules{BypassPaths: []string{"/admin/"}, BypassCookies: []string{"session"}}
	tests := []struct {
		name, method, path string
		h                  http.Header
		want               string
	}{
		{"plain GET", "GET", "/a", hdr(), ""},
		{"HEAD", "HEAD", "/a", hdr(), ""},
		{"POST", "POST", "/a", hdr(), "method"},
		{"bypass path", "GET", "/admin/x", hdr(), "path"},
		{"bypass cookie", "GET", "/a", hdr("Cookie", "theme=dark; session=abc"), "cookie"},
		{"other cookie", "GET", "/a", hdr("Cookie", "theme=dark"), ""},
		{"request no-store", "GET", "/a", hdr("Cache-Control", "no-store"), "no-store"},
		{"upgrade", "GET", "/a", hdr("Upgrade", "websocket"), "upgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := http.NewRequest(tt.method, "http://example.org"+tt.path, nil)
			r.Header = tt.h
			if got := rules.bypassRequest(r); got != tt.want {
				t.Errorf("bypassRequest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules Rules
		a, b  string
		same  bool
	}{
		{"query order matters by default", Rules{}, "http://h/p?a=1&b=2", "http://h/p?b=2&a=1", false},
		{"sorted query", Rules{SortQuery: true}, "http://h/p?a=1&b=2", "http://h/p?b=2&a=1", true},
		{"ignored params", Rules{IgnoreParams: []string{"utm_source"}}, "http://h/p?a=1&utm_source=x", "http://h/p?a=1", true},
		{"host in key", Rules{}, "http://a.example/p", "http://b.example/p", false},
		{"host left out", Rules{IgnoreHost: true}, "http://a.example/p", "http://b.example/p", true},
		{"host case", Rules{}, "http://A.example./p", "http://a.example/p", true},
		// The origin is sent the port: a page it built for one port is
		// never served for another (issue 11 point 4).
		{"port in key", Rules{}, "http://a.example:8080/p", "http://a.example/p", false},
		{"paths differ", Rules{}, "http://h/p", "http://h/q", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ra, _ := http.NewRequest("GET", tt.a, nil)
			rb, _ := http.NewRequest("GET", tt.b, nil)
			ka, kb := baseKey("z", tt.rules.locate(ra)), baseKey("z", tt.rules.locate(rb))
			if (ka == kb) != tt.same {
				t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, ka == kb, tt.same)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v             string
		size          int64
		start, length int64
		st            rangeStatus
	}{
		{"bytes=0-99", 1000, 0, 100, rangeOK},
		{"bytes=900-", 1000, 900, 100, rangeOK},
		{"bytes=-100", 1000, 900, 100, rangeOK},
		{"bytes=-5000", 1000, 0, 1000, rangeOK},
		{"bytes=500-5000", 1000, 500, 500, rangeOK},
		{"bytes=1000-", 1000, 0, 0, rangeUnsatisfiable},
		{"bytes=-0", 1000, 0, 0, rangeUnsatisfiable},
		{"bytes=0-1,5-9", 1000, 0, 0, rangeIgnore},
		{"bytes=9-1", 1000, 0, 0, rangeIgnore},
		{"items=0-1", 1000, 0, 0, rangeIgnore},
		{"bytes=a-b", 1000, 0, 0, rangeIgnore},
		{"bytes=", 1000, 0, 0, rangeIgnore},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			t.Parallel()
			s, n, st := parseRange(tt.v, tt.size)
			if s != tt.start || n != tt.length || st != tt.st {
				t.Errorf("parseRange = %d %d %d, want %d %d %d", s, n, st, tt.start, tt.length, tt.st)
			}
		})
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `private="a,b", no-cache`, `s-maxage="1\"2"`, ",,,", "max-age=99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := parseCacheControl([]string{s})
		if len(d) > maxDirectives {
			t.Fatalf("%d directives", len(d))
		}
		for _, n := range []string{"max-age", "s-maxage"} {
			if v, ok := d.seconds(n); ok && v < 0 {
				t.Fatalf("negative %s %v", n, v)
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bytes=1-2,3-4"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			return
		}
		s, n, st := parseRange(v, size)
		if st == rangeOK && (s < 0 || n <= 0 || s+n > size) {
			t.Fatalf("parseRange(%q, %d) = %d %d outside the body", v, size, s, n)
		}
	})
}
