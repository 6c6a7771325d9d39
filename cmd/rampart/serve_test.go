package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeSignals runs "rampart serve" in process, reloads it with SIGHUP
// (a broken file first, then one adding a zone) and stops it with SIGTERM.
func TestServeSignals(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "origin host=%s", r.Host)
	}))
	defer origin.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	logPath := filepath.Join(dir, "access.log")
	head := fmt.Sprintf("listen: {http: %q, admin: %q}\ndata_dir: %s\nlog: {format: combined, path: %s}\nzones:\n", httpAddr, adminAddr, filepath.Join(dir, "data"), logPath)
	zone := func(host string) string { return fmt.Sprintf("  - host: %s\n    origins: [%s]\n", host, origin.URL) }
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(head + zone("a.test"))

	done := make(chan error, 1)
	go func() { done <- runServe(context.Background(), path) }()
	get := func(host string) int {
		req, _ := http.NewRequest("GET", "http://"+httpAddr+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(host string, status int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for get(host) != status {
			if time.Now().After(deadline) {
				t.Fatalf("%s never answered %d", host, status)
			}
			select {
			case err := <-done:
				t.Fatalf("serve exited: %v", err)
			default:
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("a.test", 200) // also proves the signal handler is installed

	write("zones: [\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if got := get("a.test"); got != 200 {
		t.Errorf("after a broken reload a.test answers %d", got)
	}

	write(head + zone("a.test") + zone("b.test"))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("b.test", 200)

	// SIGUSR1 reopens the access log after rotation.
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		get("a.test")
		if data, err := os.ReadFile(logPath); err == nil && strings.Contains(string(data), `"GET / HTTP/1.1" 200`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new access log after SIGUSR1")
		}
		time.Sleep(200 * time.Millisecond)
	}

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after SIGTERM", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if _, err := net.DialTimeout("tcp", httpAddr, time.Second); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("listener still open after stop: %v", err)
	}
}
