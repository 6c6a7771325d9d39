// Command wraphandler is the comparison point of bench/waf: Coraza's own
// net/http middleware (coraza/v3/http.WrapHandler) in front of
// httputil.ReverseProxy, the way the Caddy and Traefik Coraza plugins run
// it. It loads the same Core Rule Set configuration as a rampart zone with
// waf {mode: block} at the given paranoia level (internal/waf.Directives),
// so that the two differ only in how the WAF is run, not in the rules.
//
//	wraphandler -listen 127.0.0.1:18584 -origin http://127.0.0.1:18580 -paranoia 1
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/waf"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18584", "address to serve on")
	origin := flag.String("origin", "http://127.0.0.1:18580", "origin URL")
	paranoia := flag.Int("paranoia", 1, "CRS paranoia level")
	flag.Parse()
	u, err := url.Parse(*origin)
	if err != nil {
		log.Fatalf("parsing -origin: %v", err)
	}
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).
		WithDirectives(waf.Directives(config.WAF{Mode: "block", Paranoia: *paranoia}, "")))
	if err != nil {
		log.Fatalf("compiling the core rule set: %v", err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 512},
	}
	log.Fatal(http.ListenAndServe(*listen, txhttp.WrapHandler(w, rp)))
}
