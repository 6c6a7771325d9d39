package proxy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
)

func newTestProxy(t *testing.T, n int, policy string) *Proxy {
	t.Helper()
	var urls []string
	for i := 0; i < n; i++ {
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", 10000+i))
	}
	p, err := New(config.Zone{Host: "x.test", Origins: urls, LoadBalancing: policy}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPickVisitsEveryOriginOnce(t *testing.T) {
	for _, policy := range []string{RoundRobin, LeastConn, IPHash} {
		for _, n := range []int{1, 3, 64, 70} {
			t.Run(fmt.Sprintf("%s/%d", policy, n), func(t *testing.T) {
				p := newTestProxy(t, n, policy)
				// Half the origins are down: they come last.
				for i := 0; i < n; i += 2 {
					p.origins[i].healthy.Store(false)
				}
				var tried triedSet
				seen := map[int]bool{}
				for k := 0; k < n; k++ {
					i := p.pick(hashAddr(netip.MustParseAddr("192.0.2.1")), &tried)
					if i < 0 || seen[i] {
						t.Fatalf("pick %d returned %d (seen %v)", k, i, seen[i])
					}
					if healthyLeft := n / 2; k < healthyLeft && i%2 == 0 {
						t.Fatalf("pick %d chose down origin %d while healthy ones were untried", k, i)
					}
					seen[i] = true
					tried.add(i)
				}
				if i := p.pick(0, &tried); i != -1 {
					t.Errorf("pick after all tried = %d, want -1", i)
				}
			})
		}
	}
}

func TestLeastConnSpreadsEqualLoad(t *testing.T) {
	p := newTestProxy(t, 3, LeastConn)
	counts := make([]int, 3)
	for k := 0; k < 300; k++ {
		var tried triedSet
		counts[p.pick(0, &tried)]++
	}
	for i, c := range counts {
		if c != 100 {
			t.Errorf("origin %d picked %d of 300 times with equal load, want 100", i, c)
		}
	}
}

func TestNewRejectsBadZones(t *testing.T) {
	tests := []struct {
		name string
		z    config.Zone
		want string
	}{
		{"no origins", config.Zone{Host: "a.test"}, "no origin configured"},
		{"bad scheme", config.Zone{Host: "a.test", Origins: []string{"ftp://x"}}, "scheme must be http or https"},
		{"query", config.Zone{Host: "a.test", Origins: []string{"http://x/?a=1"}}, "want scheme://host"},
		{"policy", config.Zone{Host: "a.test", Origins: []string{"http://x"}, LoadBalancing: "random"}, "load_balancing"},
		{"retries", config.Zone{Host: "a.test", Origins: []string{"http://x"}, Retries: -1}, "retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.z, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"a.test"`) {
				t.Errorf("err = %v, want one naming the zone and %q", err, tt.want)
			}
		})
	}
}
