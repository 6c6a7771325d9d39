package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"x"}`))
	}))
	defer srv.Close()
	run := func(args ...string) (string, error) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"healthcheck"}, args...))
		err := root.Execute()
		return out.String(), err
	}
	if out, err := run("--url", srv.URL+"/healthz"); err != nil || !strings.HasPrefix(out, "200 OK") {
		t.Errorf("healthy: %q, %v; want 200 OK and exit 0", out, err)
	}
	status = http.StatusServiceUnavailable
	if _, err := run("--url", srv.URL+"/healthz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unhealthy: %v, want an error naming 503", err)
	}
	srv.Close()
	if _, err := run("--url", srv.URL+"/healthz", "--timeout", "1s"); err == nil {
		t.Error("nothing listening: exit 0, want an error")
	}
}
