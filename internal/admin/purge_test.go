package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-edge/rampart/internal/cache"
)

// recordingPurger is a Purger over one known zone that records what it was
// asked; the cache's own purge logic is tested in internal/cache.
type recordingPurger struct {
	mu   sync.Mutex
	got  []cache.PurgeRequest
	zone string
}

func (p *recordingPurger) Purge(zone string, req cache.PurgeRequest) (int, error) {
	if zone != p.zone {
		return 0, fmt.Errorf("%w: %q", ErrNoZone, zone)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, req)
	return len(req.URLs) + len(req.Prefixes) + len(req.Tags), nil
}

func TestPurgeRoute(t *testing.T) {
	t.Parallel()
	p := &recordingPurger{zone: "example.org"}
	e := start(t, Options{Purger: p})
	tests := []struct {
		name, zone, scope, body string
		code                    int
		msg                     string
	}{
		{"urls", "example.org", "admin", `{"urls": ["https://example.org/a"]}`, 200, ""},
		{"everything", "example.org", "admin", `{"everything": true}`, 200, ""},
		{"tags and prefixes", "example.org", "admin", `{"tags": ["t"], "prefixes": ["/s/"]}`, 200, ""},
		{"unknown zone", "other.example", "admin", `{"everything": true}`, 404, "no such zone"},
		{"empty request", "example.org", "admin", `{}`, 400, "nothing to purge"},
		{"bad url", "example.org", "admin", `{"urls": ["relative/path"]}`, 400, "urls[0]"},
		{"unknown field", "example.org", "admin", `{"url": ["/a"]}`, 400, "unknown field"},
		{"not JSON", "example.org", "admin", `purge!`, 400, "decoding"},
		{"read scope", "example.org", "read", `{"everything": true}`, 403, "admin"},
		{"no token", "example.org", "", `{"everything": true}`, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.do(t, http.MethodPost, "/v1/zones/"+tt.zone+"/purge", tt.scope, "application/json", strings.NewReader(tt.body))
			if a.code != tt.code {
				t.Fatalf("code %d %s, want %d", a.code, a.body, tt.code)
			}
			if tt.code == 200 {
				var ans purgeAnswer
				if err := json.Unmarshal(a.body, &ans); err != nil {
					t.Fatalf("answer %s: %v", a.body, err)
				}
				return
			}
			if tt.msg != "" && !strings.Contains(a.errMsg(t), tt.msg) {
				t.Fatalf("error %q, want %q", a.errMsg(t), tt.msg)
			}
		})
	}
	if a := start(t, Options{}).do(t, http.MethodPost, "/v1/zones/x/purge", "admin", "application/json", strings.NewReader(`{"everything": true}`)); a.code != 503 {
		t.Fatalf("without a purger: %d", a.code)
	}
}
