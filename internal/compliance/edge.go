package compliance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/config"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/ratelimit"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/store"
)

// ReportPath is the public report form on every zone of the edge.
const ReportPath = "/.well-known/rampart/report"

// ReportLimit is the default per-IP rate of public reports (API and form
// together): 5 a minute with a burst of 5.
var ReportLimit = ratelimit.Limit{Requests: 5, Per: time.Minute, Burst: 5}

// MaxReportBody bounds a report's request body, JSON or form (64 KiB:
// every field at its bound fits).
const MaxReportBody = 64 << 10

// FormTokenTTL is how long a report form's token is accepted after the
// form was served.
const FormTokenTTL = 2 * time.Hour

// Reporter files public reports under rate limits per client IP (IPv6
// by /64), per network (/24, /64) and in total, all counted on this node.
// It serves POST /v1/reports (admin listener) and the HTML form (edge).
type Reporter struct {
	C       *Service
	Limiter *ratelimit.Local
	// Limit is per client IP, PerNetwork per /24 or /64, Total for every
	// client together.
	Limit, PerNetwork, Total ratelimit.Limit
	// DedupeWindow: see config.ComplianceReports (0: its default).
	DedupeWindow time.Duration

	formKey [32]byte // per-node HMAC key of the form tokens
	cop     *http.CrossOriginProtection
	now     func() time.Time
}

// NewReporter returns a Reporter with its own Local limiter at the given
// limits (config.ComplianceReports, defaults for zero rates) and a fresh
// random form-token key.
func NewReporter(c *Service, lim config.ComplianceReports) *Reporter {
	rate := func(r, def config.RateLimitRate) ratelimit.Limit {
		if r.Requests <= 0 {
			r = def
		}
		if r.Per <= 0 {
			r.Per = time.Second
		}
		return ratelimit.Limit{Requests: r.Requests, Per: r.Per, Burst: r.Burst}
	}
	rp := &Reporter{C: c, Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{MaxEntries: 100_000}),
		Limit:        rate(lim.PerIP, config.DefaultReportsPerIP),
		PerNetwork:   rate(lim.PerNetwork, config.DefaultReportsPerNetwork),
		Total:        rate(lim.Total, config.DefaultReportsTotal),
		DedupeWindow: lim.DedupeWindow, cop: http.NewCrossOriginProtection(), now: time.Now}
	if _, err := rand.Read(rp.formKey[:]); err != nil {
		panic("compliance: no randomness for the report form key: " + err.Error())
	}
	return rp
}

// ErrRateLimited is returned by File when the client sent too many reports.
var ErrRateLimited = errors.New("too many reports from this address; try again later")

// ErrReportsBusy is returned by File when every client together sent too
// many reports.
var ErrReportsBusy = errors.New("too many reports right now; try again later")

// File rate-limits by client IP, network and in total, then files the
// report. The returned duration is the Retry-After when limited.
func (rp *Reporter) File(ctx context.Context, in ReportInput, ip netip.Addr) (store.Case, time.Duration, error) {
	ip = ip.Unmap()
	for _, l := range []struct {
		key string
		lim ratelimit.Limit
		err error
	}{
		{"report|ip|" + ratelimit.KeyIP(ip), rp.Limit, ErrRateLimited},
		{"report|net|" + Network(ip).String(), rp.PerNetwork, ErrRateLimited},
		{"report|total", rp.Total, ErrReportsBusy},
	} {
		res, err := rp.Limiter.Allow(ctx, l.key, l.lim)
		if err != nil || !res.Allowed {
			return store.Case{}, max(res.RetryAfter, time.Second), l.err
		}
	}
	cs, err := rp.C.Report(ctx, in, ip, rp.DedupeWindow)
	return cs, 0, err
}

// FormToken returns the report form's token for host issued at: its
// issue time and a nonce, signed with HMAC-SHA256 under the node's key.
func (rp *Reporter) FormToken(host string, issued time.Time) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	body := strconv.FormatInt(issued.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce[:])
	return body + "." + base64.RawURLEncoding.EncodeToString(rp.formMAC(host, body))
}

func (rp *Reporter) formMAC(host, body string) []byte {
	m := hmac.New(sha256.New, rp.formKey[:])
	m.Write([]byte("rampart report form\x00"))
	m.Write([]byte(host))
	m.Write([]byte{0})
	m.Write([]byte(body))
	return m.Sum(nil)
}

// checkFormToken verifies a form token for host: its signature (in
// constant time) and that it was issued within FormTokenTTL.
func (rp *Reporter) checkFormToken(host, tok string) error {
	if tok == "" {
		return errors.New("the form token is missing; reload the form and send it again")
	}
	if len(tok) > 128 {
		return errors.New("the form token is not valid; reload the form")
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return errors.New("the form token is not valid; reload the form")
	}
	body := tok[:i]
	mac, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || !hmac.Equal(mac, rp.formMAC(host, body)) {
		return errors.New("the form token is not valid for this site; reload the form")
	}
	ts, _, _ := strings.Cut(body, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("the form token is not valid; reload the form")
	}
	age := rp.now().Sub(time.Unix(sec, 0))
	if age > FormTokenTTL || age < -time.Minute {
		return errors.New("the form has expired; reload it and send it again")
	}
	return nil
}

// BlockedBy is where the Link rel="blocked-by" of 451 answers points.
type BlockedBy struct {
	// Base is the URL before "/v1/cases/ID", such as
	// "https://compliance.example.org" (no trailing slash).
	Base string
}

// Phase returns the zone's compliance phase for the edge's PhaseAccess
// slot, running before next (the access rules, may be nil):
//
//   - the public report form at ReportPath (GET: the form, POST: filing a
//     report), served even for suspended zones so that anyone can report;
//   - a zone suspended by a case or rejected by the gate: 451
//     Unavailable For Legal Reasons (RFC 7725) with Link: <BASE/v1/cases/ID>;
//     rel="blocked-by" and a page naming the reason category;
//   - a zone in review: 503 with Retry-After (not served until cleared).
//
// zoneHost is the zone's canonical host: statuses are looked up by it, so
// a decision takes effect as soon as the Service's table is refreshed.
func (rp *Reporter) Phase(zoneHost string, blocked BlockedBy, next edge.Phase) edge.Phase {
	return edge.PhaseFunc(func(w http.ResponseWriter, r *http.Request) edge.Decision {
		if r.URL.Path == ReportPath {
			rp.serveForm(w, r, zoneHost)
			return edge.Handled
		}
		info := reqctx.From(r.Context())
		st, ok := rp.C.ZoneState(zoneHost)
		// A suspended zone above the requested name covers it, unless a
		// newer decision on this zone lifted that (cover.go).
		if cov, covered := rp.C.Suspension(requestHost(r, info), zoneHost); covered && (!ok || st.Status == store.ZoneActive || st.Status == store.ZoneReview) {
			st, ok = cov, true
		}
		if ok && st.Status != store.ZoneActive {
			switch st.Status {
			case store.ZoneReview:
				if info != nil {
					info.Block = "compliance-review"
				}
				w.Header().Set("Retry-After", "3600")
				writePage(w, http.StatusServiceUnavailable, "Site under compliance review",
					"This site is being reviewed by the operator's compliance desk and is not served until the review is complete.", "", "")
			default:
				if info != nil {
					info.Block = "compliance-" + st.Status
				}
				category := st.Category
				if category == "" {
					category = "sanctions"
				}
				link := blocked.Base + "/v1/cases/"
				if st.CaseID != "" {
					link += st.CaseID
					w.Header().Set("Link", "<"+link+`>; rel="blocked-by"`)
				} else {
					w.Header().Set("Link", "<"+blocked.Base+"/v1/zones/"+st.ZoneID+`>; rel="blocked-by"`)
				}
				writePage(w, http.StatusUnavailableForLegalReasons, "Unavailable for legal reasons",
					"This site is not served by this operator for legal reasons.", category, st.CaseID)
			}
			return edge.Handled
		}
		if next != nil {
			return next.Serve(w, r)
		}
		return edge.Continue
	})
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}label{display:block;margin-top:1em}input,select,textarea{width:100%;padding:.4em;box-sizing:border-box}button{margin-top:1em;padding:.5em 1.5em}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Category}}<p>Reason category: <strong>{{.Category}}</strong></p>{{end}}
{{if .CaseID}}<p>Case: <code>{{.CaseID}}</code></p>{{end}}
{{if .Form}}<form method="post" action="` + ReportPath + `">
<label>Site<input name="host" value="{{.Host}}" required maxlength="253"></label>
<label>Category<select name="category"><option value="sanctions">Sanctions</option><option value="abuse">Abuse</option><option value="other">Other</option></select></label>
<label>What is wrong (10 to 5000 characters)<textarea name="description" rows="6" required minlength="10" maxlength="5000"></textarea></label>
<label>Evidence URLs (one per line, optional)<textarea name="evidence_urls" rows="3"></textarea></label>
<label>Your e-mail (optional)<input type="email" name="reporter_email" maxlength="254"></label>
<input type="hidden" name="form_token" value="{{.Token}}">
<button type="submit">Send report</button></form>{{end}}
</body></html>
`))

type page struct {
	Title, Text, Category, CaseID, Host, Token string
	Form                                       bool
}

func writePage(w http.ResponseWriter, code int, title, text, category, caseID string) {
	renderPage(w, code, page{Title: title, Text: text, Category: category, CaseID: caseID})
}

func renderPage(w http.ResponseWriter, code int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(code)
	_ = pageTmpl.Execute(w, p)
}

// requestHost is the requested name without a port.
func requestHost(r *http.Request, info *reqctx.Info) string {
	h := r.Host
	if info != nil && info.Host != "" {
		h = info.Host
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// serveForm serves the public report form. A POST must come from the
// form itself: a cross-origin browser request (Sec-Fetch-Site other than
// same-origin or none, or an Origin whose host is not the request's) is
// refused with 403, and so is a missing, forged or expired form token
// (bound to the requested host, see FormToken).
func (rp *Reporter) serveForm(w http.ResponseWriter, r *http.Request, zoneHost string) {
	info := reqctx.From(r.Context())
	if info != nil {
		info.Block = "report-form"
	}
	host := requestHost(r, info)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		renderPage(w, http.StatusOK, page{Title: "Report this site", Host: zoneHost, Form: true, Token: rp.FormToken(host, rp.now()),
			Text: "Tell the operator of this edge about sanctions violations or abuse on this site. Reports are dated and reviewed."})
	case http.MethodPost:
		if err := rp.sameOrigin(r, host); err != nil {
			renderPage(w, http.StatusForbidden, page{Title: "Report not sent", Text: err.Error()})
			return
		}
		if r.ContentLength > MaxReportBody {
			renderPage(w, http.StatusRequestEntityTooLarge, page{Title: "Report not sent", Text: fmt.Sprintf("The form is larger than %d bytes.", MaxReportBody)})
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			renderPage(w, http.StatusUnsupportedMediaType, page{Title: "Report not sent", Text: "Send the form as application/x-www-form-urlencoded."})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxReportBody)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				renderPage(w, http.StatusRequestEntityTooLarge, page{Title: "Report not sent", Text: fmt.Sprintf("The form is larger than %d bytes.", MaxReportBody)})
				return
			}
			renderPage(w, http.StatusBadRequest, page{Title: "Report not sent", Text: "The form could not be read: " + err.Error()})
			return
		}
		if err := rp.checkFormToken(host, r.PostForm.Get("form_token")); err != nil {
			renderPage(w, http.StatusForbidden, page{Title: "Report not sent", Text: err.Error()})
			return
		}
		in := ReportInput{Host: r.PostForm.Get("host"), Category: r.PostForm.Get("category"),
			Description: r.PostForm.Get("description"), ReporterEmail: r.PostForm.Get("reporter_email")}
		if in.Host == "" {
			in.Host = zoneHost
		}
		for l := range strings.SplitSeq(r.PostForm.Get("evidence_urls"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				in.EvidenceURLs = append(in.EvidenceURLs, l)
				if len(in.EvidenceURLs) > MaxEvidence {
					break
				}
			}
		}
		var ip netip.Addr
		if info != nil {
			ip = info.ClientIP
		}
		cs, retry, err := rp.File(r.Context(), in, ip)
		switch {
		case errors.Is(err, ErrRateLimited), errors.Is(err, ErrReportsBusy):
			w.Header().Set("Retry-After", itoa(ratelimit.RetryAfterSeconds(retry)))
			renderPage(w, http.StatusTooManyRequests, page{Title: "Report not sent", Text: err.Error()})
		case errors.Is(err, ErrTooLarge):
			renderPage(w, http.StatusRequestEntityTooLarge, page{Title: "Report not sent", Text: strings.TrimPrefix(err.Error(), ErrTooLarge.Error()+": ")})
		case errors.Is(err, ErrInvalid):
			renderPage(w, http.StatusUnprocessableEntity, page{Title: "Report not sent", Text: strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")})
		case err != nil:
			renderPage(w, http.StatusInternalServerError, page{Title: "Report not sent", Text: "The report could not be stored; please try again later."})
		default:
			renderPage(w, http.StatusAccepted, page{Title: "Thank you", CaseID: cs.ID,
				Text: "Your report was received and filed. Keep the case id below for reference."})
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		renderPage(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed", Text: "Use GET for the form and POST to send it."})
	}
}

// sameOrigin refuses a cross-origin browser POST: net/http's
// CrossOriginProtection (Sec-Fetch-Site, else Origin against Host), and
// an Origin header, when present, must name the requested host.
func (rp *Reporter) sameOrigin(r *http.Request, host string) error {
	const msg = "reports are accepted from this site's own form only"
	if err := rp.cop.Check(r); err != nil {
		return errors.New(msg)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), host) {
			return errors.New(msg)
		}
	}
	return nil
}

func itoa(n int) string {
	if n <= 0 {
		return "1"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
