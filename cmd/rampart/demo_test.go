package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemoCommand runs "rampart demo --for 3s" and requests the edge
// address it prints while it runs.
func TestDemoCommand(t *testing.T) {
	var mu sync.Mutex
	var out strings.Builder
	root := newRootCmd()
	root.SetOut(lockedWriter{&mu, &out})
	root.SetErr(io.Discard)
	root.SetArgs([]string{"demo", "--for", "3s"})
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()

	edgeRE := regexp.MustCompile(`edge\s+(http://127\.0\.0\.1:\d+)`)
	var edge string
	deadline := time.Now().Add(30 * time.Second)
	for edge == "" {
		mu.Lock()
		m := edgeRE.FindStringSubmatch(out.String())
		mu.Unlock()
		if m != nil {
			edge = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited before printing its address: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("demo printed no edge address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", edge+"/", nil)
	req.Host = "www.example.org"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "demo origin") || resp.Header.Get("Rampart-Request-Id") == "" {
		t.Errorf("status %d id %q body %.80q", resp.StatusCode, resp.Header.Get("Rampart-Request-Id"), body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo --for 3s did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(out.String(), "rampart demo stopped") {
		t.Errorf("no stop message:\n%s", out.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
