package admin

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/rampart-edge/rampart/internal/audit"
)

func (s *Server) needStore(w http.ResponseWriter) bool {
	if s.opts.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "the audit log is not available on this server")
		return false
	}
	return true
}

// handleAuditList answers GET /v1/audit?from=SEQ&limit=N (limit 1..1000,
// default 100): {"entries": [...], "next": SEQ}, entries byte-exact as
// sealed. With format=jsonl it streams the export instead.
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	q := r.URL.Query()
	from := int64(1)
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, `"from" must be an entry number from 1, not `+strconv.Quote(v))
			return
		}
		from = n
	}
	switch q.Get("format") {
	case "", "json":
	case "jsonl":
		s.exportAudit(w, r, from)
		return
	default:
		writeError(w, http.StatusBadRequest, `"format" must be json or jsonl`)
		return
	}
	limit, _, err := paging(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	entries := []json.RawMessage{}
	next := from
	for e, err := range s.opts.Store.Entries(r.Context(), from) {
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		if len(entries) == limit {
			break
		}
		b, err := e.MarshalJSON()
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		entries = append(entries, b)
		next = e.Seq + 1
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "next": next})
}

// handleAuditExport answers GET /v1/audit/export?from=SEQ: the log as
// JSON Lines, one sealed entry a line.
func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	from := int64(1)
	if v := r.URL.Query().Get("from"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, `"from" must be an entry number from 1, not `+strconv.Quote(v))
			return
		}
		from = n
	}
	s.exportAudit(w, r, from)
}

func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, from int64) {
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := audit.Export(r.Context(), s.opts.Store, bw, from); err != nil {
		// Headers are gone; the truncated stream fails verification.
		s.log.Error("exporting the audit log", "error", err)
	}
	_ = bw.Flush()
}

// handleAuditVerify answers GET /v1/audit/verify: {"ok", "entries",
// "head"}, plus "first_bad" and "problem" when the chain is broken (still
// 200: the check itself worked).
func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	rep, err := audit.Verify(r.Context(), s.opts.Store)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
