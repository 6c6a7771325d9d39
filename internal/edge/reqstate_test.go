package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/reqctx"
)

// TestRequestStateInContext checks the request state internal/h1 creates
// with the request (newRequestContext): on both server loops, every
// request's phases see their own reqctx.Info, whose id is the one sent
// back, and requests on one keep-alive connection never share one.
func TestRequestStateInContext(t *testing.T) {
	for _, server := range []string{config.ServerRampart, config.ServerNetHTTP} {
		t.Run(server, func(t *testing.T) {
			var mu sync.Mutex
			var infos []*reqctx.Info
			var ids []string
			z := &Zone{Name: "state.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			})}
			z.Phases[PhaseAccess] = PhaseFunc(func(w http.ResponseWriter, r *http.Request) Decision {
				info := reqctx.From(r.Context())
				mu.Lock()
				infos = append(infos, info)
				if info != nil {
					ids = append(ids, info.ID)
				}
				mu.Unlock()
				return Continue
			})
			_, url := testEdge(t, Options{Server: server}, &Routes{Lookup: mapLookup(map[string]*Zone{"state.test": z})})
			c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			var sent []string
			for range 3 {
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: state.test\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent = append(sent, resp.Header.Get(RequestIDHeader))
			}
			mu.Lock()
			defer mu.Unlock()
			if len(infos) != 3 {
				t.Fatalf("%d requests reached the phase", len(infos))
			}
			for i, info := range infos {
				if info == nil || info.ID != sent[i] || info.Zone != "state.test" {
					t.Fatalf("request %d: info %+v, id sent %q", i, info, sent[i])
				}
				for j := range i {
					if infos[j] == info {
						t.Fatalf("requests %d and %d share one Info", j, i)
					}
				}
			}
		})
	}
}

// TestRequestStateUsedOnce checks that a request state found in a context
// is used by one ServeHTTP only: a request served twice with the same
// context gets a new state (and id) the second time.
func TestRequestStateUsedOnce(t *testing.T) {
	var mu sync.Mutex
	var infos []*reqctx.Info
	z := &Zone{Name: "once.test", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		infos = append(infos, reqctx.From(r.Context()))
		mu.Unlock()
	})}
	s := New(Options{})
	s.SetRoutes(&Routes{Lookup: mapLookup(map[string]*Zone{"once.test": z})})
	r := httptest.NewRequest("GET", "http://once.test/", nil)
	r = r.WithContext(newRequestContext(r.Context()))
	first := reqctx.From(r.Context())
	var got []string
	for range 2 {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		got = append(got, w.Header().Get(RequestIDHeader))
	}
	if len(infos) != 2 || infos[0] != first || infos[1] == first {
		t.Fatalf("infos %p %p, the context's %p", infos[0], infos[1], first)
	}
	if got[0] == "" || got[0] == got[1] || infos[1].ID != got[1] {
		t.Fatalf("ids %q, second info %q", got, infos[1].ID)
	}
	if v := r.Context().Value(stateKey{}); v == nil {
		t.Fatal("no state in the context")
	}
}
