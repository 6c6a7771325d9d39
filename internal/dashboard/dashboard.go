// Package dashboard serves rampart's web dashboard at /dashboard/ on the
// admin listener: the compliance desk (case queue, cases, accounts,
// zones, lists, audit log, name search) and the operator pages (traffic
// per zone and for all zones, security events).
//
// Pages are rendered on the server with html/template from templates
// embedded in the binary (go:embed); every page reads without
// JavaScript. htmx 2 and uPlot are vendored under static/vendor with their
// licences and only enhance the pages (boosted navigation, the traffic
// charts); no asset comes from outside the binary.
//
// Security. A user signs in with an admin API token; the server keeps a
// session (random 256-bit id in an HttpOnly, SameSite=Strict cookie,
// Secure over TLS; only its SHA-256 is stored) and checks the token again
// on every request, so revoking the token ends the session. Every form
// carries the session's CSRF token. Every page and action needs the same
// token scope as the matching admin API route, and every action is
// audited with the token's id (decisions through the compliance desk,
// sign-in and sign-out as dashboard.signin / dashboard.signout). The
// Content-Security-Policy allows scripts, styles and images from the
// dashboard itself only: no inline script or style.
//
// Sessions live in the control-plane store when there is one (only the
// SHA-256 of the cookie and the token's id), so that behind a load
// balancer a session works on every node sharing a PostgreSQL store and a
// sign-out on one node ends it on all; without a store, in the memory of
// the node.
//
// Traffic. The operator pages read the per-minute rollups through a
// rollup.Source: the sum over the nodes in the shared store (rollup.DB,
// each node flushing its minutes every 10 s) or this node's memory
// (rollup.Local). Origin health is the node's own view (Options.Origins).
package dashboard

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/cache"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Screener screens a name; *screening.Service implements it.
type Screener interface {
	Screen(q screening.Query) screening.Result
}

// ListStore gives the active list versions; *lists.Store implements it.
type ListStore interface {
	Snapshot() *lists.Snapshot
}

// ListHistory gives the earlier versions of the lists and the diff that
// led to each; *lists.Store implements it. The lists page shows them when
// Options.Lists implements it too.
type ListHistory interface {
	History() ([]lists.Version, error)
	DiffOf(source, hash string) (lists.Diff, error)
}

// FeedStatuses reports the list feeds and their staleness (the rule of
// `rampart lists status` and GET /v1/lists); *feeds.Scheduler implements
// it.
type FeedStatuses interface {
	Statuses() []feeds.Status
}

// Purger removes cached responses of a zone by its host.
type Purger interface {
	Purge(zone string, p cache.PurgeRequest) (int, error)
}

// Options are the dashboard's dependencies. Leave a piece nil when it is
// absent; its pages then say so.
type Options struct {
	// Tokens verifies the tokens users sign in with. Required.
	Tokens token.Store
	// Compliance is the compliance desk (cases, accounts, zones).
	Compliance *compliance.Service
	// Store is the control-plane store (audit log).
	Store store.Store
	// Lists and Screening serve the lists and search pages.
	Lists     ListStore
	Screening Screener
	// Feeds reports the list feeds for the lists page's staleness
	// warnings; nil shows none.
	Feeds FeedStatuses
	// Traffic holds the node's per-minute rollups and security events
	// (read through TrafficSource when it is set).
	Traffic *rollup.Store
	// TrafficSource is where the traffic and events pages read the
	// rollups and security events: the shared store's sum over the nodes
	// and every node's events (rollup.DB); nil reads Traffic
	// (rollup.Local).
	TrafficSource rollup.Source
	// Origins reports the health of every zone's origins as this node's
	// health checks see them; nil shows none.
	Origins func() []OriginHealth
	// Purger empties a zone's cache (the zone page's purge form, admin
	// scope); the app's cache implements it (admin.Purger).
	Purger Purger
	// SecureCookies marks cookies Secure even on plain HTTP (the admin
	// listener is behind a TLS proxy).
	SecureCookies bool
	// SessionIdle and SessionMax bound a session's life (defaults 1 h
	// idle, 12 h in all).
	SessionIdle, SessionMax time.Duration
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Dashboard is the web dashboard. It is safe for concurrent use.
type Dashboard struct {
	opts     Options
	log      *slog.Logger
	sessions sessionTable
	traffic  rollup.Source // nil without rollups
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// csp is the Content-Security-Policy of every dashboard answer.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page is one route of the dashboard.
type page struct {
	pattern string
	// scope is the least token scope; "" needs no session.
	scope   token.Scope
	handler func(w http.ResponseWriter, r *http.Request, v *view) error
}

// New builds the dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Tokens == nil {
		return nil, errors.New("creating dashboard: a token store is required")
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = time.Hour
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dashboard{opts: opts, log: opts.Logger}
	if opts.Store != nil {
		d.sessions = &dbSessions{st: opts.Store, idle: opts.SessionIdle, max: opts.SessionMax}
	} else {
		d.sessions = newMemSessions(opts.SessionIdle, opts.SessionMax)
	}
	switch {
	case opts.TrafficSource != nil:
		d.traffic = opts.TrafficSource
	case opts.Traffic != nil:
		d.traffic = rollup.Local{S: opts.Traffic}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log = d.log.With("component", "dashboard")
	if err := d.parseTemplates(); err != nil {
		return nil, err
	}
	d.mux = http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/dashboard/static/", http.FileServerFS(static))
	d.mux.Handle("GET /dashboard/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.secHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	for _, p := range d.routes() {
		d.mux.Handle(p.pattern, d.wrap(p))
	}
	d.mux.HandleFunc("/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		d.secHeaders(w)
		v := d.newView(r, nil)
		d.renderError(w, v, http.StatusNotFound, "No such page: "+r.URL.Path)
	})
	return d, nil
}

// routes is the dashboard's routing table. Scopes follow the admin API:
// read for lists, zones, accounts, search and traffic; compliance for
// cases, decisions and the audit log.
func (d *Dashboard) routes() []page {
	return []page{
		{"GET /dashboard/{$}", token.Read, d.pageHome},
		{"GET /dashboard/signin", "", d.pageSignin},
		{"POST /dashboard/signin", "", d.postSignin},
		{"POST /dashboard/signout", token.Read, d.postSignout},
		{"GET /dashboard/cases", token.Compliance, d.pageCases},
		{"GET /dashboard/cases/{id}", token.Compliance, d.pageCase},
		{"POST /dashboard/cases/{id}/decision", token.Compliance, d.postCaseDecision},
		{"POST /dashboard/cases/{id}/assign", token.Compliance, d.postCaseAssign},
		{"POST /dashboard/cases/{id}/comments", token.Compliance, d.postCaseComment},
		{"POST /dashboard/cases/{id}/matches/{match_id}/review", token.Compliance, d.postCaseReview},
		{"GET /dashboard/accounts", token.Read, d.pageAccounts},
		{"GET /dashboard/accounts/{id}", token.Read, d.pageAccount},
		{"POST /dashboard/accounts/{id}/decision", token.Compliance, d.postAccountDecision},
		{"GET /dashboard/zones", token.Read, d.pageZones},
		{"GET /dashboard/zones/{id}", token.Read, d.pageZone},
		{"POST /dashboard/zones/{id}/purge", token.Admin, d.postPurge},
		{"GET /dashboard/lists", token.Read, d.pageLists},
		{"GET /dashboard/lists/{source}/{version}/diff", token.Read, d.pageListDiff},
		{"GET /dashboard/audit", token.Compliance, d.pageAudit},
		{"GET /dashboard/search", token.Read, d.pageSearch},
		{"GET /dashboard/traffic", token.Read, d.pageTraffic},
		{"GET /dashboard/events", token.Read, d.pageEvents},
		{"GET /dashboard/events.json", token.Read, d.eventsJSON},
	}
}

// ServeHTTP serves the dashboard.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

func (d *Dashboard) secHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// ctxKey is the context key of the request's session.
type ctxKey struct{}

// wrap adds the security headers, the session and scope check, and the
// CSRF check of every POST.
func (d *Dashboard) wrap(p page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.secHeaders(w)
		w.Header().Set("Cache-Control", "no-store")
		s, err := d.session(r)
		if err != nil {
			d.handleError(w, d.newView(r, nil), err)
			return
		}
		v := d.newView(r, s)
		if p.scope != "" {
			if s == nil {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/dashboard/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				d.renderError(w, v, http.StatusUnauthorized, "Your session has ended; sign in again.")
				return
			}
			if !s.tok.Scope.Allows(p.scope) {
				d.log.Info("dashboard scope too low", "token", s.tok.ID, "scope", s.tok.Scope, "need", p.scope, "path", r.URL.Path)
				d.renderError(w, v, http.StatusForbidden, "Your token's scope ("+string(s.tok.Scope)+") may not do this; it needs "+string(p.scope)+".")
				return
			}
		}
		if r.Method == http.MethodPost {
			if !d.checkCSRF(w, r, s) {
				d.renderError(w, v, http.StatusForbidden, "The form's CSRF token is missing or wrong; reload the page and try again.")
				return
			}
		}
		if s != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
		}
		if err := p.handler(w, r, v); err != nil {
			d.handleError(w, v, err)
		}
	})
}

// session returns the request's live session (nil when it has none).
// The token is checked again: a revoked token ends the session at once.
func (d *Dashboard) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	now := d.opts.Now()
	s, err := d.sessions.get(r.Context(), c.Value, now)
	if s == nil || err != nil {
		return nil, err
	}
	tok, ok, err := d.liveToken(s)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := d.sessions.revoke(r.Context(), c.Value, now); err != nil {
			d.log.Warn("ending the session of a revoked token", "error", err)
		}
		return nil, nil
	}
	s.tok = tok
	return s, nil
}

// checkCSRF checks the form's csrf field: against the session's token,
// or before sign-in against the sign-in cookie (double submit). A
// cross-origin Origin header is refused as well.
func (d *Dashboard) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if !strings.HasSuffix(o, "://"+r.Host) {
			return false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return false
	}
	got := r.PostForm.Get("csrf")
	if s != nil {
		return sameToken(got, s.csrf)
	}
	c, err := r.Cookie(preCookie)
	return err == nil && sameToken(got, c.Value)
}

// audit appends a dashboard event to the audit log (when there is one).
func (d *Dashboard) audit(ctx context.Context, actor, action string, data map[string]any) error {
	if d.opts.Store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := d.opts.Store.Append(ctx, audit.Event{Actor: actor, Action: action, Subject: "token:" + actor, Data: audit.MustData(data)})
	return err
}

// httpError is an error with the status to answer.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func (d *Dashboard) handleError(w http.ResponseWriter, v *view, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		d.renderError(w, v, he.code, he.msg)
	case errors.Is(err, store.ErrNotFound):
		d.renderError(w, v, http.StatusNotFound, "Not found.")
	case errors.Is(err, store.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		d.renderError(w, v, http.StatusServiceUnavailable, "The control-plane store did not answer in time; try again.")
	default:
		d.log.Error("dashboard page failed", "path", v.Path, "error", err)
		d.renderError(w, v, http.StatusInternalServerError, "Internal error; see the server log.")
	}
}
