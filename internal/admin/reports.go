package admin

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/ratelimit"
)

// handleReport answers POST /v1/reports (public, no token, rate limited
// per client IP): {"host", "category", "description", "evidence_urls",
// "reporter_email"} → 202 {"case_id"}.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reporter == nil {
		writeError(w, http.StatusServiceUnavailable, "reports are not accepted on this server")
		return
	}
	var in compliance.ReportInput
	if err := decodeStrict(r, &in); err != nil {
		writeRequestError(w, err)
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	ip, _ := netip.ParseAddr(host)
	cs, retry, err := s.opts.Reporter.File(r.Context(), in, ip.Unmap())
	if errors.Is(err, compliance.ErrRateLimited) {
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(retry)))
		writeError(w, http.StatusTooManyRequests, err.Error())
		return
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"case_id": cs.ID})
}
