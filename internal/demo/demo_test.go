package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOrigin(t *testing.T) {
	srv := httptest.NewServer(Origin())
	defer srv.Close()
	tests := []struct {
		path, wantType, wantBody string
		status                   int
	}{
		{"/", "text/html; charset=utf-8", "Hello from the demo origin", 200},
		{"/api/info", "application/json", `"service":"rampart demo origin"`, 200},
		{"/missing", "text/plain; charset=utf-8", "404", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.wantType || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("status %d type %q body %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}

func TestRunFor(t *testing.T) {
	var out strings.Builder
	var mu sync.Mutex
	infoCh := make(chan Info, 1)
	done := make(chan error, 1)
	startTime := time.Now()
	go func() {
		done <- Run(context.Background(), Options{For: 3 * time.Second, Out: lockedWriter{&mu, &out},
			EdgeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}, func(in Info) { infoCh <- in })
	}()
	var in Info
	select {
	case in = <-infoCh:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo never became ready")
	}
	req, _ := http.NewRequest("GET", in.Edge+"/api/info", nil)
	req.Host = "example.org"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || body["host"] != "example.org" || resp.Header.Get("Rampart-Request-Id") == "" {
		t.Errorf("status %d id %q body %v err %v", resp.StatusCode, resp.Header.Get("Rampart-Request-Id"), body, err)
	}
	req, _ = http.NewRequest("GET", in.Edge+"/", nil)
	req.Host = "unknown.example"
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 421 {
		t.Errorf("unknown host: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	sreq, _ := http.NewRequest("POST", in.Admin+"/v1/screen", strings.NewReader(`{"name": "HAMAS", "kind": "organization"}`))
	sreq.Header.Set("Authorization", "Bearer "+in.Token)
	sreq.Header.Set("Content-Type", "application/json")
	if resp, err = http.DefaultClient.Do(sreq); err != nil {
		t.Fatal(err)
	}
	var screened struct {
		Matches []struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
		} `json:"matches"`
		Lists map[string]string `json:"lists"`
	}
	err = json.NewDecoder(resp.Body).Decode(&screened)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(screened.Matches) == 0 || len(screened.Lists) == 0 {
		t.Errorf("screening HAMAS: status %d, %+v, %v", resp.StatusCode, screened, err)
	} else if screened.Matches[0].ID != "ofac-sdn:4695" {
		t.Logf("best match for HAMAS: %+v", screened.Matches[0])
	}
	// The desk is seeded: a held and a blocked account, a reported zone
	// with its case, all visible to the sign-in token.
	for path, want := range map[string]string{
		"/v1/accounts/" + in.Seeded.Held:    `"status":"review"`,
		"/v1/accounts/" + in.Seeded.Blocked: `"status":"blocked"`,
		"/v1/accounts/" + in.Seeded.Clean:   `"status":"active"`,
		"/v1/cases/" + in.Seeded.CaseID:     `"host":"shop.example.org"`,
	} {
		req, _ := http.NewRequest("GET", in.Admin+path, nil)
		req.Header.Set("Authorization", "Bearer "+in.SignIn)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %.300s, want %s", path, resp.StatusCode, b, want)
		}
	}
	if resp, err := http.Get(in.Dashboard + "signin"); err != nil || resp.StatusCode != 200 {
		t.Errorf("dashboard sign-in page: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	mu.Lock()
	printed := out.String()
	mu.Unlock()
	for _, want := range []string{in.Edge, in.Admin, in.Token, in.Dashboard, in.SignIn, in.Seeded.CaseID, "Host: unknown.example", "/v1/screen"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after --for")
	}
	if el := time.Since(startTime); el < 3*time.Second {
		t.Errorf("stopped after %v, before --for", el)
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
