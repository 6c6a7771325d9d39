package admin

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/cache"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/openapi"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// The OpenAPI document (GET /v1/openapi.json) is built from two tables:
// the routing table (Server.routes) gives each operation's method, path
// and scope; apiDocs below gives its summary, parameters, body types and
// errors. TestOpenAPIMatchesRoutes fails when either table has a route
// the other lacks, and when a documented body type is not the one the
// handler decodes, so the document cannot drift from the server.

// opDoc documents one operation.
type opDoc struct {
	summary string
	// desc is the longer description (markdown).
	desc string
	// query parameters: name → description (all optional strings unless
	// the description says otherwise).
	query [][2]string
	// body is the request body type (a value of it); nil for none.
	body any
	// bodyType is the request content type when not application/json.
	bodyType string
	// ok is the success status and answer type; okType overrides the
	// content type (text/plain, application/jsonl).
	ok     int
	answer any
	okType string
	// errs are the error statuses the operation answers, beyond 401, 403
	// (added for every route that needs a token) and 500.
	errs []int
}

// listsStatusAnswer and friends name answer shapes that handlers build
// as maps, so that the document has a type to reflect on.
type (
	accountsAnswer struct {
		Accounts []store.Account `json:"accounts"`
	}
	zonesAnswer struct {
		Zones []store.Zone `json:"zones"`
	}
	casesAnswer struct {
		Cases []store.Case `json:"cases"`
	}
	caseDecisionAnswer struct {
		Case     store.Case     `json:"case"`
		Decision store.Decision `json:"decision"`
	}
	auditAnswer struct {
		Entries []audit.Entry `json:"entries"`
		// Next is the seq to ask for with ?from= to read on.
		Next int64 `json:"next"`
	}
	reportAnswer struct {
		CaseID string `json:"case_id"`
	}
	healthAnswer struct {
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}
	// zoneBody is the body of POST /v1/zones and PATCH /v1/zones/{id}:
	// the owning account plus the config file's zone fields.
	zoneBody struct {
		AccountID string `json:"account_id"`
		config.Zone
	}
	accountDecisionRequest struct {
		// Action is clear, block or review.
		Action string `json:"action"`
		Reason string `json:"reason"`
	}
)

var pagingQuery = [][2]string{
	{"limit", "integer 1..1000, default 100"},
	{"offset", "integer from 0, default 0"},
}

// apiDocs documents every route of the routing table, keyed by its
// pattern.
var apiDocs = map[string]opDoc{
	"GET /healthz": {summary: "Readiness", ok: 200, answer: healthAnswer{}, errs: []int{503},
		desc: "No token. 503 with the reason when a required piece (store, lists) is not ready."},
	"GET /metrics": {summary: "Prometheus metrics", ok: 200, okType: "text/plain; version=0.0.4", errs: []int{404},
		desc: "No token; bind the admin listener to loopback or front it."},
	"GET /v1/openapi.json": {summary: "This document", ok: 200, answer: map[string]any{},
		desc: "The admin API as OpenAPI 3.1. No token."},
	"GET /v1/lists": {summary: "Active list versions", ok: 200, answer: listsStatus{}, errs: []int{503},
		desc: "The active version of every source (sha256 of its files), its entity count and import time."},
	"POST /v1/lists/import": {summary: "Import list files", ok: 200, answer: importResponse{},
		bodyType: "multipart/form-data", query: [][2]string{{"name", "file name of a raw (non-multipart) body, such as sdn.csv"},
			{"force", "true: activate although verification refuses it (needs reason)"}, {"reason", "why, kept in the audit log"}},
		errs: []int{400, 413, 415, 422, 503},
		desc: "multipart/form-data with one file part per list file (the file name picks the format), or the raw file with ?name=. " +
			"All files are imported together; a file that does not parse, or an update that verification refuses (incomplete, implausible, too large: `refused` says why), is 422 and every list keeps its previous version. The answer summarises the diff (counts, first ids, a link to the full diff). Audited."},
	"GET /v1/lists/{source}/{version}/diff": {summary: "The full diff of a list version", ok: 200, answer: listDiffAnswer{}, errs: []int{404, 503},
		desc: "The entity ids added, removed and changed by the import that made this version (the import answer lists only the first ones)."},
	"POST /v1/lists/rollback": {summary: "Reactivate an earlier list version", body: rollbackRequest{}, ok: 200, answer: importResponse{},
		errs: []int{400, 413, 415, 422, 503},
		desc: "Activates an earlier version again, re-screens against it and audits it like an import; `reason` is kept in the audit log."},
	"GET /v1/nodes": {summary: "The cluster's nodes", ok: 200, answer: nodesAnswer{}, errs: []int{503},
		desc: "Every node on the store with its address, build version, desired-state version applied, list versions loaded, health and last heartbeat; `stale` after a minute without one."},
	"POST /v1/screen": {summary: "Screen a name", body: screenRequest{}, ok: 200, answer: screenResponse{},
		errs: []int{400, 413, 415, 422, 503},
		desc: "Matches at or above the threshold, sorted by score, each with its explanation; `limit` 1..100 (default 10)."},
	"POST /v1/zones/{id}/purge": {summary: "Purge a zone's cache", body: cache.PurgeRequest{}, ok: 200, answer: purgeAnswer{},
		errs: []int{400, 404, 415, 503}, desc: "Effective on this node when answered; other nodes purge through Redis. Audited as token.use."},

	"GET /v1/accounts": {summary: "List accounts", ok: 200, answer: accountsAnswer{}, errs: []int{400, 503},
		query: append([][2]string{{"status", "active | review | blocked"}, {"kind", "person | organization"}}, pagingQuery...)},
	"POST /v1/accounts": {summary: "Create an account (screening gate)", body: compliance.AccountInput{}, ok: 201, answer: compliance.AccountResult{},
		errs: []int{400, 413, 415, 422, 503},
		desc: "The account is screened: active when nothing matched, review (a case is opened) or blocked otherwise."},
	"GET /v1/accounts/{id}": {summary: "Get an account", ok: 200, answer: store.Account{}, errs: []int{404, 503}},
	"POST /v1/accounts/{id}/decision": {summary: "Decide an account", body: accountDecisionRequest{}, ok: 200, answer: compliance.AccountDecision{},
		errs: []int{400, 404, 409, 413, 415, 422, 503},
		desc: "`action` clear | block | review, `reason` required. The account's zones follow; deciding the status it has is 409."},
	"GET /v1/audit": {summary: "Read the audit log", ok: 200, answer: auditAnswer{}, errs: []int{400, 503},
		query: [][2]string{{"from", "entry number from 1"}, {"limit", "integer 1..1000, default 100"}, {"format", "json (default) | jsonl"}}},
	"GET /v1/audit/export": {summary: "Export the audit log", ok: 200, okType: "application/jsonl", errs: []int{400, 503},
		query: [][2]string{{"from", "entry number from 1"}}, desc: "One sealed entry a line, byte-exact."},
	"GET /v1/audit/verify": {summary: "Verify the audit chain", ok: 200, answer: audit.Report{}, errs: []int{503},
		desc: "200 also when the chain is broken: `ok` false with `first_bad` and `problem`."},
	"GET /v1/cases": {summary: "List cases", ok: 200, answer: casesAnswer{}, errs: []int{400, 503},
		query: append([][2]string{{"status", "open | dismissed | suspended | reinstated"}, {"category", "sanctions | abuse | other"}, {"host", "exact host"},
			{"assignee", "exact assignee name"}, {"unassigned", "true: only cases assigned to nobody"}}, pagingQuery...)},
	"GET /v1/cases/{id}": {summary: "A case with its timeline", ok: 200, answer: compliance.Timeline{}, errs: []int{404, 503},
		desc: "The case (with its `assignee`), its reports, decisions, `match_reviews` (oldest first; the latest of a match is its verdict), `comments`, the zone's screenings, " +
			"and `events`: the audit log's entries about the case, its zone and its account, oldest first, each with its `seq` in the audit log (the newest 200)."},
	"POST /v1/cases/{id}/assign": {summary: "Assign a case", body: assignRequest{}, ok: 200, answer: caseAnswer{},
		errs: []int{400, 404, 413, 415, 422, 503},
		desc: "`assignee` is free text (one line, at most 100 bytes; \"\" unassigns); `me: true` assigns the case to the token's name (its note, else its id). Audited as case.assign."},
	"POST /v1/cases/{id}/comments": {summary: "Comment on a case", body: commentRequest{}, ok: 201, answer: commentAnswer{},
		errs: []int{400, 404, 413, 415, 422, 503},
		desc: "`body` 1..4000 bytes; the author is the token (id and name). Audited as case.comment with the text."},
	"POST /v1/cases/{id}/matches/{match_id}/review": {summary: "Review a screening match of a case", body: reviewRequest{}, ok: 201, answer: reviewAnswer{},
		errs: []int{400, 404, 413, 415, 422, 503},
		desc: "`match_id` is the listed entity's id as the screening shows it (such as `ofac-sdn:4695`), matched by the case's zone or its account. " +
			"`verdict` confirmed | no_match | whitelisted; `reason` is required to whitelist (422 without). A whitelisted match is not held again: a re-screening against the same entry " +
			"leaves the subject alone, while a new, different match still holds it; a later verdict on the same match lifts the whitelist. A match the case does not have is 404. Audited as case.review."},
	"POST /v1/cases/{id}/decision": {summary: "Decide a case", body: decisionRequest{}, ok: 200, answer: caseDecisionAnswer{},
		errs: []int{400, 404, 409, 413, 415, 422, 503},
		desc: "`action` dismiss | suspend | reinstate, `reason` required (422 without). Enforced at the edge before the answer. A move the case's status does not allow is 409."},
	"POST /v1/reports": {summary: "File a public report", body: compliance.ReportInput{}, ok: 202, answer: reportAnswer{},
		errs: []int{400, 413, 415, 422, 429, 503},
		desc: "No token; rate limited per client IP, per network and in total (429 with Retry-After). application/json only."},
	"GET /v1/zones": {summary: "List zones", ok: 200, answer: zonesAnswer{}, errs: []int{400, 503},
		query: append([][2]string{{"status", "active | review | rejected | suspended"}, {"source", "api | config"}, {"account_id", "owning account"}}, pagingQuery...)},
	"POST /v1/zones": {summary: "Create a zone (screening gate)", body: zoneBody{}, ok: 201, answer: compliance.ZoneResult{},
		errs: []int{400, 409, 413, 415, 422, 503},
		desc: "The zone fields are the config file's; unknown ones are 422 naming the field. A host already taken is 409."},
	"GET /v1/zones/{id}": {summary: "Get a zone", ok: 200, answer: store.Zone{}, errs: []int{404, 503}},
	"PATCH /v1/zones/{id}": {summary: "Change a zone", body: zoneBody{}, ok: 200, answer: store.Zone{},
		errs: []int{400, 404, 409, 413, 415, 422, 503},
		desc: "The given fields replace the stored ones and the zone passes the gate again. Config-file zones are 409."},
	"DELETE /v1/zones/{id}": {summary: "Delete a zone", ok: 204, errs: []int{404, 409, 503}},
}

// errorText describes each error status in the document.
var errorText = map[int]string{
	400: "Bad request: invalid JSON, an unknown field or a bad parameter (the message names it)",
	401: "Missing or invalid bearer token (WWW-Authenticate: Bearer)",
	403: "The token's scope is too low for this route",
	404: "Not found",
	409: "Conflict with the current state",
	413: "Body too large",
	415: "Unsupported Content-Type",
	422: "Invalid field value (the message names the field)",
	429: "Rate limited; see Retry-After",
	500: "Internal error (logged)",
	503: "A piece is unavailable (store, lists, compliance desk); Retry-After when the store timed out",
}

var (
	openAPIOnce sync.Once
	openAPIBody []byte
)

// openAPIDocument builds the document from the routing table and apiDocs.
func openAPIDocument(routes []route) map[string]any {
	b := openapi.NewBuilder()
	errRef := map[string]any{"$ref": "#/components/schemas/admin.errorBody"}
	b.Of(errorBody{})
	paths := map[string]map[string]any{}
	for _, r := range routes {
		method, path, _ := strings.Cut(r.pattern, " ")
		d, ok := apiDocs[r.pattern]
		if !ok {
			continue // TestOpenAPIMatchesRoutes reports it
		}
		op := map[string]any{"summary": d.summary, "operationId": operationID(method, path)}
		desc := d.desc
		if r.scope != "" {
			desc = strings.TrimSpace("Scope: `" + string(r.scope) + "` or higher. " + desc)
			op["security"] = []map[string][]string{{"bearer": {string(r.scope)}}}
			op["x-rampart-scope"] = string(r.scope)
		} else {
			op["security"] = []map[string][]string{}
		}
		op["description"] = desc
		var params []map[string]any
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range d.query {
			params = append(params, map[string]any{"name": q[0], "in": "query", "description": q[1], "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if d.body != nil {
			op["requestBody"] = map[string]any{"required": true,
				"content": map[string]any{"application/json": map[string]any{"schema": b.Of(d.body)}}}
		} else if d.bodyType != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				d.bodyType:                 map[string]any{"schema": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}},
				"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}},
			}}
		}
		resp := map[string]any{}
		okResp := map[string]any{"description": http.StatusText(d.ok)}
		switch {
		case d.okType != "":
			okResp["content"] = map[string]any{d.okType: map[string]any{"schema": map[string]any{"type": "string"}}}
		case d.answer != nil:
			okResp["content"] = map[string]any{"application/json": map[string]any{"schema": b.Of(d.answer)}}
		}
		resp[strconv.Itoa(d.ok)] = okResp
		errs := append([]int{500}, d.errs...)
		if r.scope != "" {
			errs = append(errs, 401, 403)
		}
		errs = append(errs, 405)
		for _, code := range errs {
			text := errorText[code]
			if code == 405 {
				text = "Method not allowed on this path (Allow lists the methods)"
			}
			resp[strconv.Itoa(code)] = map[string]any{"description": text,
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		op["responses"] = resp
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "rampart admin API",
			"version": "1",
			"description": "JSON over HTTP on the admin listener. Authenticate with `Authorization: Bearer TOKEN` " +
				"(`rampart token create --scope read|compliance|admin`); scopes are ordered read < compliance < admin. " +
				"Every error is `{\"error\": \"message\"}`. The web dashboard is served at /dashboard/ on the same listener.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": b.Components(),
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An admin API token (rp_...). Scopes: " + strings.Join([]string{string(token.Read), string(token.Compliance), string(token.Admin)}, " < ")},
			},
		},
	}
}

func operationID(method, path string) string {
	var sb strings.Builder
	sb.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.NewReplacer(".", "_", "-", "_").Replace(seg)
		if seg == "" || seg == "v1" {
			continue
		}
		sb.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return sb.String()
}

// handleOpenAPI answers GET /v1/openapi.json.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	openAPIOnce.Do(func() {
		rs := s.routes()
		sort.Slice(rs, func(i, j int) bool { return rs[i].pattern < rs[j].pattern })
		openAPIBody, _ = json.MarshalIndent(openAPIDocument(rs), "", "  ")
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIBody)
}
