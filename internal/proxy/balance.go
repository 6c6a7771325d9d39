package proxy

import "net/netip"

// Load-balancing policies (config.Zone.LoadBalancing).
const (
	RoundRobin = "round_robin"
	LeastConn  = "least_conn"
	IPHash     = "ip_hash"
)

// triedSet records the origins already tried by one request.
type triedSet struct {
	small uint64
	big   map[int]bool
}

func (t *triedSet) has(i int) bool {
	if i < 64 {
		return t.small&(1<<uint(i)) != 0
	}
	return t.big[i]
}

func (t *triedSet) add(i int) {
	if i < 64 {
		t.small |= 1 << uint(i)
		return
	}
	if t.big == nil {
		t.big = make(map[int]bool)
	}
	t.big[i] = true
}

// pick chooses an origin index for a request by the zone's policy among
// the available origins not in tried. When no untried origin is available
// it falls back to untried unavailable ones ("try anyway": a zone whose
// origins are all marked down still gets its requests tried rather than a
// fast 502, as nginx does). It returns -1 when every origin was tried.
func (p *Proxy) pick(ipHash uint64, tried *triedSet) int {
	if i := p.pickFrom(ipHash, tried, true); i >= 0 {
		return i
	}
	return p.pickFrom(ipHash, tried, false)
}

func (p *Proxy) pickFrom(ipHash uint64, tried *triedSet, onlyAvailable bool) int {
	n := len(p.origins)
	ok := func(i int) bool {
		if tried.has(i) {
			return false
		}
		if !onlyAvailable {
			return true
		}
		return p.origins[i].available()
	}
	switch p.policy {
	case IPHash:
		// Rendezvous hashing: the origin with the highest score for this
		// client wins. Removing an origin only moves its own clients.
		best, bestScore := -1, uint64(0)
		for i, o := range p.origins {
			if !ok(i) {
				continue
			}
			s := mix64(ipHash ^ o.hash)
			if best < 0 || s > bestScore {
				best, bestScore = i, s
			}
		}
		return best
	case LeastConn:
		start := int(p.next.Add(1) % uint64(n))
		best, bestActive := -1, int64(0)
		for k := 0; k < n; k++ {
			i := (start + k) % n
			if !ok(i) {
				continue
			}
			a := p.origins[i].active.Load()
			if best < 0 || a < bestActive {
				best, bestActive = i, a
			}
		}
		return best
	default:
		start := int(p.next.Add(1) % uint64(n))
		for k := 0; k < n; k++ {
			i := (start + k) % n
			if ok(i) {
				return i
			}
		}
		return -1
	}
}

// hashAddr returns a stable 64-bit hash of a client address (FNV-1a).
func hashAddr(a netip.Addr) uint64 {
	b := a.Unmap().As16()
	return hashBytes(b[:])
}

// hashBytes returns the 64-bit FNV-1a hash of b.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer, spreading the bits of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
