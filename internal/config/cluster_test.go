package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClusterConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.yaml")
	cfg, err := Parse(path, []byte("public_url: https://edge.example.org/\ncluster: {node_id: edge-1, poll: 500ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "https://edge.example.org" || cfg.LinkBase() != "https://edge.example.org" {
		t.Errorf("public_url = %q, link base %q", cfg.PublicURL, cfg.LinkBase())
	}
	if cfg.Cluster.NodeID != "edge-1" || cfg.Cluster.Poll != 500*time.Millisecond {
		t.Errorf("cluster = %+v", cfg.Cluster)
	}
	def, err := Parse(path, []byte("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if def.Cluster.Poll != DefaultClusterPoll || def.LinkBase() != "" {
		t.Errorf("defaults: poll %s, link base %q", def.Cluster.Poll, def.LinkBase())
	}
	for _, tc := range []struct{ yaml, want string }{
		{"\npublic_url: ftp://edge.example.org\n", "rampart.yaml:2: public_url: \"ftp://edge.example.org\" is not an http(s) URL"},
		{"public_url: https://edge.example.org/?x=1\n", "rampart.yaml:1: public_url: \"https://edge.example.org/?x=1\" must be a base URL"},
		{"cluster:\n  poll: 10ms\n", "rampart.yaml:2: cluster.poll: must be between 100ms and 1h, got 10ms"},
		{"cluster: {node_id: \"a b\"}\n", "rampart.yaml:1: cluster.node_id: must be at most 64 printable"},
		{"public_urll: https://x.example\n", "public_urll"},
	} {
		_, err := Parse(path, []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
