package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkSpec is the health-check request of one origin, built once.
type checkSpec struct {
	client *http.Client
	url    string
	host   string // the Host header; "" for the origin's own
}

// checkTasks returns the health-check tasks of p's origins (none without
// health_check.path). An origin starts healthy; Unhealthy consecutive
// failed checks (transport error, timeout, or a status outside 200-399)
// mark it down and Healthy consecutive passing checks bring it back. The
// scheduler runs each every Interval (sched.go).
func (p *Proxy) checkTasks() []*task {
	if p.hc.Path == "" {
		return nil
	}
	client := &http.Client{
		Transport: p.getTransport(),
		Timeout:   p.hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	host := ""
	if p.preserveHost && p.zone != "" && !strings.HasPrefix(p.zone, "*") {
		host = p.zone
	}
	path, query, _ := strings.Cut(p.hc.Path, "?")
	ts := make([]*task, len(p.origins))
	for i, o := range p.origins {
		target := *o.url
		target.Path = strings.TrimSuffix(target.Path, "/") + "/" + strings.TrimPrefix(path, "/")
		target.RawPath = ""
		target.RawQuery = query
		ts[i] = &task{idx: -1, kind: taskCheck, p: p, o: o, hc: &checkSpec{client: client, url: target.String(), host: host}}
	}
	return ts
}

// runCheck performs t's check and updates its origin's health.
func (p *Proxy) runCheck(t *task) {
	o := t.o
	err := p.checkOnce(t.hc)
	o.checkedAt.Store(time.Now().UnixNano())
	if err == nil {
		o.checkErr.Store(nil)
		t.ok, t.bad = t.ok+1, 0
		if t.ok >= p.hc.Healthy && !o.healthy.Load() {
			o.healthy.Store(true)
			p.health(o, true, "active check passed")
		}
		return
	}
	msg := err.Error()
	o.checkErr.Store(&msg)
	t.ok, t.bad = 0, t.bad+1
	if t.bad >= p.hc.Unhealthy && o.healthy.Load() {
		o.healthy.Store(false)
		p.health(o, false, "active check failed")
	}
}

// checkOnce performs one health-check request; nil means it passed. It
// ends early when the proxy is closed.
func (p *Proxy) checkOnce(c *checkSpec) error {
	ctx, cancel := context.WithTimeout(p.stopCtx, p.hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return err
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("User-Agent", "rampart-health-check")
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without net/http's "Get URL:" prefix
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("status %s", resp.Status) // "status 503 Service Unavailable"
	}
	return nil
}
