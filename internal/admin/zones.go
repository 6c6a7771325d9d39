package admin

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/rampart-edge/rampart/internal/store"
)

// readObject reads a JSON object body (64 KiB at most) for the zone
// routes, whose fields are the config file's zone fields: unknown ones
// are refused by the config validator (422 naming the field).
func readObject(r *http.Request) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := readJSONBody(r, &buf); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := decodeBytes(buf.Bytes(), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest("the body must be a JSON object, not null")
	}
	return buf.Bytes(), nil
}

// handleZoneCreate answers POST /v1/zones: {"account_id", "host",
// "aliases", "origins", ...settings} → 201 {"id", "host", "status",
// "reasons"}. A host already taken is 409.
func (s *Server) handleZoneCreate(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	body, err := readObject(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	res, err := s.opts.Compliance.CreateZone(r.Context(), body, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) handleZoneGet(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	z, err := s.opts.Compliance.Store().GetZone(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, z)
}

// handleZonesList answers GET /v1/zones?status=&source=&account_id=.
func (s *Server) handleZonesList(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	limit, offset, err := paging(r)
	var status, source string
	if err == nil {
		status, err = oneOfParam(r, "status", store.ZoneActive, store.ZoneReview, store.ZoneRejected, store.ZoneSuspended)
	}
	if err == nil {
		source, err = oneOfParam(r, "source", store.SourceAPI, store.SourceConfig)
	}
	if err != nil {
		writeRequestError(w, err)
		return
	}
	zs, err := s.opts.Compliance.Store().ListZones(r.Context(), store.ZoneFilter{Status: status, Source: source,
		AccountID: r.URL.Query().Get("account_id"), Limit: limit, Offset: offset})
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	if zs == nil {
		zs = []store.Zone{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"zones": zs})
}

// handleZonePatch answers PATCH /v1/zones/{id}: the given fields replace
// the stored ones and the zone passes the gate again.
func (s *Server) handleZonePatch(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	body, err := readObject(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	z, err := s.opts.Compliance.UpdateZone(r.Context(), r.PathValue("id"), body, actor(r))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, z)
}

// handleZoneDelete answers DELETE /v1/zones/{id} with 204.
func (s *Server) handleZoneDelete(w http.ResponseWriter, r *http.Request) {
	if !s.needCompliance(w) {
		return
	}
	if err := s.opts.Compliance.DeleteZone(r.Context(), r.PathValue("id"), actor(r)); err != nil {
		s.writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
