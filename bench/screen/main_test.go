package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestRunAgainstFakeServer runs the driver against a real listener on
// 127.0.0.1 that answers every query with the expected id of a tiny set.
func TestRunAgainstFakeServer(t *testing.T) {
	dir := t.TempDir()
	dev := dir + "/dev.jsonl"
	os.WriteFile(dev, []byte(`{"query":"Vladimir Putin","type":"individual","expect":["35096"],"kind":"exact"}
{"query":"Giulia Lopez","type":"any","expect":[],"kind":"negative-common-name","sub":"common"}
`), 0o644)
	var kinds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/screen" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		var req screenReq
		json.NewDecoder(r.Body).Decode(&req)
		kinds = append(kinds, req.Kind)
		if strings.Contains(req.Name, "Putin") {
			w.Write([]byte(`{"matches":[{"id":"ofac-sdn:35096","score":1}],"lists":{}}`))
			return
		}
		w.Write([]byte(`{"matches":[],"lists":{}}`))
	}))
	defer srv.Close()
	var out strings.Builder
	if err := run([]string{"-addr", srv.URL, "-token", "tok", "-c", "1", "-dev", dev, "-rounds", "1", "-pid", itoa(os.Getpid())}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"recall@1 1.000", "FPR@t 0.000", "queries/s", "p99", "server CPU"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if len(kinds) == 0 || kinds[len(kinds)-2] != "person" || kinds[len(kinds)-1] != "" {
		t.Errorf("kinds sent: %v", kinds)
	}
	if err := run([]string{"-addr", "http://10.1.2.3:9090", "-dev", dev}, &out); err == nil {
		t.Error("non-loopback address accepted")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
