// Package demo runs "rampart demo": a small sample origin and a complete
// rampart edge in front of it, on loopback only, with a throw-away data
// directory, and prints what to try.
package demo

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"time"
)

// Origin returns the sample origin: an HTML page at / and a JSON endpoint
// at /api/info that echoes what the origin saw of the request (host,
// path, the forwarding headers the edge added). Any other path is 404.
func Origin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprintf(w, page, html.EscapeString(r.Host), html.EscapeString(r.Header.Get("X-Forwarded-For")),
			time.Now().UTC().Format(time.RFC3339))
	})
	mux.HandleFunc("GET /api/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"service":           "rampart demo origin",
			"host":              r.Host,
			"path":              r.URL.Path,
			"method":            r.Method,
			"x_forwarded_for":   r.Header.Get("X-Forwarded-For"),
			"x_forwarded_proto": r.Header.Get("X-Forwarded-Proto"),
			"x_forwarded_host":  r.Header.Get("X-Forwarded-Host"),
			"forwarded":         r.Header.Get("Forwarded"),
			"time":              time.Now().UTC().Format(time.RFC3339Nano),
		})
	})
	return mux
}

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>rampart demo origin</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}code{background:#eee;padding:0 .2em}</style>
</head>
<body>
<h1>Hello from the demo origin</h1>
<p>This page was served by the sample origin behind rampart's edge.</p>
<ul>
<li>Host the origin saw: <code>%s</code></li>
<li>X-Forwarded-For the edge sent: <code>%s</code></li>
<li>Rendered at: <code>%s</code></li>
</ul>
<p>Look at the response headers: <code>Rampart-Request-Id</code> names this request in
rampart's access log; <code>Rampart-Cache</code> tells whether the edge cache answered.</p>
<p>JSON endpoint: <a href="/api/info">/api/info</a></p>
</body>
</html>
`
