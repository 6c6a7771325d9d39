// Package waf runs the OWASP Core Rule Set (CRS v4, embedded by
// coraza-coreruleset) on Coraza v3 as the edge's WAF phase.
//
// A zone's waf settings (config.WAF) compile to one coraza.WAF, shared by
// every request of every zone with the same compiled settings: a Set caches
// them by their canonical SecLang text (Directives), so no rule is parsed
// per request and a reload compiles only the settings it has not seen.
// Mode (detect or block) and skip do not change the compiled rules, so a
// detect zone and a block zone with otherwise equal settings share one
// compiled WAF (about 26 MiB and 0.3-0.5 s of compile time each).
//
// Inspection covers the connection, URI, request headers and up to
// body_limit bytes of request body (default 128 KiB); the rest of a larger
// body streams to the origin uninspected, so an attack placed after the
// limit is not seen. Responses are not inspected unless the zone sets
// waf.response (response.go).
//
// waf.apps adds the CRS's own application exclusion packages (WordPress,
// Drupal, Nextcloud, DokuWiki, cPanel, XenForo; apps.go, apps/): zones
// with different apps compile different WAFs.
//
// The @rx operator is rampart's (rx.go): the same matches as Coraza's, a
// literal prefilter that proves most non-matches without a regular
// expression (prefilter.go), then RE2 instead of Go's regexp, which cuts
// the CRS's cost per request (bench/waf/README.md has the profile and the
// figures).
package waf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rampart-edge/rampart/internal/config"
)

// exclusionIDBase is the first rule id of the rules rampart generates for
// path-scoped exclusions; ids 1-99,999 are the range ModSecurity reserves
// for local use, clear of the CRS's 9xx,xxx.
const exclusionIDBase = 10_000

// Directives returns the SecLang that configures the Core Rule Set for cfg
// (paranoia level, anomaly threshold, body limits, exclusions), in the
// order it must be loaded: engine settings, rampart's setup rules, the CRS
// setup, the CRS rules (with the exclusion packages of cfg.Apps after the
// CRS initialization, apps.go), then the exclusions that must follow the
// rules.
// Fields that do not change the compiled rules (mode, skip) are left out,
// so equal Directives mean one shared compiled WAF. Zero values of
// paranoia, anomaly threshold and body limit take the config defaults.
// extra is inserted after rampart's settings and before the CRS setup (the
// CRS regression runner uses it for its logging marker rule).
func Directives(cfg config.WAF, extra string) string {
	pl := cfg.Paranoia
	if pl == 0 {
		pl = 1
	}
	threshold := cfg.AnomalyThreshold
	if threshold == 0 {
		threshold = config.DefaultWAFAnomalyThreshold
	}
	limit := cfg.BodyLimit
	if limit == 0 {
		limit = config.DefaultWAFBodyLimit
	}
	var b strings.Builder
	b.WriteString("Include @coraza.conf-recommended\n")
	// The recommended file leaves the engine in DetectionOnly; rampart
	// decides detect or block itself from the interruption, so one
	// compiled WAF serves both modes.
	b.WriteString("SecRuleEngine On\n")
	if cfg.Response {
		// The recommended file's response settings (body access on,
		// text/plain, text/html and text/xml, 512 KiB), inspected up to
		// the limit and streamed beyond it.
		fmt.Fprintf(&b, "SecResponseBodyAccess On\nSecResponseBodyLimit %d\nSecResponseBodyLimitAction ProcessPartial\n", ResponseBodyLimit)
	} else {
		b.WriteString("SecResponseBodyAccess Off\n")
	}
	b.WriteString("SecAuditEngine Off\n")
	// Inspect up to the limit and let the rest pass uninspected
	// (ProcessPartial): rampart streams it to the origin.
	fmt.Fprintf(&b, "SecRequestBodyLimit %d\nSecRequestBodyInMemoryLimit %d\nSecRequestBodyLimitAction ProcessPartial\n", limit, limit)
	// The argument limit (waf.limits.args): Phase refuses a request past
	// it before Coraza parses it (block mode) or cuts its body there
	// (detect mode); Coraza's own limit, per source, is the backstop.
	fmt.Fprintf(&b, "SecArgumentsLimit %d\n", resolveLimits(cfg.Limits).args)
	fmt.Fprintf(&b, "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d\"\n", pl)
	fmt.Fprintf(&b, "SecAction \"id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=4\"\n", threshold)
	// The edge accepts PUT, PATCH and DELETE (REST APIs); the CRS default
	// (GET HEAD POST OPTIONS) would score every such request as a
	// method violation (911100).
	b.WriteString("SecAction \"id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'\"\n")
	// Path-scoped exclusions act at run time (ctl) and must run before
	// the rules they remove: phase 1, ahead of the CRS files.
	for i, e := range cfg.Exclusions {
		if e.Path == "" {
			continue
		}
		ids := e.IDs()
		var ctl []string
		switch {
		case len(e.Args) == 0:
			for _, id := range ids {
				ctl = append(ctl, "ctl:ruleRemoveById="+strconv.Itoa(id))
			}
		case len(ids) == 0:
			for _, a := range e.Args {
				ctl = append(ctl, "ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:"+a)
			}
		default:
			for _, id := range ids {
				for _, a := range e.Args {
					ctl = append(ctl, "ctl:ruleRemoveTargetById="+strconv.Itoa(id)+";ARGS:"+a)
				}
			}
		}
		fmt.Fprintf(&b, "SecRule REQUEST_FILENAME \"@beginsWith %s\" \"id:%d,phase:1,pass,t:none,nolog,%s\"\n",
			e.Path, exclusionIDBase+i, strings.Join(ctl, ","))
	}
	if extra != "" {
		b.WriteString(extra)
		b.WriteByte('\n')
	}
	b.WriteString("Include @crs-setup.conf.example\n")
	writeCRSIncludes(&b, cfg.Apps)
	// Exclusions for every path change the compiled rules themselves.
	for _, e := range cfg.Exclusions {
		if e.Path != "" {
			continue
		}
		ids := e.IDs()
		switch {
		case len(e.Args) == 0:
			for _, id := range ids {
				fmt.Fprintf(&b, "SecRuleRemoveById %d\n", id)
			}
		case len(ids) == 0:
			for _, a := range e.Args {
				fmt.Fprintf(&b, "SecRuleUpdateTargetByTag \"OWASP_CRS\" \"!ARGS:%s\"\n", a)
			}
		default:
			for _, id := range ids {
				for _, a := range e.Args {
					fmt.Fprintf(&b, "SecRuleUpdateTargetById %d \"!ARGS:%s\"\n", id, a)
				}
			}
		}
	}
	return b.String()
}
