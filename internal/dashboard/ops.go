package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/rollup"
)

// OriginHealth is one origin of a zone as this node's health checks see
// it.
type OriginHealth struct {
	Zone   string
	Origin string
	// Healthy is false while active checks fail or a passive ejection
	// lasts.
	Healthy bool
	// LastCheck is the last active check (zero without health checks);
	// LastError why it failed ("" when it passed).
	LastCheck time.Time
	LastError string
	// Active is the requests in flight to it.
	Active int64
}

// healthData is the origin health of one zone or of every zone.
type healthData struct {
	Known     bool // the server reports origin health
	Origins   []OriginHealth
	Total     int
	Unhealthy int
}

// maxUnhealthyListed bounds the unhealthy origins listed on the all-zones
// pages (the count is always complete).
const maxUnhealthyListed = 50

// originHealth is the health of zone's origins, or, for zone "", the
// count of every zone's and the unhealthy ones.
func (d *Dashboard) originHealth(zone string) healthData {
	if d.opts.Origins == nil {
		return healthData{}
	}
	hd := healthData{Known: true}
	for _, o := range d.opts.Origins() {
		if zone != "" && !strings.EqualFold(o.Zone, zone) {
			continue
		}
		hd.Total++
		if !o.Healthy {
			hd.Unhealthy++
		}
		if zone != "" || !o.Healthy && len(hd.Origins) < maxUnhealthyListed {
			hd.Origins = append(hd.Origins, o)
		}
	}
	slices.SortFunc(hd.Origins, func(a, b OriginHealth) int { // the down ones first
		return cmp.Or(strings.Compare(a.Zone, b.Zone), cmp.Compare(btoi(a.Healthy), btoi(b.Healthy)), strings.Compare(a.Origin, b.Origin))
	})
	return hd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trafficTimeout bounds a traffic page's reads of the shared store.
const trafficTimeout = 5 * time.Second

// series reads the last n minutes of zone ("" for all) in points of step.
func (d *Dashboard) series(ctx context.Context, zone string, now time.Time, n, step int) ([]rollup.Point, error) {
	ctx, cancel := context.WithTimeout(ctx, trafficTimeout)
	defer cancel()
	return d.traffic.Series(ctx, zone, now, n, step)
}

// totals reads each zone's sum over the last n minutes, busiest first.
func (d *Dashboard) totals(ctx context.Context, now time.Time, n, limit int) ([]rollup.ZoneTotal, error) {
	ctx, cancel := context.WithTimeout(ctx, trafficTimeout)
	defer cancel()
	return d.traffic.Totals(ctx, now, n, limit)
}

// events reads the sampled security events that pass f, newest first:
// every node's from the shared store, else this node's.
func (d *Dashboard) events(ctx context.Context, f rollup.EventFilter) ([]rollup.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, trafficTimeout)
	defer cancel()
	evs, err := d.traffic.Events(ctx, f)
	if evs == nil {
		evs = []rollup.Event{}
	}
	return evs, err
}

// requestsOf is the requests of each point, for a chart.
func requestsOf(ps []rollup.Point) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = float64(p.Requests)
	}
	return out
}

// accessRule is the zone access entry that denies what an events filter
// names: the most specific of client IP, ASN and country (a deny list
// matches any of its entries, so naming several would deny more than
// the filter shows).
func accessRule(f rollup.EventFilter) (entry, what string) {
	switch {
	case f.ClientIP != "":
		return f.ClientIP, "the client " + f.ClientIP
	case f.ASN != 0:
		n := formatASN(f.ASN)
		return "asn:" + n, "autonomous system AS" + n
	case f.Country != "":
		return "country:" + f.Country, "country " + f.Country
	}
	return "", ""
}

// checkEventFilter validates an events filter's fields and sets its ASN
// from asn ("64500" or "AS64500"); a bad field is a 400 naming it.
func checkEventFilter(f *rollup.EventFilter, asn string) error {
	bad := func(msg string) error { return &httpError{http.StatusBadRequest, msg} }
	for name, v := range map[string]string{"zone": f.Zone, "ip": f.ClientIP, "rule": f.RuleID, "path": f.Path} {
		if len(v) > 1024 {
			return bad("The filter's " + name + " is over 1,024 bytes.")
		}
	}
	if f.ClientIP != "" {
		ip, err := netip.ParseAddr(f.ClientIP)
		if err != nil {
			return bad("The filter's client IP " + strconv.Quote(f.ClientIP) + " is not an IP address.")
		}
		f.ClientIP = ip.Unmap().String()
	}
	if f.Country != "" && (len(f.Country) != 2 || f.Country[0] < 'A' || f.Country[0] > 'Z' || f.Country[1] < 'A' || f.Country[1] > 'Z') {
		return bad("The filter's country " + strconv.Quote(f.Country) + " is not a two-letter ISO 3166 code.")
	}
	if asn != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(asn), "AS"), 10, 32)
		if err != nil || n == 0 {
			return bad("The filter's ASN " + strconv.Quote(asn) + " is not an autonomous system number (such as 64500 or AS64500).")
		}
		f.ASN = uint32(n)
	}
	return nil
}

func formatASN(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
