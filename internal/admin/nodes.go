package admin

import (
	"net/http"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// nodeRoutes are the cluster's routes (issue 14).
func (s *Server) nodeRoutes() []route {
	return []route{{"GET /v1/nodes", token.Read, s.handleNodes}}
}

// nodeView is one node of GET /v1/nodes: the store's record and whether
// it is stale (no heartbeat for a minute).
type nodeView struct {
	store.Node
	Stale bool `json:"stale"`
}

// staleAfter is how long a node may go without a heartbeat before GET
// /v1/nodes marks it stale.
const staleAfter = time.Minute

// handleNodes answers GET /v1/nodes: {"nodes": [{"id", "address",
// "version", "state_version", "lists", "last_seen", ...}]}.
func (s *Server) handleNodes(w http.ResponseWriter, r *http.Request) {
	if s.opts.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "the node table is not available on this server")
		return
	}
	ns, err := s.opts.Store.ListNodes(r.Context())
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	out := make([]nodeView, len(ns))
	now := time.Now()
	for i, n := range ns {
		out[i] = nodeView{Node: n, Stale: now.Sub(n.LastSeen) > staleAfter}
	}
	writeJSON(w, http.StatusOK, nodesAnswer{Nodes: out})
}

// nodesAnswer is the answer of GET /v1/nodes.
type nodesAnswer struct {
	Nodes []nodeView `json:"nodes"`
}
