// Package cluster tests rampart as a cluster (issue 14): three real
// rampart processes, built from ./cmd/rampart, on one PostgreSQL and one
// Redis (internal/testenv), driven through their admin APIs and edges on
// 127.0.0.1. It measures how long each desired-state change takes to be
// applied on every node and prints the figures; bench/cluster runs it
// with more changes.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/backend"
	"github.com/rampart-edge/rampart/internal/testenv"
	"github.com/rampart-edge/rampart/internal/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// changesEnv sets how many changes of each kind TestCluster makes
// (default 5; bench/cluster/run.sh uses 100).
const changesEnv = "RAMPART_CLUSTER_CHANGES"

const publicURL = "https://edge.example.test"

// node is one rampart process.
type node struct {
	name, dir, cfg, http, admin string
	cmd                         *exec.Cmd
	log                         *os.File
	exited                      chan struct{}
}

type cluster struct {
	t      *testing.T
	bin    string
	nodes  []*node
	admin  string // admin token
	read   string // read token
	tokens *store.TokenStore
	s      store.Store
	client *http.Client
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func buildRampart(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rampart")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/rampart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func newCluster(t *testing.T, n int, origin string) *cluster {
	t.Helper()
	pg := testenv.Postgres(t)
	rd := testenv.Redis(t)
	ctx := context.Background()
	s, err := backend.Open(ctx, t.TempDir(), pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := &store.TokenStore{S: s}
	adminTok, _, err := ts.Create(token.Admin, "cluster test")
	if err != nil {
		t.Fatal(err)
	}
	readTok, _, err := ts.Create(token.Read, "cluster test")
	if err != nil {
		t.Fatal(err)
	}
	ofac, _ := filepath.Abs("../../testdata/sanctions/ofac")
	c := &cluster{t: t, bin: buildRampart(t), admin: adminTok, read: readTok, tokens: ts, s: s,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	// A key prefix of its own in the shared Redis: database 0, but the
	// limiter's keys carry the zone host, unique to this test run.
	for i := range n {
		nd := &node{name: string(rune('a' + i)), dir: t.TempDir(), http: freePort(t), admin: freePort(t)}
		nd.cfg = filepath.Join(nd.dir, "rampart.yaml")
		yaml := fmt.Sprintf(`listen: {http: %q, admin: %q}
data_dir: %s
store: %q
public_url: %s
cluster: {redis: "redis://%s/0", node_id: node-%s, poll: 1s}
log: {format: "off", level: info}
compliance:
  lists: [%s]
  reports:
    per_ip: {requests: 10000, per: 1s, burst: 10000}
    per_network: {requests: 10000, per: 1s, burst: 10000}
    total: {requests: 10000, per: 1s, burst: 10000}
zones:
  - host: config.example
    origins: [%s]
  - host: limited.example
    origins: [%s]
    rate_limit: {requests: 5, per: 1h, burst: 5}
`, nd.http, nd.admin, filepath.Join(nd.dir, "data"), pg, publicURL, rd, nd.name, ofac, origin, origin)
		if err := os.WriteFile(nd.cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, nd)
	}
	var wg sync.WaitGroup
	for _, nd := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.start(nd) }()
	}
	wg.Wait()
	for _, nd := range c.nodes {
		c.waitHealthy(nd)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			c.stop(nd)
		}
	})
	return c
}

// start starts nd's process (its listeners are known from its config).
func (c *cluster) start(nd *node) {
	log, err := os.OpenFile(filepath.Join(nd.dir, "rampart.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Error(err)
		return
	}
	nd.log = log
	nd.cmd = exec.Command(c.bin, "serve", "--config", nd.cfg)
	nd.cmd.Stdout, nd.cmd.Stderr = log, log
	if err := nd.cmd.Start(); err != nil {
		c.t.Error(err)
		return
	}
	nd.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(nd.cmd, nd.exited)
}

func (c *cluster) stop(nd *node) {
	if nd.cmd == nil {
		return
	}
	_ = nd.cmd.Process.Signal(os.Interrupt)
	select {
	case <-nd.exited:
	case <-time.After(20 * time.Second):
		_ = nd.cmd.Process.Kill()
		<-nd.exited
	}
	nd.log.Close()
	nd.cmd = nil
}

// kill9 kills nd with SIGKILL.
func (c *cluster) kill9(nd *node) {
	_ = nd.cmd.Process.Kill()
	<-nd.exited
	nd.log.Close()
	nd.cmd = nil
}

func (c *cluster) logTail(nd *node) string {
	b, _ := os.ReadFile(filepath.Join(nd.dir, "rampart.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func (c *cluster) waitHealthy(nd *node) {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := c.client.Get("http://" + nd.admin + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %s not healthy after 90 s: %v\n%s", nd.name, err, c.logTail(nd))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api calls nd's admin API with tok.
func (c *cluster) api(nd *node, tok, method, path, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://"+nd.admin+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// answer is one edge response.
type answer struct {
	code int
	link string
	body string
}

func (c *cluster) edge(nd *node, host, path string) answer {
	req, _ := http.NewRequest("GET", "http://"+nd.http+path, nil)
	req.Host = host
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{code: 0, body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, link: resp.Header.Get("Link"), body: string(b)}
}

// waitAll polls every node but skip until ok holds for each, and returns
// how long after since the last one got there. It fails after 10 s.
func (c *cluster) waitAll(what string, since time.Time, skip *node, check func(nd *node) bool) time.Duration {
	c.t.Helper()
	var mu sync.Mutex
	var worst time.Duration
	var failed []string
	var wg sync.WaitGroup
	for _, nd := range c.nodes {
		if nd == skip {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !check(nd) {
				if time.Since(since) > 10*time.Second {
					mu.Lock()
					failed = append(failed, nd.name)
					mu.Unlock()
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
			d := time.Since(since)
			mu.Lock()
			worst = max(worst, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		c.t.Fatalf("%s: not applied on node(s) %v within 10 s", what, failed)
	}
	return worst
}

// figures collects propagation times by kind of change.
type figures map[string][]time.Duration

func (f figures) print(t *testing.T) {
	kinds := make([]string, 0, len(f))
	for k := range f {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		ds := slices.Clone(f[k])
		slices.Sort(ds)
		p := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
		t.Logf("propagation %-22s n=%3d p50=%7.1fms p99=%7.1fms max=%7.1fms", k, len(ds),
			ms(p(0.50)), ms(p(0.99)), ms(ds[len(ds)-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func changes() int {
	if n, err := strconv.Atoi(os.Getenv(changesEnv)); err == nil && n > 0 {
		return n
	}
	return 5
}

// newOrigin is an origin answering "origin NAME PATH".
func newOrigin(t *testing.T, name string) string {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "origin %s %s", name, r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o.URL
}

// TestCluster (issue 14): zone create, update and delete, suspension and
// reinstatement, and token revocation made through node A are applied on
// every node; the propagation times are printed (not asserted). Then: a
// node killed with kill -9 and restarted serves the current state from
// its first request; PostgreSQL restarted: every node applies a decision
// taken after it is back; Redis down: rate limits fall back to each
// node's own (never open) and are shared again once Redis is back.
func TestCluster(t *testing.T) {
	o1, o2 := newOrigin(t, "one"), newOrigin(t, "two")
	c := newCluster(t, 3, o1)
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	n := changes()
	figs := figures{}

	code, body := c.api(a, c.admin, "POST", "/v1/accounts", `{"name":"Quiet Meadow Bakery","kind":"organization","country":"NL"}`)
	if code != 201 {
		t.Fatalf("POST /v1/accounts: %d %s", code, body)
	}
	var acc struct{ ID string }
	_ = json.Unmarshal([]byte(body), &acc)

	served := func(host, want string) func(*node) bool {
		return func(nd *node) bool {
			r := c.edge(nd, host, "/")
			return r.code == 200 && strings.Contains(r.body, want)
		}
	}
	misdirected := func(host string) func(*node) bool {
		return func(nd *node) bool { return c.edge(nd, host, "/").code == http.StatusMisdirectedRequest }
	}

	// Zones: create, update, delete through A.
	for i := range n {
		host := fmt.Sprintf("z%d.example", i)
		t0 := time.Now()
		code, body := c.api(a, c.admin, "POST", "/v1/zones", fmt.Sprintf(`{"account_id":%q,"host":%q,"origins":[%q]}`, acc.ID, host, o1))
		if code != 201 {
			t.Fatalf("POST /v1/zones: %d %s", code, body)
		}
		var z struct{ ID string }
		_ = json.Unmarshal([]byte(body), &z)
		figs["zone create"] = append(figs["zone create"], c.waitAll("zone create", t0, a, served(host, "origin one")))

		t0 = time.Now()
		if code, body := c.api(a, c.admin, "PATCH", "/v1/zones/"+z.ID, fmt.Sprintf(`{"origins":[%q]}`, o2)); code != 200 {
			t.Fatalf("PATCH zone: %d %s", code, body)
		}
		figs["zone update"] = append(figs["zone update"], c.waitAll("zone update", t0, a, served(host, "origin two")))

		t0 = time.Now()
		if code, body := c.api(a, c.admin, "DELETE", "/v1/zones/"+z.ID, ""); code != 204 {
			t.Fatalf("DELETE zone: %d %s", code, body)
		}
		figs["zone delete"] = append(figs["zone delete"], c.waitAll("zone delete", t0, a, misdirected(host)))
	}

	// Suspension and reinstatement through A (a report opens the case).
	code, body = c.api(a, c.admin, "POST", "/v1/zones", fmt.Sprintf(`{"account_id":%q,"host":"shop.example","origins":[%q]}`, acc.ID, o1))
	if code != 201 {
		t.Fatalf("POST /v1/zones: %d %s", code, body)
	}
	c.waitAll("shop zone", time.Now(), nil, served("shop.example", "origin one"))
	compl, _, err := c.tokens.Create(token.Compliance, "cluster test")
	if err != nil {
		t.Fatal(err)
	}
	blocked := func(nd *node) bool {
		r := c.edge(nd, "shop.example", "/")
		return r.code == http.StatusUnavailableForLegalReasons && strings.HasPrefix(r.link, "<"+publicURL+"/v1/cases/")
	}
	for range n {
		code, body := c.api(b, "", "POST", "/v1/reports", `{"host":"shop.example","category":"abuse","description":"This shop sells counterfeit goods to everyone."}`)
		if code != 202 {
			t.Fatalf("POST /v1/reports: %d %s", code, body)
		}
		var rep struct {
			CaseID string `json:"case_id"`
		}
		_ = json.Unmarshal([]byte(body), &rep)
		t0 := time.Now()
		if code, body := c.api(a, compl, "POST", "/v1/cases/"+rep.CaseID+"/decision", `{"action":"suspend","reason":"counterfeit goods"}`); code != 200 {
			t.Fatalf("suspend: %d %s", code, body)
		}
		figs["suspension"] = append(figs["suspension"], c.waitAll("suspension", t0, a, blocked))
		t0 = time.Now()
		if code, body := c.api(a, compl, "POST", "/v1/cases/"+rep.CaseID+"/decision", `{"action":"reinstate","reason":"goods removed"}`); code != 200 {
			t.Fatalf("reinstate: %d %s", code, body)
		}
		figs["reinstatement"] = append(figs["reinstatement"], c.waitAll("reinstatement", t0, a, served("shop.example", "origin one")))
	}

	// Token revocation.
	for range n {
		plain, tk, err := c.tokens.Create(token.Read, "revoked soon")
		if err != nil {
			t.Fatal(err)
		}
		c.waitAll("token accepted", time.Now(), nil, func(nd *node) bool {
			code, _ := c.api(nd, plain, "GET", "/v1/zones", "")
			return code == 200
		})
		t0 := time.Now()
		if err := c.tokens.Revoke(tk.ID); err != nil {
			t.Fatal(err)
		}
		figs["token revocation"] = append(figs["token revocation"], c.waitAll("token revocation", t0, nil, func(nd *node) bool {
			code, _ := c.api(nd, plain, "GET", "/v1/zones", "")
			return code == http.StatusUnauthorized
		}))
	}

	// Every node reports the state version it applied.
	want, err := c.s.StateVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.waitAll("nodes report the current state", time.Now(), nil, func(nd *node) bool {
		_, body := c.api(a, c.read, "GET", "/v1/nodes", "")
		var r struct {
			Nodes []struct {
				ID           string            `json:"id"`
				StateVersion int64             `json:"state_version"`
				Lists        map[string]string `json:"lists"`
				Healthy      bool              `json:"healthy"`
			} `json:"nodes"`
		}
		_ = json.Unmarshal([]byte(body), &r)
		for _, x := range r.Nodes {
			if x.ID == "node-"+nd.name {
				return x.StateVersion >= want && x.Healthy && x.Lists["ofac-sdn"] != ""
			}
		}
		return false
	})
	figs.print(t)

	t.Run("lists", func(t *testing.T) {
		c.t = t
		testLists(t, c, figs)
	})

	t.Run("kill9", func(t *testing.T) {
		c.t = t
		c.kill9(cc)
		// While C is down: a new zone, and the shop suspended.
		code, body := c.api(a, c.admin, "POST", "/v1/zones", fmt.Sprintf(`{"account_id":%q,"host":"late.example","origins":[%q]}`, acc.ID, o2))
		if code != 201 {
			t.Fatalf("POST /v1/zones: %d %s", code, body)
		}
		_, body = c.api(b, "", "POST", "/v1/reports", `{"host":"shop.example","category":"abuse","description":"Counterfeit goods are back on this shop."}`)
		var rep struct {
			CaseID string `json:"case_id"`
		}
		_ = json.Unmarshal([]byte(body), &rep)
		if code, body := c.api(a, compl, "POST", "/v1/cases/"+rep.CaseID+"/decision", `{"action":"suspend","reason":"counterfeit goods again"}`); code != 200 {
			t.Fatalf("suspend: %d %s", code, body)
		}
		t0 := time.Now()
		c.start(cc)
		// The very first answers C gives are the current state.
		var first answer
		for {
			first = c.edge(cc, "late.example", "/")
			if first.code != 0 {
				break
			}
			if time.Since(t0) > 90*time.Second {
				t.Fatalf("restarted node never answered:\n%s", c.logTail(cc))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if first.code != 200 || !strings.Contains(first.body, "origin two") {
			t.Errorf("restarted node's first answer for a zone created while it was down: %d %q", first.code, first.body)
		}
		if !blocked(cc) {
			t.Error("restarted node's first answer for a zone suspended while it was down is not 451")
		}
		t.Logf("kill -9: node C restarted and serving the current state %.0f ms after its start", ms(time.Since(t0)))
	})

	t.Run("postgres restart", func(t *testing.T) {
		c.t = t
		restart := testenv.InterruptPostgres(t)
		time.Sleep(2 * time.Second) // the nodes notice: their listeners fail
		// While PostgreSQL is down the nodes keep serving the last state.
		if r := c.edge(b, "config.example", "/"); r.code != 200 {
			t.Errorf("config zone while PostgreSQL is down: %d", r.code)
		}
		restart()
		back := time.Now()
		// A decision taken as soon as A can write again: the shop is
		// reinstated. Every node must apply it within 5 s of PostgreSQL
		// being back.
		_, body := c.api(a, compl, "GET", "/v1/cases?host=shop.example&status=suspended", "")
		var cases struct {
			Cases []struct{ ID string } `json:"cases"`
		}
		_ = json.Unmarshal([]byte(body), &cases)
		if len(cases.Cases) == 0 {
			// A's pool may not have reconnected yet: retry.
			for time.Since(back) < 10*time.Second && len(cases.Cases) == 0 {
				time.Sleep(50 * time.Millisecond)
				_, body = c.api(a, compl, "GET", "/v1/cases?host=shop.example&status=suspended", "")
				_ = json.Unmarshal([]byte(body), &cases)
			}
		}
		if len(cases.Cases) == 0 {
			t.Fatalf("no suspended case found after PostgreSQL came back: %s", body)
		}
		for {
			code, body := c.api(a, compl, "POST", "/v1/cases/"+cases.Cases[0].ID+"/decision", `{"action":"reinstate","reason":"fixed"}`)
			if code == 200 {
				break
			}
			if time.Since(back) > 10*time.Second {
				t.Fatalf("reinstate after PostgreSQL restart: %d %s", code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		decided := time.Since(back)
		d := c.waitAll("decision after PostgreSQL restart", back, nil, served("shop.example", "origin one"))
		t.Logf("PostgreSQL restart: decision accepted %.0f ms after PostgreSQL was back, applied on every node %.0f ms after (target 5000 ms)", ms(decided), ms(d))
		if d > 10*time.Second {
			t.Errorf("stale decision served %.1f s after PostgreSQL was back", d.Seconds())
		}
		for _, nd := range c.nodes {
			c.waitHealthy(nd) // degraded while the listener was down; healthy again
		}
	})

	t.Run("redis down", func(t *testing.T) {
		c.t = t
		// Redis up: the limit (5 per hour per client) is shared.
		count := func(nd *node, k int) (ok, limited int) {
			for range k {
				switch c.edge(nd, "limited.example", "/").code {
				case 200:
					ok++
				case http.StatusTooManyRequests:
					limited++
				}
			}
			return
		}
		okA, _ := count(a, 5)
		okB, limB := count(b, 5)
		t.Logf("redis up: A allowed %d of 5, then B allowed %d and limited %d of 5", okA, okB, limB)
		if okA+okB > 6 {
			t.Errorf("redis up: %d requests allowed across A and B, want the shared limit of 5", okA+okB)
		}
		restart := testenv.InterruptRedis(t)
		okC, limC := count(cc, 20)
		t.Logf("redis down: C allowed %d and limited %d of 20 (local fallback)", okC, limC)
		if limC < 10 {
			t.Errorf("redis down: C limited only %d of 20 requests: the limit is open", limC)
		}
		restart()
		// Redis is back (empty): C, the node that fell back, probes it
		// and limits through it again; its requests count on B.
		back := time.Now()
		deadline := back.Add(30 * time.Second)
		for {
			okC, _ := count(cc, 6)
			_, limB := count(b, 1)
			if limB == 1 && okC > 0 { // C's own fallback is spent: what it allows comes from Redis
				t.Logf("redis back: C limiting through it again within %.0f ms (C allowed %d, then B limited)", ms(time.Since(back)), okC)
				break
			}
			if time.Now().After(deadline) {
				var lines []string
				for _, nd := range c.nodes {
					for _, l := range strings.Split(c.logTail(nd), "\n") {
						if strings.Contains(l, "rate limit") || strings.Contains(l, "redis") {
							lines = append(lines, nd.name+": "+l)
						}
					}
				}
				t.Fatalf("rate limits not shared again 30 s after Redis came back (last: C allowed %d of 6, B limited %d of 1)\n%s", okC, limB, strings.Join(lines, "\n"))
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
}

// listVersion is what GET /v1/lists says of ofac-sdn on nd.
func (c *cluster) listVersion(nd *node) string {
	_, body := c.api(nd, c.read, "GET", "/v1/lists", "")
	var r struct {
		Lists []struct{ Source, Version string }
	}
	_ = json.Unmarshal([]byte(body), &r)
	for _, l := range r.Lists {
		if l.Source == "ofac-sdn" {
			return l.Version
		}
	}
	return ""
}

// nodeLists is what GET /v1/nodes (through A) says nd screens with.
func (c *cluster) nodeLists(nd *node) string {
	_, body := c.api(c.nodes[0], c.read, "GET", "/v1/nodes", "")
	var r struct {
		Nodes []struct {
			ID    string            `json:"id"`
			Lists map[string]string `json:"lists"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal([]byte(body), &r)
	for _, x := range r.Nodes {
		if x.ID == "node-"+nd.name {
			return x.Lists["ofac-sdn"]
		}
	}
	return ""
}

// rescreens is nd's rampart_rescreen_runs_total.
func (c *cluster) rescreens(nd *node) int {
	resp, err := c.client.Get("http://" + nd.admin + "/metrics")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rampart_rescreen_runs_total "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	return 0
}

// testLists (issue 14): the real 2024-05-03 SDN update imported through
// A's API is the version every node screens with: B and C load it from
// the store (GET /v1/lists, GET /v1/nodes), an account named after an
// entity it adds goes to review when onboarded through B, only A
// re-screened; rollbacks alternating between two versions measure the
// list activation propagation; a node stopped while the version changed
// starts with the store's version, not its own copy, and does not
// re-screen.
func testLists(t *testing.T, c *cluster, figs figures) {
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	v2023 := c.listVersion(a)
	if v2023 == "" {
		t.Fatal("node A has no ofac-sdn version")
	}
	for _, nd := range c.nodes {
		if v := c.listVersion(nd); v != v2023 {
			t.Fatalf("node %s starts with ofac-sdn %.12s, A with %.12s", nd.name, v, v2023)
		}
	}
	// Before: onboarding a company the 2024 list adds is active through B.
	code, body := c.api(b, c.admin, "POST", "/v1/accounts", `{"name":"Social Design Agency","kind":"organization","country":"RU"}`)
	if code != 201 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("onboarding before the 2024 list: %d %s", code, body)
	}
	before := map[string]int{}
	for _, nd := range c.nodes {
		before[nd.name] = c.rescreens(nd)
	}
	sdn, err := os.ReadFile("../../testdata/sanctions/ofac-2024-05-03/sdn.csv")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	req, _ := http.NewRequest("POST", "http://"+a.admin+"/v1/lists/import?name=sdn.csv&force=true&reason=2024+update+without+its+companion+files", strings.NewReader(string(sdn)))
	req.Header.Set("Authorization", "Bearer "+c.admin)
	req.Header.Set("Content-Type", "text/csv")
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("import through A: %d %s", resp.StatusCode, rb)
	}
	v2024 := c.listVersion(a)
	if v2024 == v2023 || v2024 == "" {
		t.Fatalf("A still screens with %.12s after the import", v2024)
	}
	d := c.waitAll("2024 list loaded", t0, a, func(nd *node) bool { return c.listVersion(nd) == v2024 })
	t.Logf("2024 SDN update (import through A, parse on each node) loaded by B and C %.0f ms after the import call started", ms(d))
	c.waitAll("2024 list reported in /v1/nodes", time.Now(), nil, func(nd *node) bool { return c.nodeLists(nd) == v2024 })

	code, body = c.api(b, c.admin, "POST", "/v1/accounts", `{"name":"Social Design Agency","kind":"organization","country":"RU"}`)
	if code != 201 || !strings.Contains(body, `"status":"review"`) {
		t.Fatalf("onboarding a company the 2024 list adds, through B: %d %s; want review", code, body)
	}
	// Only A re-screened (its list subscriber); B and C loaded.
	time.Sleep(500 * time.Millisecond)
	for _, nd := range c.nodes {
		n := c.rescreens(nd) - before[nd.name]
		want := 0
		if nd == a {
			want = 1
		}
		if n != want {
			t.Errorf("node %s re-screened %d times after the import through A, want %d", nd.name, n, want)
		}
	}

	// Propagation: rollbacks through A alternating between the versions.
	target := v2023
	for i := range max(10, min(changes(), 20)) {
		t0 := time.Now()
		code, body := c.api(a, c.admin, "POST", "/v1/lists/rollback", fmt.Sprintf(`{"version":%q,"reason":"propagation run %d"}`, target, i))
		if code != 200 {
			t.Fatalf("rollback to %.12s: %d %s", target, code, body)
		}
		answered := time.Now()
		want := target
		check := func(nd *node) bool { return c.listVersion(nd) == want }
		figs["list activation"] = append(figs["list activation"], c.waitAll("list activation", answered, a, check))
		figs["list activation (call)"] = append(figs["list activation (call)"], c.waitAll("list activation", t0, a, check))
		figs["list rollback on A"] = append(figs["list rollback on A"], answered.Sub(t0))
		if target == v2023 {
			target = v2024
		} else {
			target = v2023
		}
	}
	figures{"list activation": figs["list activation"], "list activation (call)": figs["list activation (call)"],
		"list rollback on A": figs["list rollback on A"]}.print(t)

	// A node stopped while the version changes starts with the store's
	// version (not its own copy) and does not re-screen.
	c.stop(cc)
	cur := c.listVersion(a)
	next := v2023
	if cur == v2023 {
		next = v2024
	}
	if code, body := c.api(a, c.admin, "POST", "/v1/lists/rollback", fmt.Sprintf(`{"version":%q,"reason":"while C is down"}`, next)); code != 200 {
		t.Fatalf("rollback: %d %s", code, body)
	}
	c.start(cc)
	c.waitHealthy(cc)
	if v := c.listVersion(cc); v != next {
		t.Errorf("restarted node C screens with %.12s, the store's version is %.12s", v, next)
	}
	if n := c.rescreens(cc); n != 0 {
		t.Errorf("restarted node C re-screened %d times at start, want 0", n)
	}
}
