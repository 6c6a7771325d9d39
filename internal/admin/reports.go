package admin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/ratelimit"
)

// handleReport answers POST /v1/reports (public, no token, rate limited
// per client IP, per /24 or /64 and in total): {"host", "category",
// "description", "evidence_urls", "reporter_email"} → 202 {"case_id"}.
// Only application/json is read (415 otherwise, so that no cross-site
// "simple" request can file one), at most compliance.MaxReportBody bytes
// (413); a field over its size bound is 413, a host no zone serves 422.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reporter == nil {
		writeError(w, http.StatusServiceUnavailable, "reports are not accepted on this server")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported; send application/json", r.Header.Get("Content-Type")))
		return
	}
	const limit = compliance.MaxReportBody
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the %d allowed", r.ContentLength, limit))
		return
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	if n > limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the %d bytes allowed", limit))
		return
	}
	var in compliance.ReportInput
	if err := decodeBytes(buf.Bytes(), &in); err != nil {
		writeRequestError(w, err)
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	ip, _ := netip.ParseAddr(host)
	cs, retry, err := s.opts.Reporter.File(r.Context(), in, ip.Unmap())
	switch {
	case errors.Is(err, compliance.ErrRateLimited), errors.Is(err, compliance.ErrReportsBusy):
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(retry)))
		writeError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, compliance.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, strings.TrimPrefix(err.Error(), compliance.ErrTooLarge.Error()+": "))
	case err != nil:
		s.writeStoreError(w, err)
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"case_id": cs.ID})
	}
}
