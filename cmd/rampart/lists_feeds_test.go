package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// listServer serves an OFAC CSV set on 127.0.0.1 under the official
// upper-case names, with ETag and Last-Modified, answering 304 to a
// matching If-None-Match.
type listServer struct {
	*httptest.Server
	mu       sync.Mutex
	dir      string // folder of the lower-case files
	modified time.Time
}

func (l *listServer) set(dir string, modified time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dir, l.modified = dir, modified
}

func (l *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	dir, modified := l.dir, l.modified
	l.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(dir, strings.ToLower(path.Base(r.URL.Path))))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%s-%d"`, filepath.Base(dir), len(b))
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}

// TestListsFetchAndServeFeeds: `rampart lists fetch` checks a feed once
// from the command line; `rampart serve` then runs it every second: the
// admin API shows the feed and the publication date, /metrics the fetch,
// refusal and publication metrics, a bad publication is refused and
// audited while the good version serves, and the real update is activated.
func TestListsFetchAndServeFeeds(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ofac, err := filepath.Abs(filepath.Join(sanctionsDir, "ofac"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &listServer{dir: ofac, modified: time.Date(2023, 12, 28, 17, 0, 0, 0, time.UTC)}
	srv.Server = httptest.NewServer(srv)
	defer srv.Close()
	var tokOut, tokErr strings.Builder
	if err := runTokenCreate(&tokOut, &tokErr, data, "", "admin", "feeds test"); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(tokOut.String())
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen: {http: %q, admin: %q}\ndata_dir: %s\nlog: {format: off}\ncompliance:\n  lists: [%s]\n"+
		"  feeds: [{source: ofac-sdn, url: %q, interval: 1s, retries: -1}]\n",
		httpAddr, adminAddr, data, ofac, srv.URL+"/exports/")), 0o600); err != nil {
		t.Fatal(err)
	}

	// Once from the command line: the served set is the configured one.
	out, err := runRampart(t, "lists", "fetch", "--config", cfg)
	if err != nil || !strings.Contains(out, "ofac-sdn\tunchanged") {
		t.Fatalf("lists fetch: %v\n%s", err, out)
	}
	out, err = runRampart(t, "lists", "fetch", "--config", cfg, "ofac-sdn")
	if err != nil || !strings.Contains(out, "ofac-sdn\tnot_modified\t0 bytes") {
		t.Fatalf("lists fetch again: %v\n%s", err, out)
	}
	if _, err := runRampart(t, "lists", "fetch", "--config", cfg, "nope"); err == nil {
		t.Error("an unknown feed was accepted")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	get := func(p string) string {
		req, _ := http.NewRequest("GET", "http://"+adminAddr+p, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s", what)
			}
			select {
			case err := <-done:
				t.Fatalf("serve exited: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	wait("a 304 check", func() bool { return strings.Contains(get("/v1/lists"), `"last_outcome":"not_modified"`) })
	// While the server runs, lists fetch is refused, saying why.
	if _, err := runRampart(t, "lists", "fetch", "--config", cfg); err == nil || !strings.Contains(err.Error(), "fetches its feeds itself") {
		t.Errorf("lists fetch beside a running server: %v", err)
	}

	// A 100-line sdn.csv appears: refused, audited, counted; 2023 serves.
	bad := t.TempDir()
	for _, f := range []string{"add.csv", "alt.csv", "sdn_comments.csv"} {
		b, _ := os.ReadFile(filepath.Join(ofac, f))
		_ = os.WriteFile(filepath.Join(bad, f), b, 0o644)
	}
	b, _ := os.ReadFile(filepath.Join(ofac, "sdn.csv"))
	_ = os.WriteFile(filepath.Join(bad, "sdn.csv"), []byte(strings.Join(strings.SplitAfter(string(b), "\n")[:100], "")), 0o644)
	srv.set(bad, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	// The metric and the audit entry are two writes: wait for both (the
	// metric may be counted before the entry is stored).
	wait("the refusal metric and audit entry", func() bool {
		a := get("/v1/audit")
		return strings.Contains(get("/metrics"), `rampart_list_refused_total{reason="implausible",source="ofac-sdn"}`) &&
			strings.Contains(a, `"list.refused"`) && strings.Contains(a, "100 entities, fewer than the 5000")
	})
	var st struct {
		Lists []struct {
			Source    string
			Entities  int
			Published *time.Time
		}
		Feeds []struct {
			Feed        string
			LastOutcome string `json:"last_outcome"`
		}
	}
	if err := json.Unmarshal([]byte(get("/v1/lists")), &st); err != nil || st.Lists[0].Entities != 13821 {
		t.Fatalf("lists after the refusal: %+v %v", st, err)
	}

	// The real update appears.
	may := time.Date(2024, 5, 3, 14, 30, 0, 0, time.UTC)
	srv.set(ofac2024Set(t, 0), may)
	wait("the 2024 version", func() bool {
		_ = json.Unmarshal([]byte(get("/v1/lists")), &st)
		return len(st.Lists) > 0 && st.Lists[0].Entities == 14965
	})
	if st.Lists[0].Published == nil || !st.Lists[0].Published.Equal(may) {
		t.Errorf("published %v, want %v", st.Lists[0].Published, may)
	}
	wait("the updated outcome counted", func() bool {
		return metricValue(get("/metrics"), `rampart_list_fetch_results_total{feed="ofac-sdn",outcome="updated"}`) == 1
	})
	m := get("/metrics")
	for name, want := range map[string]float64{
		`rampart_list_published_timestamp_seconds{source="ofac-sdn"}`: float64(may.Unix()),
		`rampart_list_feed_stale{feed="ofac-sdn"}`:                    1, // published 2024: older than max_age
	} {
		if got := metricValue(m, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{`rampart_list_fetch_attempts_total{feed="ofac-sdn"}`, `rampart_list_fetch_bytes_total{feed="ofac-sdn"}`,
		`rampart_list_fetch_last_success_timestamp_seconds{feed="ofac-sdn"}`} {
		if metricValue(m, name) <= 0 {
			t.Errorf("%s not above 0", name)
		}
	}
	// lists status beside the running server: the server's versions, the
	// publication date and the stale warning.
	out, err = runRampart(t, "lists", "status", "--config", cfg)
	if err != nil || !strings.Contains(out, "2024-05-03T14:30:00Z") || !strings.Contains(out, "warning: feed ofac-sdn is stale") {
		t.Errorf("lists status: %v\n%s", err, out)
	}
}

// metricValue reads one sample of the Prometheus text format (-1 if absent).
func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
