package waf

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"

	"github.com/rampart-edge/rampart/internal/config"
)

// The CRS application exclusion packages (waf.apps): REQUEST-903.9001 to
// 903.9006 of CRS v3.3.4, unchanged (apps/PROVENANCE.md). Each file is
// gated by its own TX:crs_exclusions_<app> variable, which rampart sets
// for the apps a zone selects; its rules then remove, with ctl actions,
// the CRS rules or arguments that the application's own requests trip.
//
//go:embed apps/*.conf
var appFiles embed.FS

// appDir is the directory the app files are included from: a name no
// coraza-coreruleset directory uses, served by rulesFS from appFiles.
const appDir = "apps"

// appIDBase + the app's position in config.WAFApps (1-6) is the id of the
// SecAction that turns an app's exclusions on: 9001 (drupal) to 9006
// (xenforo), echoing the files' 903.9001 to 903.9006, in the local range
// and clear of the path exclusions' 10,000 and up.
const appIDBase = 9_000

// appPhase1 lists, per app, the phase-2 rules of its file that rampart
// moves to phase 1 (SecRuleUpdateActionById ID "phase:1" after the
// Include). CRS v4 moved the rules they act on to phase 1 (911100 allowed
// methods, 920420 allowed content types, 920340, 920440, ...), so in
// phase 2 they would come too late: a Nextcloud WebDAV PROPFIND or a
// text/calendar PUT would be blocked with the app on. Their conditions
// read only phase-1 variables (REQUEST_FILENAME, REQUEST_METHOD,
// REQUEST_COOKIES, query arguments), and a ctl or setvar made in phase 1
// holds for the rest of the transaction, so the move keeps what CRS v3
// did. TestAppPhase1 checks each id is a phase-2 rule of the app's file.
var appPhase1 = map[string][]int{
	"nextcloud": {9003100, 9003105, 9003110, 9003115, 9003116, 9003120, 9003121, 9003125, 9003130, 9003140, 9003310, 9003320, 9003330},
	"dokuwiki":  {9004110},
}

// appFile returns the path, in rulesFS, of app's exclusion file, or ""
// for a name rampart does not embed.
func appFile(app string) string {
	if !slices.Contains(config.WAFApps, app) {
		return ""
	}
	m, _ := fs.Glob(appFiles, appDir+"/REQUEST-903.900?-"+strings.ToUpper(app)+"-EXCLUSION-RULES.conf")
	if len(m) != 1 {
		return ""
	}
	return m[0]
}

// crsFiles are the CRS rule files in load order, so that the app files
// can be included between REQUEST-901-INITIALIZATION and the detection
// rules, where CRS v3 loaded them (a glob cannot be split).
var crsFiles = func() []string {
	m, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil || len(m) == 0 {
		panic(fmt.Sprintf("waf: no CRS rule files in coraza-coreruleset: %v", err))
	}
	return m // fs.Glob sorts: the CRS's own load order
}()

// selectedApps returns the known apps of apps, each once, in
// config.WAFApps order, so that equal selections in any order compile to
// one WAF.
func selectedApps(apps []string) []string {
	var out []string
	for _, a := range config.WAFApps {
		if slices.Contains(apps, a) {
			out = append(out, a)
		}
	}
	return out
}

// writeCRSIncludes writes the Includes of the CRS rules, with the
// exclusion files of apps (and the SecActions that enable them, and the
// phase moves of appPhase1) after
// REQUEST-901-INITIALIZATION and before the first detection rule. With no
// app it is the single glob Include.
func writeCRSIncludes(b *strings.Builder, apps []string) {
	apps = selectedApps(apps)
	if len(apps) == 0 {
		b.WriteString("Include @owasp_crs/*.conf\n")
		return
	}
	for _, f := range crsFiles {
		fmt.Fprintf(b, "Include %s\n", f)
		if !strings.HasSuffix(f, "/REQUEST-901-INITIALIZATION.conf") {
			continue
		}
		for _, a := range apps {
			fmt.Fprintf(b, "SecAction \"id:%d,phase:1,pass,t:none,nolog,setvar:tx.crs_exclusions_%s=1\"\n",
				appIDBase+slices.Index(config.WAFApps, a)+1, a)
		}
		for _, a := range apps {
			fmt.Fprintf(b, "Include %s\n", appFile(a))
			for _, id := range appPhase1[a] {
				fmt.Fprintf(b, "SecRuleUpdateActionById %d \"phase:1\"\n", id)
			}
		}
	}
}

// rulesFS is the root the WAFs' Includes read from: the app files under
// appDir, the coraza-coreruleset files (@coraza.conf-recommended,
// @crs-setup.conf.example, @owasp_crs/) for every other path.
type rulesFS struct{}

func (rulesFS) Open(name string) (fs.File, error) {
	if name == appDir || strings.HasPrefix(name, appDir+"/") {
		return appFiles.Open(name)
	}
	return coreruleset.FS.Open(name)
}
