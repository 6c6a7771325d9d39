package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/rampart-edge/rampart/internal/cache"
)

// ErrNoZone is returned by a Purger for a zone id it does not know; the
// route answers 404.
var ErrNoZone = errors.New("no such zone")

// Purger removes cached responses of a zone; the app's cache implements
// it. Until zones have ids in the API, the id is the zone's host.
type Purger interface {
	Purge(zone string, p cache.PurgeRequest) (int, error)
}

// purgeAnswer is the body of a successful purge.
type purgeAnswer struct {
	// Purged counts the entries removed on this node (other nodes purge
	// theirs through Redis).
	Purged int `json:"purged"`
}

// handlePurge serves POST /v1/zones/{id}/purge with the body
// {"urls": [], "prefixes": [], "tags": [], "everything": false}. The
// purge is effective on this node when the answer is sent.
func (s *Server) handlePurge(w http.ResponseWriter, r *http.Request) {
	if s.opts.Purger == nil {
		writeError(w, http.StatusServiceUnavailable, "the cache is not available on this node")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be application/json")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	var req cache.PurgeRequest
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		writeError(w, http.StatusBadRequest, "decoding the purge request: "+err.Error())
		return
	}
	if err := req.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, "purge request: "+err.Error())
		return
	}
	n, err := s.opts.Purger.Purge(r.PathValue("id"), req)
	switch {
	case errors.Is(err, ErrNoZone):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		// The local purge happened; telling the other nodes failed.
		s.log.Error("cache purge not shared with the other nodes", "zone", r.PathValue("id"), "error", err)
		writeError(w, http.StatusBadGateway, "purged on this node, but not on the others: "+err.Error())
		return
	}
	s.log.Info("cache purged", "zone", r.PathValue("id"), "purged", n, "urls", len(req.URLs),
		"prefixes", len(req.Prefixes), "tags", len(req.Tags), "everything", req.Everything)
	writeJSON(w, http.StatusOK, purgeAnswer{Purged: n})
}
