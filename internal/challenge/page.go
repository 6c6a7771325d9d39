package challenge

import (
	_ "embed"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/rampart-edge/rampart/internal/reqctx"
)

//go:embed page.html
var pageHTML string

// pageTmpl is the challenge page: self-contained HTML, CSS and script, no
// third-party asset. html/template escapes each value for its context.
var pageTmpl = template.Must(template.New("challenge").Parse(pageHTML))

type pageData struct {
	Token      string
	Bits       int
	VerifyPath string
	RequestID  string
}

// Placeholders survive every escaping context unchanged (letters only).
const (
	tokenMark = "RAMPARTTOKENPLACEHOLDER"
	idMark    = "RAMPARTREQUESTIDPLACEHOLDER"
)

// pageParts is the page for one difficulty, rendered once through the
// template and cut at the placeholders, so that serving a challenge under
// a flood costs a few copies rather than a template execution.
type pageParts struct {
	parts []string // text between the placeholders
	marks []string // tokenMark or idMark after each part but the last
	fixed int      // total length of parts
}

var pageCache sync.Map // difficulty -> *pageParts

func pageFor(bits int) *pageParts {
	if v, ok := pageCache.Load(bits); ok {
		return v.(*pageParts)
	}
	var sb strings.Builder
	if err := pageTmpl.Execute(&sb, pageData{Token: tokenMark, Bits: bits, VerifyPath: VerifyPath, RequestID: idMark}); err != nil {
		panic("challenge: rendering the page template: " + err.Error())
	}
	s := sb.String()
	p := &pageParts{}
	for {
		ti, ii := strings.Index(s, tokenMark), strings.Index(s, idMark)
		if ti < 0 && ii < 0 {
			break
		}
		mark, i := tokenMark, ti
		if ti < 0 || (ii >= 0 && ii < ti) {
			mark, i = idMark, ii
		}
		p.parts = append(p.parts, s[:i])
		p.marks = append(p.marks, mark)
		s = s[i+len(mark):]
	}
	p.parts = append(p.parts, s)
	for _, part := range p.parts {
		p.fixed += len(part)
	}
	v, _ := pageCache.LoadOrStore(bits, p)
	return v.(*pageParts)
}

// render writes the page with token (base64url, safe in every context of
// the page) and the HTML-escaped request id.
func (p *pageParts) render(w io.Writer, token, id string) (int, error) {
	id = html.EscapeString(id)
	total := 0
	for i, part := range p.parts {
		n, err := io.WriteString(w, part)
		total += n
		if err != nil || i == len(p.marks) {
			return total, err
		}
		v := token
		if p.marks[i] == idMark {
			v = id
		}
		n, err = io.WriteString(w, v)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (p *pageParts) length(token, id string) int {
	n := p.fixed
	id = html.EscapeString(id)
	for _, m := range p.marks {
		if m == idMark {
			n += len(id)
		} else {
			n += len(token)
		}
	}
	return n
}

// writeChallenge answers with a fresh challenge page for target.
func (c *Challenger) writeChallenge(w http.ResponseWriter, r *http.Request, client netip.Addr, p *Policy, target string, status int) {
	bits := p.difficulty()
	tok, err := c.IssueToken(client, target, *p.scope(), bits)
	if err != nil {
		http.Error(w, "challenge unavailable", http.StatusInternalServerError)
		return
	}
	id := ""
	if info := reqctx.From(r.Context()); info != nil {
		id = info.ID
	}
	page := pageFor(bits)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Rampart-Challenge", "1")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Length", strconv.Itoa(page.length(tok, id)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = page.render(w, tok, id)
	}
}
