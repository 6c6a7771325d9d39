package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// complianceRoutes are the compliance desk's routes (H14). Scopes: read
// for GETs of accounts and zones; compliance for cases, decisions and the
// audit log; admin for account and zone writes. POST /v1/reports is public
// (rate limited per IP).
func (s *Server) complianceRoutes() []route {
	return []route{
		{"GET /v1/accounts", token.Read, s.handleAccountsList},
		{"POST /v1/accounts", token.Admin, s.handleAccountCreate},
		{"GET /v1/accounts/{id}", token.Read, s.handleAccountGet},
		{"POST /v1/accounts/{id}/decision", token.Compliance, s.handleAccountDecision},
		{"GET /v1/audit", token.Compliance, s.handleAuditList},
		{"GET /v1/audit/export", token.Compliance, s.handleAuditExport},
		{"GET /v1/audit/verify", token.Compliance, s.handleAuditVerify},
		{"GET /v1/cases", token.Compliance, s.handleCasesList},
		{"GET /v1/cases/{id}", token.Compliance, s.handleCaseGet},
		{"POST /v1/cases/{id}/assign", token.Compliance, s.handleCaseAssign},
		{"POST /v1/cases/{id}/comments", token.Compliance, s.handleCaseComment},
		{"POST /v1/cases/{id}/decision", token.Compliance, s.handleCaseDecision},
		{"POST /v1/cases/{id}/matches/{match_id}/review", token.Compliance, s.handleCaseReview},
		{"POST /v1/reports", "", s.handleReport},
		{"GET /v1/zones", token.Read, s.handleZonesList},
		{"POST /v1/zones", token.Admin, s.handleZoneCreate},
		{"GET /v1/zones/{id}", token.Read, s.handleZoneGet},
		{"PATCH /v1/zones/{id}", token.Admin, s.handleZonePatch},
		{"DELETE /v1/zones/{id}", token.Admin, s.handleZoneDelete},
	}
}

// actor is the id of the request's token, for audit entries.
func actor(r *http.Request) string {
	if t, ok := TokenFrom(r.Context()); ok {
		return t.ID
	}
	return audit.ActorPublic
}

// auditUse appends a token.use audit entry (token id, method, path) before
// running a write handler that has no audited composite of its own.
func (s *Server) auditUse(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Store != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			_, err := s.opts.Store.Append(ctx, audit.Event{Actor: actor(r), Action: audit.ActionTokenUse, Subject: "token:" + actor(r),
				Data: audit.MustData(map[string]any{"method": r.Method, "path": r.URL.Path})})
			cancel()
			if err != nil {
				s.log.Error("auditing token use", "error", err)
				writeError(w, http.StatusServiceUnavailable, "the audit log is not writable; nothing was changed")
				return
			}
		}
		h(w, r)
	}
}

// decodeStrict reads a JSON body (application/json, at most 64 KiB) into
// v: unknown fields, trailing data and wrong types are 400 naming the
// field; an oversized body is 413.
func decodeStrict(r *http.Request, v any) error {
	var buf bytes.Buffer
	if err := readJSONBody(r, &buf); err != nil {
		return err
	}
	return decodeBytes(buf.Bytes(), v)
}

func decodeBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid JSON: unexpected data after the object")
	}
	return nil
}

// writeStoreError maps the errors of the compliance service and store:
// invalid input 422, not found 404, conflict 409, a store that did not
// answer within its deadline 503 with Retry-After, anything else 500
// (logged, not shown).
func (s *Server) writeStoreError(w http.ResponseWriter, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		writeError(w, re.code, re.msg)
	case errors.Is(err, compliance.ErrInvalid), errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusUnprocessableEntity, cleanMsg(err))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, cleanMsg(err))
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, cleanMsg(err))
	case errors.Is(err, store.ErrUnavailable):
		// The store did not answer within its deadline (timeouts.store).
		s.log.Warn("compliance request failed: store unavailable", "error", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "the control-plane store did not answer in time; try again later")
	default:
		s.log.Error("compliance request failed", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server log")
	}
}

func cleanMsg(err error) string {
	m := err.Error()
	m = strings.ReplaceAll(m, compliance.ErrInvalid.Error()+": ", "")
	return m
}

func (s *Server) needCompliance(w http.ResponseWriter) bool {
	if s.opts.Compliance == nil {
		writeError(w, http.StatusServiceUnavailable, "the compliance desk is not available on this server")
		return false
	}
	return true
}

// paging reads limit (1..1000, default 100) and offset (>= 0).
func paging(r *http.Request) (limit, offset int, err error) {
	limit = 100
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 1000 {
			return 0, 0, badRequest(`"limit" must be a number from 1 to 1000, not %q`, v)
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			return 0, 0, badRequest(`"offset" must be a number from 0, not %q`, v)
		}
		offset = n
	}
	return limit, offset, nil
}

func oneOfParam(r *http.Request, name string, allowed ...string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", badRequest("%q must be one of %s, not %q", name, strings.Join(allowed, ", "), v)
}

// handleAccountCreate answers POST /v1/accounts: {"name", "kind",
// "country", "address", "email"} → 201 {"id", "status", "screening":
// {"matches": [...], "reasons": [...]}}.
func (s *Server) handleAccountCreate(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var in compliance.AccountInput
	if err := decodeStrict(r, &in); err != nil {
		writeRequestError(w, err)
		return
	}
	res, err := s.opts.Compliance.CreateAccount(r.Context(), in, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// handleAccountDecision answers POST /v1/accounts/{id}/decision:
// {"action": "clear|block|review", "reason": "..."} (reason mandatory) →
// 200 {"account", "action", "reason", "zones": [{"id", "host", "from",
// "to"}]}, the zones that followed the account. Deciding the status the
// account already has is 409.
func (s *Server) handleAccountDecision(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var req decisionRequest
	if err := decodeStrict(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	d, err := s.opts.Compliance.DecideAccount(r.Context(), r.PathValue("id"), req.Action, req.Reason, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleAccountGet(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	a, err := s.opts.Compliance.Store().GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// handleAccountsList answers GET /v1/accounts?status=&kind=&limit=&offset=.
func (s *Server) handleAccountsList(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	limit, offset, err := paging(r)
	var status, kind string
	if err == nil {
		status, err = oneOfParam(r, "status", store.AccountActive, store.AccountReview, store.AccountBlocked)
	}
	if err == nil {
		kind, err = oneOfParam(r, "kind", store.KindPerson, store.KindOrganization)
	}
	if err != nil {
		writeRequestError(w, err)
		return
	}
	as, err := s.opts.Compliance.Store().ListAccounts(r.Context(), store.AccountFilter{Status: status, Kind: kind, Limit: limit, Offset: offset})
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	if as == nil {
		as = []store.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": as})
}
