package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"
)

// checkLoop runs the active health check of o every Interval until Close.
// An origin starts healthy; Unhealthy consecutive failed checks (transport
// error, timeout, or a status outside 200-399) mark it down and Healthy
// consecutive passing checks bring it back.
func (p *Proxy) checkLoop(o *origin) {
	defer p.wg.Done()
	client := &http.Client{
		Transport: p.transport,
		Timeout:   p.hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	target := *o.url
	path, query, _ := strings.Cut(p.hc.Path, "?")
	target.Path = strings.TrimSuffix(target.Path, "/") + "/" + strings.TrimPrefix(path, "/")
	target.RawPath = ""
	target.RawQuery = query
	url := target.String()
	host := ""
	if p.preserveHost && p.zone != "" && !strings.HasPrefix(p.zone, "*") {
		host = p.zone
	}
	tk := time.NewTicker(p.hc.Interval)
	defer tk.Stop()
	ok, bad := 0, 0
	for {
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
		pass, why := p.checkOnce(client, url, host)
		o.lastCheck.Store(&checkResult{at: time.Now(), err: why})
		if pass {
			ok, bad = ok+1, 0
			if ok >= p.hc.Healthy && !o.healthy.Load() {
				o.healthy.Store(true)
				p.health(o, true, "active check passed")
			}
		} else {
			ok, bad = 0, bad+1
			if bad >= p.hc.Unhealthy && o.healthy.Load() {
				o.healthy.Store(false)
				p.health(o, false, "active check failed")
			}
		}
	}
}

// checkOnce performs one health-check request: whether it passed, and
// why not.
func (p *Proxy) checkOnce(client *http.Client, url, host string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), p.hc.Timeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("User-Agent", "rampart-health-check")
	resp, err := client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the origin's, shown beside it
		}
		return false, err.Error()
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return false, "status " + resp.Status
	}
	return true, ""
}
