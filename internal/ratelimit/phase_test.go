package ratelimit

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		want    string
		wantErr string
	}{
		{"ip", "[{ip }]", ""},
		{"header:x-api-key", "[{header X-Api-Key}]", ""},
		{"ip + path", "[{ip } {path }]", ""},
		{"", "", "empty"},
		{"cookie:a", "", "unknown part"},
		{"header:", "", "bad header name"},
		{"header:a b", "", "bad header name"},
		{"ip+ip+ip+ip+ip", "", "more than 4"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKey(%q) = %v, %v; want error with %q", tc.spec, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("ParseKey(%q) = %v, %v; want %s", tc.spec, got, err, tc.want)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"ip", "header:X-Api-Key", "ip+path", "", "+", "header:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := ParseKey(s)
		if err != nil {
			if !strings.Contains(err.Error(), "parsing rate limit key") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if len(parts) == 0 || len(parts) > 4 {
			t.Fatalf("ParseKey(%q) gave %d parts", s, len(parts))
		}
		for _, p := range parts {
			if p.Kind == "header" && (p.Header == "" || strings.ContainsAny(p.Header, " \t\r\n:")) {
				t.Fatalf("ParseKey(%q) accepted header %q", s, p.Header)
			}
		}
	})
}

// edgeWith serves one zone "site.test" through the real edge with p in
// the rate-limit slot.
func edgeWith(t *testing.T, p edge.Phase) *httptest.Server {
	t.Helper()
	z := &edge.Zone{Name: "site.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin")
	})}
	z.Phases[edge.PhaseRateLimit] = p
	s := edge.New(edge.Options{})
	s.SetRoutes(&edge.Routes{Lookup: func(string) (*edge.Zone, bool) { return z, true }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

func TestPhaseThroughEdge(t *testing.T) {
	t.Parallel()
	var blocked []string
	rules := append(RulesFromConfig(config.RateLimit{Requests: 1, Per: time.Hour, Burst: 2}),
		Rule{Name: "api", PathPrefix: "/api/", Key: []KeyPart{{Kind: "header", Header: "X-Api-Key"}}, Limits: []Limit{{Requests: 1, Per: time.Hour, Burst: 0}}})
	p, err := NewPhase("site.test", NewLocal(LocalOptions{}), rules, func(r string) { blocked = append(blocked, r) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := edgeWith(t, p)
	get := func(path, apiKey string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if apiKey != "" {
			req.Header.Set("X-Api-Key", apiKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	var codes []int
	codes = append(codes, get("/api/x", "k1").StatusCode) // zone 1/3, api k1 1/1
	codes = append(codes, get("/api/x", "k1").StatusCode) // zone 2/3 (rules count independently), api k1 refused
	codes = append(codes, get("/api/x", "k2").StatusCode) // zone 3/3, api k2 1/1
	last := get("/", "")                                  // zone refuses
	codes = append(codes, last.StatusCode)
	if fmt.Sprint(codes) != "[200 429 200 429]" {
		t.Fatalf("codes %v, want [200 429 200 429]", codes)
	}
	if ra := last.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	if last.Header.Get("Rampart-Request-Id") == "" {
		t.Fatal("no request id on a 429")
	}
	if fmt.Sprint(blocked) != "[api zone]" {
		t.Fatalf("blocks reported %v, want [api zone]", blocked)
	}
	if _, err := NewPhase("z", NewLocal(LocalOptions{}), []Rule{{Name: "a", Limits: []Limit{{Requests: 0, Per: time.Second}}}}, nil, nil); err == nil {
		t.Fatal("invalid limit accepted")
	}
	if _, err := NewPhase("z", NewLocal(LocalOptions{}), []Rule{{Name: "a", Limits: []Limit{{Requests: 1, Per: time.Second}}}, {Name: "a", Limits: []Limit{{Requests: 1, Per: time.Second}}}}, nil, nil); err == nil {
		t.Fatal("repeated rule name accepted")
	}
}
