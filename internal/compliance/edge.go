package compliance

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/ratelimit"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/store"
)

// ReportPath is the public report form on every zone of the edge.
const ReportPath = "/.well-known/rampart/report"

// ReportLimit is the per-IP rate of public reports (API and form
// together): 5 a minute with a burst of 5.
var ReportLimit = ratelimit.Limit{Requests: 5, Per: time.Minute, Burst: 5}

// maxFormBody bounds a form submission (64 KiB).
const maxFormBody = 64 << 10

// Reporter files public reports under a per-IP rate limit. It serves
// POST /v1/reports (admin listener) and the HTML form (edge).
type Reporter struct {
	C       *Service
	Limiter *ratelimit.Local
	Limit   ratelimit.Limit
}

// NewReporter returns a Reporter with its own Local limiter at
// ReportLimit.
func NewReporter(c *Service) *Reporter {
	return &Reporter{C: c, Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{MaxEntries: 100_000}), Limit: ReportLimit}
}

// ErrRateLimited is returned by File when the client sent too many reports.
var ErrRateLimited = errors.New("too many reports from this address; try again later")

// File rate-limits by client IP, then files the report. The returned
// duration is the Retry-After when limited.
func (rp *Reporter) File(ctx context.Context, in ReportInput, ip netip.Addr) (store.Case, time.Duration, error) {
	res, err := rp.Limiter.Allow(ctx, "report|"+ratelimit.KeyIP(ip), rp.Limit)
	if err != nil || !res.Allowed {
		return store.Case{}, res.RetryAfter, ErrRateLimited
	}
	cs, err := rp.C.Report(ctx, in, ip.String())
	return cs, 0, err
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
		if st, ok := rp.C.ZoneState(zoneHost); ok && st.Status != store.ZoneActive {
			info := reqctx.From(r.Context())
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
<button type="submit">Send report</button></form>{{end}}
</body></html>
`))

type page struct {
	Title, Text, Category, CaseID, Host string
	Form                                bool
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

func (rp *Reporter) serveForm(w http.ResponseWriter, r *http.Request, zoneHost string) {
	info := reqctx.From(r.Context())
	if info != nil {
		info.Block = "report-form"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		renderPage(w, http.StatusOK, page{Title: "Report this site", Host: zoneHost, Form: true,
			Text: "Tell the operator of this edge about sanctions violations or abuse on this site. Reports are dated and reviewed."})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			renderPage(w, http.StatusBadRequest, page{Title: "Report not sent", Text: "The form could not be read: " + err.Error()})
			return
		}
		in := ReportInput{Host: r.PostForm.Get("host"), Category: r.PostForm.Get("category"),
			Description: r.PostForm.Get("description"), ReporterEmail: r.PostForm.Get("reporter_email")}
		if in.Host == "" {
			in.Host = zoneHost
		}
		for _, l := range strings.Split(r.PostForm.Get("evidence_urls"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				in.EvidenceURLs = append(in.EvidenceURLs, l)
			}
		}
		var ip netip.Addr
		if info != nil {
			ip = info.ClientIP
		}
		cs, retry, err := rp.File(r.Context(), in, ip)
		switch {
		case errors.Is(err, ErrRateLimited):
			w.Header().Set("Retry-After", itoa(ratelimit.RetryAfterSeconds(retry)))
			renderPage(w, http.StatusTooManyRequests, page{Title: "Report not sent", Text: err.Error()})
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
