package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ofac2024Set is the real 2024-05-03 sdn.csv with the 2023 companion
// files (the 2024 snapshot has sdn.csv only), in a folder; lines > 0
// keeps only the first lines of sdn.csv.
func ofac2024Set(t *testing.T, lines int) string {
	t.Helper()
	d := t.TempDir()
	for _, f := range []string{"add.csv", "alt.csv", "sdn_comments.csv"} {
		b, err := os.ReadFile(filepath.Join(sanctionsDir, "ofac", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(sanctionsDir, "ofac-2024-05-03", "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines > 0 {
		b = bytes.Join(bytes.SplitAfter(b, []byte("\n"))[:lines], nil)
	}
	if err := os.WriteFile(filepath.Join(d, "sdn.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestListsImportAgainstRunningServer: `rampart lists import` on a data
// directory a running server holds is refused without a token (nothing
// changes: never two active versions), and with one is handed to the
// server, which verifies, activates, audits and re-screens it.
func TestListsImportAgainstRunningServer(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var tokOut, tokErr bytes.Buffer
	if err := runTokenCreate(&tokOut, &tokErr, data, "", "admin", "lists test"); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(tokOut.String())
	ofac, err := filepath.Abs(filepath.Join(sanctionsDir, "ofac"))
	if err != nil {
		t.Fatal(err)
	}
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen: {http: %q, admin: %q}\ndata_dir: %s\nlog: {format: off}\ncompliance:\n  lists: [%s]\n",
		httpAddr, adminAddr, data, ofac)), 0o600); err != nil {
		t.Fatal(err)
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
	api := func(method, path string, body any) (int, []byte) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "http://"+adminAddr+path, r)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := api("GET", "/v1/lists", nil); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the admin API never came up")
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	code, body := api("POST", "/v1/accounts", map[string]string{"name": "Social Design Agency", "kind": "organization"})
	var acc struct{ ID, Status string }
	if code != 201 && code != 200 || json.Unmarshal(body, &acc) != nil || acc.Status != "active" {
		t.Fatalf("account: %d %s", code, body)
	}
	version := func() string {
		_, b := api("GET", "/v1/lists", nil)
		var st struct {
			Lists []struct{ Source, Version string }
		}
		_ = json.Unmarshal(b, &st)
		for _, l := range st.Lists {
			if l.Source == "ofac-sdn" {
				return l.Version
			}
		}
		return ""
	}
	before := version()
	set := ofac2024Set(t, 0)

	// Without a token: refused, saying how.
	t.Setenv("RAMPART_TOKEN", "")
	out, err := runRampart(t, "lists", "import", "--data-dir", data, set)
	if err == nil || !strings.Contains(err.Error(), "runs on this data directory") || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("import without a token: %v\n%s", err, out)
	}
	if version() != before {
		t.Fatal("a refused hand-off changed the active version")
	}
	// A 100-line sdn.csv handed over is refused by the server.
	out, err = runRampart(t, "lists", "import", "--data-dir", data, "--token", tok, ofac2024Set(t, 100))
	if err == nil || !strings.Contains(err.Error(), "implausible") {
		t.Fatalf("100-line import: %v\n%s", err, out)
	}
	// With the token: handed over, activated, summarised.
	out, err = runRampart(t, "lists", "import", "--data-dir", data, "--token", tok, set)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"14965 entities", "+1256 -112", "ofac-sdn added: ", "and 1246 more", "full diff: GET /v1/lists/ofac-sdn/"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	after := version()
	if after == before || after == "" {
		t.Fatal("the server's active version did not change")
	}
	// Re-screened by the server: the account named after an added entity.
	_, body = api("GET", "/v1/accounts/"+acc.ID, nil)
	if !strings.Contains(string(body), `"status":"review"`) {
		t.Errorf("account after the import: %s", body)
	}
	_, body = api("GET", "/v1/audit?action=list.import", nil)
	if !strings.Contains(string(body), `"origin":"api"`) || !strings.Contains(string(body), `"added":1256`) {
		t.Errorf("audit: %.2000s", body)
	}
	_, body = api("GET", "/v1/audit?action=list.refused", nil)
	if !strings.Contains(string(body), `implausible`) {
		t.Errorf("refusal audit: %.1000s", body)
	}
	// Rollback through the server.
	out, err = runRampart(t, "lists", "rollback", "--data-dir", data, "--token", tok, "--reason", "test", before[:10])
	if err != nil || version() != before {
		t.Fatalf("rollback: %v\n%s", err, out)
	}

	// The OFAC consolidated (non-SDN) set, its empty cons_comments.csv
	// included, handed over: a second OFAC list next to the SDN one.
	out, err = runRampart(t, "lists", "import", "--data-dir", data, "--token", tok, filepath.Join(sanctionsDir, "ofac-consolidated"))
	if err != nil || !strings.Contains(out, "ofac-cons") || !strings.Contains(out, "639 entities") {
		t.Fatalf("consolidated import: %v\n%s", err, out)
	}
	_, body = api("GET", "/v1/lists", nil)
	var ls struct {
		Lists []struct {
			Source, List string
			Entities     int
		}
	}
	if err := json.Unmarshal(body, &ls); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, l := range ls.Lists {
		got[l.Source] = l.Entities
	}
	if got["ofac-cons"] != 639 || got["ofac-sdn"] != 13821 {
		t.Errorf("GET /v1/lists: %s", body)
	}
	code, body = api("POST", "/v1/screen", map[string]string{"name": "Bank of Kunlun", "kind": "organization"})
	if code != 200 || !strings.Contains(string(body), `"id":"ofac-cons:15268"`) || !strings.Contains(string(body), `"list":"OFAC Consolidated (non-SDN)"`) {
		t.Errorf("POST /v1/screen: %d %.1500s", code, body)
	}
	// A truncated cons_prim.csv is refused by the server; the 2018 set stays.
	cut := t.TempDir()
	for _, f := range []string{"cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"} {
		b, err := os.ReadFile(filepath.Join(sanctionsDir, "ofac-consolidated", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "cons_prim.csv" {
			b = bytes.Join(bytes.SplitAfter(b, []byte("\n"))[:100], nil)
		}
		if err := os.WriteFile(filepath.Join(cut, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err = runRampart(t, "lists", "import", "--data-dir", data, "--token", tok, cut)
	if err == nil || !strings.Contains(err.Error(), "implausible") || !strings.Contains(err.Error(), "100 entities, fewer than the 200") {
		t.Fatalf("truncated consolidated import: %v\n%s", err, out)
	}
}
