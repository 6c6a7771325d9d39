package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Seeded is what seed put on the compliance desk.
type Seeded struct {
	Clean, Held, Blocked string // account ids
	ReportedHost         string // zone under a public report
	CaseID               string // its case
}

// seed gives the dashboard something to show, through the admin API as a
// user would: a clean, a held and a blocked account, a zone of the clean
// account under a public report, and some traffic through the edge
// (served pages, an unknown host, a 404).
func seed(ctx context.Context, in Info, adminToken, originURL string) (Seeded, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path string, body any, out any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, in.Admin+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		if out != nil {
			return json.Unmarshal(data, out)
		}
		return nil
	}
	// Wait for the admin listener.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(in.Admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return Seeded{}, fmt.Errorf("the admin listener did not become ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var s Seeded
	type account struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	var a account
	if err := call("POST", "/v1/accounts", map[string]string{"name": "Plain Bakery Ltd", "kind": "organization", "country": "GB", "email": "ops@plainbakery.example"}, &a); err != nil {
		return s, err
	}
	s.Clean = a.ID
	// A name on the bundled lists (OFAC SDN BANK MASKAN): held in review.
	if err := call("POST", "/v1/accounts", map[string]string{"name": "Bank Maskan", "kind": "organization", "country": "AE"}, &a); err != nil {
		return s, err
	}
	s.Held = a.ID
	// An account in an embargoed country: blocked.
	if err := call("POST", "/v1/accounts", map[string]string{"name": "Northwind Imports", "kind": "organization", "country": "IR"}, &a); err != nil {
		return s, err
	}
	s.Blocked = a.ID
	s.ReportedHost = "shop.example.org"
	if err := call("POST", "/v1/zones", map[string]any{"account_id": s.Clean, "host": s.ReportedHost, "origins": []string{originURL}}, nil); err != nil {
		return s, err
	}
	// The zone reaches the edge's routing table within a second.
	edge := func(host, path string) int {
		req, _ := http.NewRequestWithContext(ctx, "GET", in.Edge+path, nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(3 * time.Second); edge(s.ReportedHost, "/") != http.StatusOK && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	var rep struct {
		CaseID string `json:"case_id"`
	}
	if err := call("POST", "/v1/reports", map[string]any{"host": s.ReportedHost, "category": "sanctions",
		"description": "The shop lists Bank Maskan (Tehran) as its payment processor.", "evidence_urls": []string{"https://evidence.example/shop-payments"}}, &rep); err != nil {
		return s, err
	}
	s.CaseID = rep.CaseID
	for i := range 40 {
		edge("www.example.org", "/")
		edge(s.ReportedHost, "/api/info")
		if i%10 == 0 {
			edge("www.example.org", "/missing?"+url.QueryEscape(fmt.Sprint(i)))
		}
	}
	return s, nil
}
