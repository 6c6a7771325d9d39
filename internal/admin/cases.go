package admin

import (
	"net/http"

	"github.com/rampart-edge/rampart/internal/store"
)

// handleCasesList answers GET /v1/cases?status=&category=&host=&assignee=&unassigned=&limit=&offset=,
// newest first.
func (s *Server) handleCasesList(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	limit, offset, err := paging(r)
	var status, category, unassigned string
	if err == nil {
		unassigned, err = oneOfParam(r, "unassigned", "true", "false")
	}
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
		Host: r.URL.Query().Get("host"), Assignee: r.URL.Query().Get("assignee"), Unassigned: unassigned == "true", Limit: limit, Offset: offset})
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

// tokenName is the name of the request's token for comments and "assign
// to me": its note, else its id.
func tokenName(r *http.Request) string {
	if t, ok := TokenFrom(r.Context()); ok {
		if t.Note != "" {
			return t.Note
		}
		return t.ID
	}
	return ""
}

// reviewRequest is the body of POST /v1/cases/{id}/matches/{match_id}/review.
type reviewRequest struct {
	// Verdict is confirmed, no_match or whitelisted.
	Verdict string `json:"verdict"`
	// Reason is required to whitelist.
	Reason string `json:"reason"`
	// SubjectType (zone or account) picks the subject when the case's
	// zone and account both matched the entity; by default the zone.
	SubjectType string `json:"subject_type,omitempty"`
}

// reviewAnswer is the answer of a match review.
type reviewAnswer struct {
	Review store.MatchReview `json:"review"`
}

// handleCaseReview answers POST /v1/cases/{id}/matches/{match_id}/review:
// a verdict on one screening match of the case (match_id is the listed
// entity's id) → 201 {"review"}. A match the case does not have is 404;
// a bad verdict, or a whitelist without reason, 422.
func (s *Server) handleCaseReview(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var req reviewRequest
	if err := decodeStrict(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	rv, err := s.opts.Compliance.ReviewMatch(r.Context(), r.PathValue("id"), r.PathValue("match_id"), req.SubjectType, req.Verdict, req.Reason, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, reviewAnswer{Review: rv})
}

// assignRequest is the body of POST /v1/cases/{id}/assign.
type assignRequest struct {
	// Assignee is the person working the case (free text, at most 100
	// bytes, one line); "" unassigns it.
	Assignee string `json:"assignee"`
	// Me assigns the case to the token's name (its note, else its id)
	// instead.
	Me bool `json:"me,omitempty"`
}

// caseAnswer is an answer holding one case.
type caseAnswer struct {
	Case store.Case `json:"case"`
}

// handleCaseAssign answers POST /v1/cases/{id}/assign → 200 {"case"}.
func (s *Server) handleCaseAssign(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var req assignRequest
	if err := decodeStrict(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	if req.Me {
		req.Assignee = tokenName(r)
	}
	cs, err := s.opts.Compliance.AssignCase(r.Context(), r.PathValue("id"), req.Assignee, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, caseAnswer{Case: cs})
}

// commentRequest is the body of POST /v1/cases/{id}/comments.
type commentRequest struct {
	// Body is the comment's text (1..4000 bytes).
	Body string `json:"body"`
}

// commentAnswer is the answer of a new comment.
type commentAnswer struct {
	Comment store.Comment `json:"comment"`
}

// handleCaseComment answers POST /v1/cases/{id}/comments → 201
// {"comment"}; the author is the token (id and name).
func (s *Server) handleCaseComment(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	var req commentRequest
	if err := decodeStrict(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	cm, err := s.opts.Compliance.CommentCase(r.Context(), r.PathValue("id"), req.Body, actor(r), tokenName(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, commentAnswer{Comment: cm})
}
