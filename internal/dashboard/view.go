package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/token"
)

// view is what every template gets: the page's data plus the layout's.
type view struct {
	Title string
	// Section is the active navigation entry.
	Section string
	Path    string
	// Signed-in user (empty when signed out).
	TokenID string
	Scope   string
	CSRF    string
	// CanDecide is true for tokens that may take compliance decisions.
	CanDecide bool
	CanAudit  bool
	CanAdmin  bool
	Error     string
	Notice    string
	Now       time.Time
	Data      any
}

func (d *Dashboard) newView(r *http.Request, s *session) *view {
	v := &view{Path: r.URL.Path, Now: d.opts.Now().UTC()}
	if s != nil {
		v.TokenID, v.Scope, v.CSRF = s.tok.ID, string(s.tok.Scope), s.csrf
		v.CanDecide = s.tok.Scope.Allows(token.Compliance)
		v.CanAudit = v.CanDecide
		v.CanAdmin = s.tok.Scope.Allows(token.Admin)
	}
	v.Notice = noticeText(r.URL.Query().Get("notice"))
	return v
}

// noticeText maps a notice code of a redirect to its message. Only fixed
// messages are shown, so that a crafted link cannot put words in the
// dashboard's mouth.
func noticeText(code string) string {
	kind, action, _ := strings.Cut(code, "-")
	known := map[string]bool{"dismiss": true, "suspend": true, "reinstate": true, "clear": true, "block": true, "review": true}
	switch {
	case code == "signedout":
		return "Signed out."
	case code == "account-refused":
		return "The account decision was not recorded: the account already has that status, or the reason or action is missing."
	case kind == "reviewed" && (action == "confirmed" || action == "no_match" || action == "whitelisted"):
		return "Match review recorded: " + strings.ReplaceAll(action, "_", " ") + "."
	case code == "commented":
		return "Comment added."
	case code == "assigned":
		return "Case assigned."
	case code == "unassigned":
		return "Case unassigned."
	case kind == "decided" && known[action]:
		return "Decision recorded: " + action + "."
	case kind == "account" && known[action]:
		return "Account decision recorded: " + action + "."
	case kind == "purged":
		if n, err := strconv.Atoi(action); err == nil && n >= 0 {
			return "Purged " + strconv.Itoa(n) + " cached responses on this node (other nodes purge through Redis)."
		}
	}
	return ""
}

// sessionOf returns the request's session (set by wrap).
func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

var funcs = template.FuncMap{
	"ago":      ago,
	"since":    func(now, t time.Time) string { return ago(now.Sub(t)) },
	"ts":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"tsShort":  func(t time.Time) string { return t.UTC().Format("Jan 2 15:04") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"bytes":    humanBytes,
	"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + " %" },
	"score":    func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) },
	"num":      humanNum,
	"dur":      func(d time.Duration) string { return d.Round(time.Microsecond * 100).String() },
	"badge":    badgeClass,
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"chart":    chartSVG,
	"qs":       urlQueryEscape,
	"truncate": truncate,
	"path":     url.PathEscape,
	// auditFrom is the audit page's first entry that shows entry seq
	// mid-page (the page lists 50 from there, newest first).
	"auditFrom": func(seq int64) int64 { return max(1, seq-24) },
	"list":      jsonList,
	"verdict":   func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}

// jsonList prints a JSON array of strings (a zone's aliases, origins) as
// a comma-separated list, "none" when empty.
func jsonList(raw json.RawMessage) string {
	var xs []string
	if err := json.Unmarshal(raw, &xs); err != nil {
		return string(raw)
	}
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanNum(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n = int64(x)
	}
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func truncate(n int, s string) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// badgeClass maps a status to its CSS badge class.
func badgeClass(status string) string {
	switch status {
	case "active", "dismissed", "reinstated", "ok", "clear", "no_match", "whitelisted":
		return "badge good"
	case "review", "open":
		return "badge warn"
	case "blocked", "suspended", "rejected", "broken", "confirmed":
		return "badge bad"
	}
	return "badge"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// chartSVG draws a small line chart of values as an inline SVG (no
// script, no style attribute), so the traffic pages read without
// JavaScript; label names the series for screen readers.
func chartSVG(label string, values []float64) template.HTML {
	const w, h = 600.0, 120.0
	maxV := 0.0
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="none">`, w, h+2, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" class="axis"/>`, h, w, h)
	if len(values) > 1 && maxV > 0 {
		b.WriteString(`<polyline class="line" fill="none" points="`)
		for i, v := range values {
			x := float64(i) * w / float64(len(values)-1)
			y := h - v/maxV*(h-4)
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (d *Dashboard) parseTemplates() error {
	d.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "matches.html" || base == "health.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/matches.html", "templates/health.html", n)
		if err != nil {
			return fmt.Errorf("parsing dashboard template %s: %w", base, err)
		}
		d.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

// render writes page name with v at status code.
func (d *Dashboard) render(w http.ResponseWriter, v *view, code int, name string) error {
	t, ok := d.pages[name]
	if !ok {
		return fmt.Errorf("no dashboard template %q", name)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", v); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(buf.Bytes())
	return err
}

func (d *Dashboard) renderError(w http.ResponseWriter, v *view, code int, msg string) {
	v.Title = http.StatusText(code)
	v.Error = msg
	if err := d.render(w, v, code, "error"); err != nil {
		d.log.Error("rendering error page", "error", err)
		http.Error(w, msg, code)
	}
}
