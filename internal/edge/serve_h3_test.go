package edge

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"
)

func TestTooEarly(t *testing.T) {
	plain := &Zone{}
	rules := &Zone{NeedsHandshake: true}
	limited := &Zone{}
	limited.Phases[PhaseRateLimit] = PhaseFunc(func(http.ResponseWriter, *http.Request) Decision { return Continue })
	challenged := &Zone{}
	challenged.Phases[PhaseChallenge] = limited.Phases[PhaseRateLimit]
	early := &tls.ConnectionState{HandshakeComplete: false}
	done := &tls.ConnectionState{HandshakeComplete: true}
	tests := []struct {
		name   string
		method string
		tls    *tls.ConnectionState
		z      *Zone
		want   bool
	}{
		{"plain http", "POST", nil, plain, false},
		{"after handshake", "POST", done, rules, false},
		{"early GET", "GET", early, plain, false},
		{"early HEAD", "HEAD", early, plain, false},
		{"early OPTIONS", "OPTIONS", early, plain, false},
		{"early POST", "POST", early, plain, true},
		{"early PUT", "PUT", early, plain, true},
		{"early DELETE", "DELETE", early, plain, true},
		{"early GET, access rules", "GET", early, rules, true},
		{"early GET, rate limit", "GET", early, limited, true},
		{"early GET, challenge", "GET", early, challenged, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, "https://a.test/", nil)
			r.TLS = tt.tls
			if got := tooEarly(r, tt.z); got != tt.want {
				t.Errorf("tooEarly = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQUICRetryDecision(t *testing.T) {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	attack := false
	tests := []struct {
		name     string
		above    int
		attack   bool
		attempts int
		want     []bool // decision of each attempt
	}{
		{"always", 0, false, 2, []bool{true, true}},
		{"below the rate", 3, false, 3, []bool{false, false, false}},
		{"above the rate", 2, false, 4, []bool{false, false, true, true}},
		{"under attack", 100, true, 2, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attack = tt.attack
			g := &quicGuard{opts: H3Options{RetryAbove: tt.above, UnderAttack: func() bool { return attack }}}
			for i := range tt.attempts {
				if got := g.verifySourceAddress(addr); got != tt.want[i] {
					t.Errorf("attempt %d: retry = %v, want %v", i+1, got, tt.want[i])
				}
			}
		})
	}
}
