package waf

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-edge/rampart/internal/config"
)

// Coraza's memory grows with what a request carries far more than with
// its size: every CRS rule that reads ARGS transforms each argument
// (t:lowercase, t:urlDecodeUni, t:htmlEntityDecode, ...) and keeps the
// results in the transaction's cache until the phase ends. Measured on
// Coraza v3.8.1 with the CRS at paranoia 1 (internal/waf/memory_test.go),
// a 128 KiB urlencoded body holds about 4 MiB of heap with 10 arguments
// and 57 MiB with 1,000. So the arguments are counted and measured here,
// by a scan that allocates next to nothing, before Coraza parses any of
// them: a request past the zone's limits is refused (block mode) or
// inspected only up to them (detect mode), and the cost of the rest is
// estimated for the node's memory budget (budget.go).

// limits are a zone's waf.limits, resolved (0: no limit, for the lengths).
type limits struct {
	args, nameLen, valueLen, totalLen int
}

func resolveLimits(l config.WAFLimits) limits {
	r := limits{args: l.Args, nameLen: l.ArgNameLength, valueLen: l.ArgLength, totalLen: l.TotalArgsLength}
	if r.args <= 0 {
		r.args = config.DefaultWAFArgs
	}
	if r.nameLen <= 0 {
		r.nameLen = config.DefaultWAFArgNameLength
	}
	return r
}

// The cost model of a request's inspection, in bytes of heap, fitted to
// the measurements above (memory_test.go checks it still holds): a base
// per transaction, a factor on the bytes the rules read, and a cost per
// argument or cookie.
const (
	costBase    = 64 << 10
	costPerByte = 32
	costPerArg  = 56 << 10
)

// scan is what the scan of a request found.
type scan struct {
	args    int // query and body arguments given to the WAF
	cookies int
	bytes   int  // bytes the rules read: URI, headers, inspected body
	files   bool // a multipart file part (Coraza writes it to a temporary file)
	// fileParts counts the multipart file parts, which args includes:
	// Coraza puts them in FILES, not ARGS, but each is a temporary file
	// and more entries for the rules, so they count against the limit.
	fileParts int

	// over names the first limit the request exceeds ("" none), with
	// the value found and the limit, for the log and the answer.
	over       string
	got, limit int

	// body is what the WAF is given of the inspected body: all of it, or
	// in detect mode the arguments up to the limit (cut is true).
	body []byte
	cut  bool
	// cookieCut, when over the cookie limit in detect mode, is the
	// number of cookies the WAF is given.
	cookieCut int
}

// cost estimates the heap the inspection of s takes.
func (s *scan) cost() int64 {
	return costBase + int64(s.bytes)*costPerByte + int64(s.args+s.cookies)*costPerArg
}

// counter applies the limits to arguments one at a time.
type counter struct {
	lim   limits
	s     *scan
	total int
}

// add counts one argument with the given (decoded) name and value
// lengths and reports whether it is still within the argument limit.
func (c *counter) add(name, value int) bool {
	c.s.args++
	c.total += name + value
	switch {
	case c.s.args > c.lim.args:
		c.exceed("args", c.s.args, c.lim.args)
		return false
	case name > c.lim.nameLen:
		c.exceed("arg_name_length", name, c.lim.nameLen)
	case c.lim.valueLen > 0 && value > c.lim.valueLen:
		c.exceed("arg_length", value, c.lim.valueLen)
	case c.lim.totalLen > 0 && c.total > c.lim.totalLen:
		c.exceed("total_args_length", c.total, c.lim.totalLen)
	}
	return true
}

func (c *counter) exceed(what string, got, limit int) {
	if c.s.over == "" {
		c.s.over, c.s.got, c.s.limit = what, got, limit
	}
}

// scanRequest scans r's query string, cookies and headers and the
// inspected body prefix. In detect mode (cut true) it also prepares the
// part of the body and cookies the WAF is given, within the argument
// limit; block mode refuses the request instead and needs no cut.
func scanRequest(r *http.Request, body []byte, lim limits, cut bool) *scan {
	s := &scan{body: body, bytes: len(r.RequestURI) + len(body)}
	c := &counter{lim: lim, s: s}
	scanQuery(r.URL.RawQuery, c)
	queryArgs := min(s.args, lim.args)
	for k, vs := range r.Header {
		for _, v := range vs {
			s.bytes += len(k) + len(v)
		}
	}
	if len(body) > 0 {
		switch bodyProcessor(r.Header["Content-Type"]) {
		case "URLENCODED":
			if end := scanQuery(string(body), c); cut && end < len(body) {
				s.body, s.cut = body[:end], true
			}
		case "MULTIPART":
			_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if end, closer := scanMultipart(body, params["boundary"], c, lim.args-queryArgs); cut && end < len(body) {
				s.body, s.cut = append(body[:end:end], closer...), true
			}
		case "JSON":
			// Coraza stops at SecArgumentsLimit itself for JSON (set to
			// the same limit, rules.go): no cut needed.
			scanJSON(body, c)
		}
	}
	scanCookies(r.Header["Cookie"], lim, s)
	if cut && s.cookies > lim.args {
		s.cookieCut = lim.args
	}
	// In detect mode the WAF sees at most the limit.
	s.args = min(s.args, lim.args)
	s.cookies = min(s.cookies, lim.args)
	return s
}

// jsonType and xmlType are the Content-Type tests of the recommended
// configuration's rules 200001 and 200006, and 200000 (lower-cased, not
// trimmed), which switch Coraza to its JSON or XML body processor.
var (
	jsonType = regexp.MustCompile(`^application/(?:json|[a-z0-9.-]+[+]json)`)
	xmlType  = regexp.MustCompile(`^(?:application(?:/soap\+|/)|text/)xml`)
)

// bodyProcessor returns the body processor Coraza uses for a request
// with these Content-Type lines, by its own rules, so that the scan
// counts the arguments Coraza will make: JSON when any line matches the
// JSON rules, else XML (no arguments) when any matches the XML rule (they
// run after the headers and override, JSON's last); else URLENCODED or
// MULTIPART by the prefix of the first line (transaction.go: the first
// Content-Type alone selects, lower-cased and trimmed, by prefix); and
// any other body, or one without a Content-Type, is parsed as URLENCODED
// all the same (CRS 901340 forces the body variable, and Coraza then
// defaults to URLENCODED).
func bodyProcessor(lines []string) string {
	xml := false
	for _, v := range lines {
		v = strings.ToLower(v)
		if jsonType.MatchString(v) {
			return "JSON"
		}
		xml = xml || xmlType.MatchString(v)
	}
	if xml {
		return "XML"
	}
	if len(lines) > 0 {
		if v := strings.TrimSpace(strings.ToLower(lines[0])); strings.HasPrefix(v, "multipart/form-data") {
			return "MULTIPART"
		}
	}
	return "URLENCODED"
}

// scanQuery counts the arguments of an urlencoded string as Coraza
// parses them (pairs split at '&', empty ones skipped) and returns the
// offset where the arguments past the limit start (len(q) when none
// are).
func scanQuery(q string, c *counter) int {
	off := 0
	for off < len(q) {
		pair := q[off:]
		next := len(q)
		if i := strings.IndexByte(pair, '&'); i >= 0 {
			pair, next = pair[:i], off+i+1
		}
		if pair != "" {
			name, value := pair, ""
			if i := strings.IndexByte(pair, '='); i >= 0 {
				name, value = pair[:i], pair[i+1:]
			}
			if !c.add(decodedLen(name), decodedLen(value)) {
				return off
			}
		}
		off = next
	}
	return len(q)
}

// decodedLen is the length of s once percent-decoded.
func decodedLen(s string) int {
	n := len(s)
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			n -= 2
			i += 2
		}
	}
	return n
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanMultipart counts the parts of a multipart body (each part one
// argument; its value length counts unless it is a file). It returns
// the offset of the first part past room (the arguments left under the
// limit), and the closing delimiter to append after a cut there. A body
// the reader cannot parse is left to Coraza, which flags it (rules
// 200002, 200003).
func scanMultipart(body []byte, boundary string, c *counter, room int) (int, string) {
	if boundary == "" {
		return len(body), ""
	}
	delim := []byte("--" + boundary)
	closer := "\r\n--" + boundary + "--\r\n"
	end := len(body)
	// The offsets of the delimiters (each part starts at one).
	var starts []int
	for off := 0; off < len(body) && len(starts) <= room; {
		i := bytes.Index(body[off:], delim)
		if i < 0 {
			break
		}
		at := off + i
		if at == 0 || at >= 2 && body[at-2] == '\r' && body[at-1] == '\n' {
			starts = append(starts, at)
		}
		off = at + len(delim)
	}
	if room >= 0 && len(starts) > room {
		end = starts[room]
		if end >= 2 {
			end -= 2 // the CRLF before the delimiter belongs to it
		}
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		name := p.FormName()
		var n int64
		if p.FileName() != "" {
			c.s.files = true
			c.s.fileParts++
			n = 0 // a file's content is not an ARGS value
		} else {
			n, _ = io.Copy(io.Discard, p)
		}
		if !c.add(len(name), int(n)) {
			break
		}
	}
	return end, closer
}

// scanJSON counts the arguments Coraza makes of a JSON body: one per
// value (its name the flattened path, "json.a.0.b") and one per array
// (its length). The nesting depth is bounded like Coraza's.
func scanJSON(body []byte, c *counter) {
	if !gjson.ValidBytes(body) {
		return // Coraza refuses it (200002)
	}
	walkJSON(gjson.ParseBytes(body), len("json"), 0, c)
}

// maxJSONDepth is Coraza's SecRequestBodyJsonDepthLimit in the
// recommended configuration.
const maxJSONDepth = 1024

func walkJSON(v gjson.Result, nameLen, depth int, c *counter) bool {
	if depth >= maxJSONDepth {
		return false
	}
	ok, isArray := true, v.IsArray()
	i := 0
	v.ForEach(func(key, value gjson.Result) bool {
		kl := len(key.Str)
		if isArray {
			kl = digits(i)
		}
		i++
		n := nameLen + 1 + kl
		if value.IsObject() || value.IsArray() {
			ok = walkJSON(value, n, depth+1, c)
			return ok
		}
		val := len(value.Raw)
		if value.Type == gjson.String {
			val = len(value.Str)
		}
		ok = c.add(n, val)
		return ok
	})
	if ok && isArray && i > 0 {
		ok = c.add(nameLen, digits(i))
	}
	return ok
}

// digits is the number of decimal digits of n >= 0.
func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// scanCookies counts the cookies of the Cookie header lines (split at
// ';', as Coraza's REQUEST_COOKIES) against the argument limit, and
// their names against the name length limit.
func scanCookies(lines []string, lim limits, s *scan) {
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			s.cookies++
			name, _, _ := strings.Cut(part, "=")
			switch {
			case s.cookies > lim.args && s.over == "":
				s.over, s.got, s.limit = "cookies", s.cookies, lim.args
			case len(name) > lim.nameLen && s.over == "":
				s.over, s.got, s.limit = "arg_name_length", len(name), lim.nameLen
			}
		}
	}
}

// cutCookies returns the Cookie header lines cut to their first n
// cookies.
func cutCookies(lines []string, n int) []string {
	var out []string
	for _, line := range lines {
		var kept []string
		for part := range strings.SplitSeq(line, ";") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			if n == 0 {
				break
			}
			kept = append(kept, part)
			n--
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, ";"))
		}
		if n == 0 {
			break
		}
	}
	return out
}
