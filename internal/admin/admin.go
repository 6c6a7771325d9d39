// Package admin serves rampart's admin REST API: JSON over HTTP on the
// admin listener, authenticated with bearer tokens (internal/token) whose
// scope must reach the route's (read < compliance < admin).
//
// Routes are declared in one table (Server.routes) as net/http ServeMux
// patterns with the scope they need; adding a route is one line there and
// one handler. Every error is JSON {"error": "message"}: 401 with
// WWW-Authenticate: Bearer when the token is missing or wrong, 403 when
// its scope is too low, 404 for unknown paths, 405 with Allow for a known
// path and another method.
//
// GET /healthz and GET /metrics need no token: the admin listener binds
// 127.0.0.1:9090 by default, so only local processes (and Prometheus via
// a local agent or a deliberate non-loopback listen address) reach them.
// Operators who expose the admin listener must front /metrics themselves.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// Screener screens one name against the loaded lists;
// *screening.Service implements it.
type Screener interface {
	Screen(q screening.Query) screening.Result
}

// ListStore holds the versioned sanctions lists; *lists.Store implements
// it.
type ListStore interface {
	Snapshot() *lists.Snapshot
	ImportFilesWith(opts lists.ImportOptions, files map[string][]byte) ([]lists.ImportResult, error)
	Rollback(version string, opts lists.ImportOptions) ([]lists.ImportResult, error)
	DiffOf(source, version string) (lists.Diff, error)
}

// FeedStatuses reports the list feeds; *feeds.Scheduler implements it.
type FeedStatuses interface {
	Statuses() []feeds.Status
}

// Options are the dependencies of the admin API. Leave a field nil (not a
// typed nil pointer) when the piece is absent; its routes then answer 503.
type Options struct {
	// Tokens verifies bearer tokens. Required.
	Tokens token.Store
	// Screening answers POST /v1/screen.
	Screening Screener
	// Lists answers GET /v1/lists and POST /v1/lists/import.
	Lists ListStore
	// Feeds adds the feeds' state to GET /v1/lists; nil lists none.
	Feeds FeedStatuses
	// Metrics serves GET /metrics (a Prometheus handler); nil answers 404.
	Metrics http.Handler
	// Health reports readiness for GET /healthz; nil means always healthy.
	Health func() error
	// Logger receives authentication failures and server errors; nil
	// discards them.
	Logger *slog.Logger
	// MaxImportBytes bounds the body of POST /v1/lists/import; 0 means
	// DefaultMaxImportBytes.
	MaxImportBytes int64
	// Purger answers POST /v1/zones/{id}/purge (purge.go).
	Purger Purger

	// --- compliance desk (H14): accounts.go, zones.go, reports.go,
	// cases.go, audit.go ---
	// Compliance answers accounts, zones, cases and decisions; nil
	// answers 503.
	Compliance *compliance.Service
	// Reporter files public reports (POST /v1/reports); nil answers 503.
	Reporter *compliance.Reporter
	// Store is the control-plane store: the audit log (GET /v1/audit...)
	// and the token.use entries of write calls; nil answers 503 and
	// audits nothing.
	Store store.Store

	// Dashboard serves the web dashboard under /dashboard/ (internal/
	// dashboard); nil answers 404 there.
	Dashboard http.Handler
}

// DefaultMaxImportBytes bounds list uploads (64 MiB; the OFAC SDN set is
// about 6 MiB).
const DefaultMaxImportBytes = 64 << 20

// maxJSONBody bounds JSON request bodies (64 KiB).
const maxJSONBody = 64 << 10

// Server is the admin API. It is safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
}

// route is one entry of the routing table.
type route struct {
	// pattern is a ServeMux pattern with a method ("POST /v1/screen").
	pattern string
	// scope is the least token scope allowed; "" needs no token.
	scope   token.Scope
	handler http.HandlerFunc
}

// routes is the routing table. Keep it sorted by path.
func (s *Server) routes() []route {
	r := []route{
		{"GET /healthz", "", s.handleHealth},
		{"GET /metrics", "", s.handleMetrics},
		{"GET /v1/lists", token.Read, s.handleListsStatus},
		{"GET /v1/openapi.json", "", s.handleOpenAPI},
		{"POST /v1/lists/import", token.Admin, s.auditUse(s.handleListsImport)},
		{"POST /v1/lists/rollback", token.Admin, s.auditUse(s.handleListRollback)},
		{"GET /v1/lists/{source}/{version}/diff", token.Read, s.handleListDiff},
		{"POST /v1/screen", token.Read, s.handleScreen},
		{"POST /v1/zones/{id}/purge", token.Admin, s.auditUse(s.handlePurge)},
	}
	r = append(r, s.nodeRoutes()...)          // nodes.go (issue 14)
	return append(r, s.complianceRoutes()...) // accounts.go (H14)
}

// New builds the admin API server.
func New(opts Options) (*Server, error) {
	if opts.Tokens == nil {
		return nil, errors.New("creating admin API: a token store is required")
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	s := &Server{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "admin")

	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, r := range s.routes() {
		method, path, ok := strings.Cut(r.pattern, " ")
		if !ok {
			return nil, errors.New("creating admin API: route " + r.pattern + " has no method")
		}
		allowed[path] = append(allowed[path], method)
		var h http.Handler = r.handler
		if r.scope != "" {
			h = s.requireScope(r.scope, h)
		}
		mux.Handle(r.pattern, h)
	}
	// A method-less pattern per path answers other methods with a JSON
	// 405; ServeMux prefers the patterns with a method when they match.
	for path, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+allow)
		})
	}
	if opts.Dashboard != nil {
		mux.Handle("/dashboard/", opts.Dashboard)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.URL.Path)
	})
	s.handler = mux
	return s, nil
}

// Handler returns the HTTP handler of the admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// writeJSON writes v as a JSON answer with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// writeError writes {"error": msg} with status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.opts.Health != nil {
		if err := s.opts.Health(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.opts.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are not enabled")
		return
	}
	s.opts.Metrics.ServeHTTP(w, r)
}

// tokenKey is the context key of the authenticated token.
type tokenKey struct{}

// TokenFrom returns the token that authenticated the request, for audit
// records; false on routes that need none.
func TokenFrom(ctx context.Context) (token.Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(token.Token)
	return t, ok
}

// requireScope wraps h with bearer authentication: no or a bad token is
// 401 with WWW-Authenticate, a token whose scope does not reach need is
// 403.
func (s *Server) requireScope(need token.Scope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN)")
			return
		}
		var tok token.Token
		if c, can := s.opts.Tokens.(tokenChecker); can {
			// A store that did not answer is 503, not a refused token.
			t, err := c.Check(plain)
			if errors.Is(err, store.ErrUnavailable) {
				s.log.Warn("admin API token not verified: store unavailable", "error", err)
				w.Header().Set("Retry-After", "5")
				writeError(w, http.StatusServiceUnavailable, "the control-plane store did not answer in time; try again later")
				return
			}
			tok, ok = t, err == nil
		} else {
			tok, ok = s.opts.Tokens.Verify(plain)
		}
		if !ok {
			s.log.Info("admin API token refused", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid or revoked token")
			return
		}
		if !tok.Scope.Allows(need) {
			s.log.Info("admin API scope too low", "remote", r.RemoteAddr, "token", tok.ID,
				"scope", tok.Scope, "need", need, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="insufficient_scope", scope="`+string(need)+`"`)
			writeError(w, http.StatusForbidden, "token scope "+string(tok.Scope)+" may not do this; it needs "+string(need))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// tokenChecker is a token store that tells a refused token from a store
// that did not answer (store.TokenStore).
type tokenChecker interface {
	Check(plaintext string) (token.Token, error)
}

// bearer extracts the token from an Authorization header value. The
// scheme is case-insensitive (RFC 9110 section 11.1).
func bearer(v string) (string, bool) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
