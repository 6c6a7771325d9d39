package admin

import (
	"net/http"

	"github.com/rampart-edge/rampart/internal/store"
)

// handleCasesList answers GET /v1/cases?status=&category=&host=&limit=&offset=,
// newest first.
func (s *Server) handleCasesList(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	limit, offset, err := paging(r)
	var status, category string
	if err == nil {
		status, err = oneOfParam(r, "status", store.CaseOpen, store.CaseDismissed, store.CaseSuspended, store.CaseReinstated)
	}
	if err == nil {
		category, err = oneOfParam(r, "category", store.CategorySanctions, store.CategoryAbuse, store.CategoryOther)
	}
	if err != nil {
		writeRequestError(w, err)
		return
	}
	cs, err := s.opts.Compliance.Store().ListCases(r.Context(), store.CaseFilter{Status: status, Category: category,
		Host: r.URL.Query().Get("host"), Limit: limit, Offset: offset})
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	if cs == nil {
		cs = []store.Case{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": cs})
}

// handleCaseGet answers GET /v1/cases/{id}: the case, its reports,
// decisions, the zone's screenings, "known_since" and a dated event list.
func (s *Server) handleCaseGet(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	t, err := s.opts.Compliance.CaseTimeline(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// decisionRequest is the body of POST /v1/cases/{id}/decision.
type decisionRequest struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// handleCaseDecision answers POST /v1/cases/{id}/decision: {"action":
// "dismiss|suspend|reinstate", "reason"} → 200 {"case", "decision"}. A
// missing reason or unknown action is 422; a move the case's status does
// not allow is 409.
func (s *Server) handleCaseDecision(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var req decisionRequest
	if err := decodeStrict(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	c, d, err := s.opts.Compliance.Decide(r.Context(), r.PathValue("id"), req.Action, req.Reason, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": c, "decision": d})
}
