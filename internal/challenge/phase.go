package challenge

import (
	"net/http"
	"net/netip"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// PhaseOptions configure one zone's challenge phase.
type PhaseOptions struct {
	// Zone names the zone. When Policy.Scope is the zero Scope, the
	// phase binds its tokens and clearances to ZoneScope(Zone).
	Zone string
	// Active tells whether the zone challenges now: under_attack "on" is
	// func() bool { return true }, "auto" is the zone's detector's
	// Active. Nil never challenges (the verify endpoint still answers, so
	// a client that was solving when the zone switched off is admitted).
	Active func() bool
	// Policy is the zone's difficulty and exemptions.
	Policy Policy
	// OnResult, when set, is called for every request the phase answered
	// (Challenged, Verified, Rejected), for the metrics.
	OnResult func(Result)
}

// Phase is the edge's challenge phase for one zone.
type Phase struct {
	c    *Challenger
	opts PhaseOptions
}

var _ edge.Phase = (*Phase)(nil)

// Phase returns the challenge phase of one zone.
func (c *Challenger) Phase(opts PhaseOptions) *Phase {
	if opts.Policy.Scope == (Scope{}) && opts.Zone != "" {
		opts.Policy.Scope = ZoneScope(opts.Zone)
	}
	return &Phase{c: c, opts: opts}
}

// Serve admits requests with a valid clearance or an exemption, and
// answers the others with the challenge page (reqctx.Info.Block
// "challenge") while the zone is active; it always answers the verify
// endpoint.
func (p *Phase) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	verify := r.URL.Path == VerifyPath
	if !verify && (p.opts.Active == nil || !p.opts.Active()) {
		return edge.Continue
	}
	info := reqctx.From(r.Context())
	var client netip.Addr
	if info != nil {
		client = info.ClientIP
	} else if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		client = ap.Addr()
	}
	res := p.c.Check(w, r, client, &p.opts.Policy)
	if !res.Handled() {
		return edge.Continue
	}
	if info != nil && res != Verified {
		info.Block = "challenge"
	}
	if p.opts.OnResult != nil {
		p.opts.OnResult(res)
	}
	return edge.Handled
}
