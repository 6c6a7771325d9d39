package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/store/storetest"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestNodeDegradedWhenStateUnreadable (issue 14): a node that cannot read
// the desired state keeps serving the last state it applied, says
// "degraded" in /healthz and its log, and recovers; its row in the node
// table (GET /v1/nodes) carries its id, build version, applied state
// version and list versions. On SQLite: one node, polling.
func TestNodeDegradedWhenStateUnreadable(t *testing.T) {
	o := newOrigin(t, "origin")
	d := startDeskWith(t, "", "", "cluster: {poll: 200ms, node_id: edge-test}\npublic_url: https://edge.example.test",
		fmt.Sprintf("  - host: config.example\n    origins: [%s]\n", o.URL))
	health := func() (int, string) {
		resp, err := http.Get("http://" + d.Addrs().Admin + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	waitHealth := func(want int) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := health()
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz = %d %s, want %d", code, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitHealth(200)

	code, body, _ := d.api(t, "GET", "/v1/nodes", token.Read, "")
	var nodes struct {
		Nodes []struct {
			ID           string            `json:"id"`
			Address      string            `json:"address"`
			Version      string            `json:"version"`
			StateVersion int64             `json:"state_version"`
			Lists        map[string]string `json:"lists"`
			Healthy      bool              `json:"healthy"`
			LastSeen     time.Time         `json:"last_seen"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(body), &nodes); code != 200 || err != nil || len(nodes.Nodes) != 1 {
		t.Fatalf("GET /v1/nodes: %d %s", code, body)
	}
	n := nodes.Nodes[0]
	if n.ID != "edge-test" || n.Address != d.Addrs().Admin || n.Version == "" || n.StateVersion < 1 || n.Lists["ofac-sdn"] == "" || !n.Healthy || n.LastSeen.IsZero() {
		t.Errorf("node row: %+v", n)
	}
	if code, _, _ := d.api(t, "GET", "/v1/nodes", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/nodes without a token: %d", code)
	}

	raw := d.store.(storetest.RawExecer)
	ctx := context.Background()
	if err := raw.RawExec(ctx, `ALTER TABLE state_version RENAME TO state_version_gone`); err != nil {
		t.Fatal(err)
	}
	body = waitHealth(http.StatusServiceUnavailable)
	if !strings.Contains(body, "degraded") || !strings.Contains(body, "desired state") {
		t.Errorf("/healthz while the state is unreadable: %s", body)
	}
	if !strings.Contains(d.logs.String(), "cluster: node degraded") {
		t.Error("no log line for the degraded node")
	}
	if resp, _ := d.edge(t, "GET", "config.example", "/", ""); resp.StatusCode != 200 {
		t.Errorf("degraded node stopped serving: %d", resp.StatusCode)
	}
	if m := metricsText(t, d.running); !strings.Contains(m, "rampart_cluster_degraded 1") {
		t.Error("rampart_cluster_degraded is not 1")
	}
	if err := raw.RawExec(ctx, `ALTER TABLE state_version_gone RENAME TO state_version`); err != nil {
		t.Fatal(err)
	}
	waitHealth(200)
	if m := metricsText(t, d.running); !strings.Contains(m, "rampart_cluster_degraded 0") || !strings.Contains(m, "rampart_cluster_state_version_applied") {
		t.Error("cluster metrics not back to healthy")
	}
}
