package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// parseBytes runs the server's head reader and parser over raw.
func parseBytes(raw string, limit int) (*http.Request, *parsedHead, error) {
	br := bufio.NewReaderSize(strings.NewReader(raw), 4096)
	head, err := readHead(br, limit, nil)
	if err != nil {
		return nil, nil, err
	}
	// As the server calls it: URL storage, a header map emptied by clear
	// (ReuseRequestHeader), a few value slots.
	r := &http.Request{URL: new(url.URL)}
	h := http.Header{"Stale": {"x"}}
	clear(h)
	var ph parsedHead
	if err := parseHead(head, r, &ph, make([]string, 4), h); err != nil {
		return nil, nil, err
	}
	return r, &ph, nil
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name, raw  string
		method     string
		url        *url.URL
		host       string
		header     http.Header
		cl         int64
		close      bool
		chunked    bool
		keepAlive  bool
		protoMinor int
	}{
		{
			name:   "simple GET",
			raw:    "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/index.html", RawQuery: "q=1"}, host: "example.com",
			header: http.Header{"User-Agent": {"t"}}, protoMinor: 1,
		},
		{
			name:   "keys canonicalised, values trimmed, repeated keys kept in order",
			raw:    "GET / HTTP/1.1\r\nhost: a\r\naccept-ENCODING: \t gzip \t\r\nX-a: 1\r\nx-A: 2\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/"}, host: "a",
			header: http.Header{"Accept-Encoding": {"gzip"}, "X-A": {"1", "2"}}, protoMinor: 1,
		},
		{
			name:   "absolute-form: the URL's host wins",
			raw:    "GET http://origin.test:8080/p HTTP/1.1\r\nHost: other\r\n\r\n",
			method: "GET", url: &url.URL{Scheme: "http", Host: "origin.test:8080", Path: "/p"}, host: "origin.test:8080",
			header: http.Header{}, protoMinor: 1,
		},
		{
			name:   "asterisk-form OPTIONS",
			raw:    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			method: "OPTIONS", url: &url.URL{Path: "*"}, host: "a", header: http.Header{}, protoMinor: 1,
		},
		{
			name:   "CONNECT authority-form",
			raw:    "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
			method: "CONNECT", url: &url.URL{Host: "a.test:443"}, host: "a.test:443", header: http.Header{}, protoMinor: 1,
		},
		{
			name:   "escaped path",
			raw:    "GET /a%20b/c HTTP/1.1\r\nHost: a\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/a b/c", RawPath: ""}, host: "a", header: http.Header{}, protoMinor: 1,
		},
		{
			name:   "Content-Length body",
			raw:    "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
			method: "POST", url: &url.URL{Path: "/f"}, host: "a", header: http.Header{"Content-Length": {"5"}}, cl: 5, protoMinor: 1,
		},
		{
			name:   "identical duplicate Content-Length folded into one",
			raw:    "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
			method: "POST", url: &url.URL{Path: "/f"}, host: "a", header: http.Header{"Content-Length": {"5"}}, cl: 5, protoMinor: 1,
		},
		{
			name:   "chunked",
			raw:    "POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
			method: "POST", url: &url.URL{Path: "/f"}, host: "a", header: http.Header{}, cl: -1, chunked: true, protoMinor: 1,
		},
		{
			name:   "Connection: close",
			raw:    "GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/"}, host: "a", header: http.Header{"Connection": {"Close"}}, close: true, protoMinor: 1,
		},
		{
			name:   "HTTP/1.0 closes by default, Host optional",
			raw:    "GET / HTTP/1.0\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/"}, header: http.Header{}, close: true,
		},
		{
			name:   "HTTP/1.0 keep-alive",
			raw:    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/"}, header: http.Header{"Connection": {"keep-alive"}}, keepAlive: true,
		},
		{
			name:   "Pragma no-cache sets Cache-Control, as net/http",
			raw:    "GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n",
			method: "GET", url: &url.URL{Path: "/"}, host: "a",
			header: http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"no-cache"}}, protoMinor: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ph, err := parseBytes(tt.raw, 1<<20)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if r.Method != tt.method || !reflect.DeepEqual(r.URL, tt.url) || r.Host != tt.host {
				t.Errorf("method %q url %#v host %q, want %q %#v %q", r.Method, r.URL, r.Host, tt.method, tt.url, tt.host)
			}
			if !reflect.DeepEqual(r.Header, tt.header) {
				t.Errorf("header %v, want %v", r.Header, tt.header)
			}
			if r.ContentLength != tt.cl || r.Close != tt.close || ph.chunked != tt.chunked || ph.wants10KeepAlive != tt.keepAlive || r.ProtoMinor != tt.protoMinor || r.ProtoMajor != 1 {
				t.Errorf("cl %d close %v chunked %v keepalive %v minor %d, want %d %v %v %v %d",
					r.ContentLength, r.Close, ph.chunked, ph.wants10KeepAlive, r.ProtoMinor, tt.cl, tt.close, tt.chunked, tt.keepAlive, tt.protoMinor)
			}
		})
	}
}

func TestParseRefused(t *testing.T) {
	many := "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", maxHeaderCount) + "\r\n"
	tests := []struct {
		name, raw string
		limit     int
		want      *requestError
	}{
		{"Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 0, errCLandTE},
		{"differing Content-Lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 0, errMultipleCL},
		{"Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", 0, errBadCL},
		{"negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 0, errBadCL},
		{"signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 0, errBadCL},
		{"empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 0, errBadCL},
		{"huge Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 0, errBadCL},
		{"gzip transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, errUnsupportedTE},
		{"two Transfer-Encoding lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0, errUnsupportedTE},
		{"Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, errTE10},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 0, errObsFold},
		{"leading whitespace on the first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0, errObsFold},
		{"bare LF ending a header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 0, errBareLF},
		{"bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, errBareLF},
		{"bare LF head", "GET / HTTP/1.1\nHost: a\n\n", 0, errBareLF},
		{"bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 0, errHeaderValue},
		{"NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 0, errHeaderValue},
		{"DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 0, errHeaderValue},
		{"space before the colon", "GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n", 0, errHeaderName},
		{"separator in a name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", 0, errHeaderName},
		{"non-ASCII name", "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: z\r\n\r\n", 0, errHeaderName},
		{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nXy\r\n\r\n", 0, errHeaderLine},
		{"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n", 0, errHeaderLine},
		{"missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 0, errMissingHost},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, errTooManyHosts},
		{"malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, errBadHost},
		{"malformed request line", "GET /\r\nHost: a\r\n\r\n", 0, errMalformedLine},
		{"double space in request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, errVersion},
		{"invalid method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0, errMethod},
		{"bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 0, errVersion},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, errVersionNotSup},
		{"HTTP/3", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 0, errVersionNotSup},
		{"control byte in target", "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", 0, errURL},
		{"empty request line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, errEmptyLine},
		{"head over the limit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 200) + "\r\n\r\n", 128, errHeadTooLarge},
		{"request line over the limit", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 8192, errHeadTooLarge},
		{"too many header lines", many, 0, errTooManyFields},
		{"bad trailer key", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n", 0, errBadTrailer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			_, _, err := parseBytes(tt.raw, limit)
			if err != tt.want {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReadHeadLarge reads heads bigger than the 4 KiB buffer, in pieces.
func TestReadHeadLarge(t *testing.T) {
	long := strings.Repeat("v", 3000)
	raw := "GET / HTTP/1.1\r\nHost: a\r\nA: " + long + "\r\nB: " + long + "\r\nC: " + long + "\r\n\r\nNEXT"
	br := bufio.NewReaderSize(iotestOneByte{strings.NewReader(raw)}, 4096)
	head, err := readHead(br, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := raw[:len(raw)-4]; head != want {
		t.Fatalf("head of %d bytes, want %d", len(head), len(want))
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "NEXT" {
		t.Fatalf("left %q, want NEXT", rest)
	}
	// A CR at the end of one buffer and its LF at the start of the next.
	raw = "GET / HTTP/1.1\r\nHost: a\r\nA: " + strings.Repeat("v", 4096-len("GET / HTTP/1.1\r\nHost: a\r\nA: ")-1) + "\r\n\r\n"
	br = bufio.NewReaderSize(strings.NewReader(raw), 4096)
	if head, err = readHead(br, 1<<20, nil); err != nil || head != raw {
		t.Fatalf("split CRLF: %v", err)
	}
}

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// refParse is net/http's decision on the same bytes: http.ReadRequest plus
// the checks its server makes before calling a handler.
func refParse(raw []byte) (*http.Request, error) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, err
	}
	if req.ProtoMajor != 1 && !(req.ProtoMajor == 2 && req.ProtoMinor == 0 && req.Method == "PRI" && req.RequestURI == "*") {
		return nil, errors.New("unsupported protocol version")
	}
	// http.ReadRequest drops the Host header: find it in the raw head.
	hosts := hostLines(raw)
	if req.ProtoAtLeast(1, 1) && len(hosts) == 0 && req.Method != "CONNECT" && req.Method != "PRI" {
		return nil, errors.New("missing required Host header")
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return nil, errors.New("malformed Host header")
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, errors.New("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, errors.New("invalid header value")
			}
		}
	}
	delete(req.Header, "Host")
	return req, nil
}

// hostLines returns the values of the Host header lines of raw's head
// (lines may end in LF alone, as net/http allows).
func hostLines(raw []byte) []string {
	var hosts []string
	lines := strings.Split(string(raw), "\n")
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "host") {
			hosts = append(hosts, trimOWS(v))
		}
	}
	return hosts
}

// stricterOK reports whether err is one of the refusals where this server
// is stricter than net/http by design, and raw shows the reason.
func stricterOK(raw []byte, err error) bool {
	headEnd := bytes.Index(raw, []byte("\r\n\r\n"))
	head := raw
	if headEnd >= 0 {
		head = raw[:headEnd+4]
	}
	lower := bytes.ToLower(head)
	switch err {
	case errBareLF:
		for i, c := range raw {
			if c == '\n' && (i == 0 || raw[i-1] != '\r') {
				return true
			}
		}
	case errObsFold:
		return bytes.Contains(head, []byte("\n ")) || bytes.Contains(head, []byte("\n\t"))
	case errCLandTE:
		return bytes.Contains(lower, []byte("content-length")) && bytes.Contains(lower, []byte("transfer-encoding"))
	case errTE10:
		return bytes.Contains(lower, []byte("transfer-encoding"))
	case errTooManyFields:
		return bytes.Count(head, []byte("\n")) > maxHeaderCount
	case errVersionNotSup:
		return bytes.HasPrefix(raw, []byte("PRI * HTTP/2.0\r\n"))
	}
	return false
}

// FuzzParse compares the server's parser with net/http's on the same
// bytes: the same decision, except where it is stricter by design, and
// the same request fields when both accept. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/b?c=d&e HTTP/1.1\r\nHost: a\r\nX-Y: z\r\nx-y: w\r\n\r\n",
		"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET http://h:1/p?q HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS * HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, _, err := parseBytes(string(raw), 1<<20)
		want, werr := refParse(raw)
		switch {
		case err != nil && werr != nil:
			return
		case err == nil && werr != nil:
			t.Fatalf("accepted what net/http refuses (%v): %q", werr, raw)
		case err != nil && werr == nil:
			if !stricterOK(raw, err) {
				t.Fatalf("refused (%v) what net/http accepts: %q", err, raw)
			}
			return
		}
		if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Host != want.Host ||
			got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor {
			t.Fatalf("request line: got %q %q %q %q, net/http %q %q %q %q", got.Method, got.RequestURI, got.Host, got.Proto, want.Method, want.RequestURI, want.Host, want.Proto)
		}
		if !reflect.DeepEqual(got.URL, want.URL) {
			t.Fatalf("URL %#v, net/http %#v (%q)", got.URL, want.URL, raw)
		}
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Fatalf("header %q, net/http %q (%q)", got.Header, want.Header, raw)
		}
		if got.ContentLength != want.ContentLength || got.Close != want.Close || !reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) {
			t.Fatalf("framing: cl %d close %v te %q, net/http %d %v %q", got.ContentLength, got.Close, got.TransferEncoding, want.ContentLength, want.Close, want.TransferEncoding)
		}
	})
}
