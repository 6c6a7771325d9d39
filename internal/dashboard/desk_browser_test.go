package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/token"
)

// TestBrowserCaseDesk drives the case desk in headless Chromium (issue
// 15): an account held at onboarding has its case in the queue under the
// account's name; the officer reviews its match (confirmed), is refused a
// whitelist without reason, whitelists it with one, assigns the case to
// herself and comments; all of it shows in the case's timeline, read from
// the audit log, whose entry numbers lead to the audit page; the queue's
// "mine" and "unassigned" filters work. A read token cannot review,
// assign or comment (403) and a form without its CSRF token is refused.
// Every page passes the accessibility check and is kept as a screenshot
// (test artefacts, and RAMPART_SCREENSHOTS when set).
func TestBrowserCaseDesk(t *testing.T) {
	n := startNode(t)
	_, body := n.admin(t, "POST", "/v1/accounts", `{"name": "Bank Maskan", "kind": "organization", "country": "AE", "address": "Ferdowsi Avenue 1, Dubai, United Arab Emirates"}`)
	var held struct{ ID, Status string }
	json.Unmarshal([]byte(body), &held)
	if held.Status != "review" {
		t.Fatalf("held account: %s", body)
	}
	if code, body := n.admin(t, "POST", "/v1/zones", fmt.Sprintf(`{"account_id": %q, "host": "maskan-pay.example", "origins": [%q]}`, held.ID, n.origin.URL)); code != 201 {
		t.Fatalf("held zone: %d %s", code, body)
	}
	ctx := context.Background()
	accCases, _ := n.db.ListCases(ctx, store.CaseFilter{Host: "account:" + held.ID})
	if len(accCases) != 1 {
		t.Fatalf("account cases: %+v", accCases)
	}
	caseID := accCases[0].ID
	adminURL := "http://" + n.app.Addrs().Admin
	caseURL := adminURL + "/dashboard/cases/" + caseID

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	bctx, cancelTimeout := context.WithTimeout(bctx, 3*time.Minute)
	defer cancelTimeout()

	shotDir, extra := t.ArtifactDir(), os.Getenv("RAMPART_SCREENSHOTS")
	shot := 0
	capture := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		shot++
		for _, dir := range []string{shotDir, extra} {
			if dir == "" {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("desk-%02d-%s.png", shot, name)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	a11y := func(name string) {
		t.Helper()
		problems, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](a11yJS))
		if err != nil {
			t.Fatalf("a11y check of %s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("accessibility, %s: %s", name, p)
		}
	}
	mainText := func() string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text("main"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	page := func(name, u string) string {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitVisible("main")); err != nil {
			t.Fatalf("opening %s: %v", u, err)
		}
		a11y(name)
		capture(name)
		return mainText()
	}
	// submitted checks the page a form led to and captures it.
	submitted := func(name, want string) string {
		t.Helper()
		a11y(name)
		capture(name)
		s := mainText()
		if !strings.Contains(s, want) {
			t.Fatalf("%s: the page lacks %q: %s", name, want, s)
		}
		return s
	}

	// Sign in.
	if err := chromedp.Do(bctx, chromedp.Navigate(adminURL+"/dashboard/cases"), chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", n.tokens[token.Compliance]), chromedp.Submit("#token"), chromedp.WaitVisible("table.wide")); err != nil {
		t.Fatal(err)
	}

	// The queue names the account, links to it, and shows no assignee.
	q := page("queue", adminURL+"/dashboard/cases")
	if !strings.Contains(q, "Bank Maskan") || strings.Contains(q, "account:acc_") || !strings.Contains(q, "nobody") {
		t.Fatalf("queue: %s", q)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('a[href="/dashboard/accounts/%s"]').length`, held.ID))); err != nil || n == 0 {
		t.Fatalf("the queue does not link the account: %d %v", n, err)
	}

	// The case page: the match to review beside the account's data.
	c := page("case", caseURL)
	for _, want := range []string{"Matches to review", "BANK MASKAN", "not reviewed", "Ferdowsi Avenue 1", "Timeline, from the audit log", "case.open"} {
		if !strings.Contains(c, want) {
			t.Fatalf("case page lacks %q: %s", want, c)
		}
	}
	review := func(verdict, reason string) {
		t.Helper()
		acts := []chromedp.Action[chromedp.Void]{chromedp.Navigate(caseURL), chromedp.WaitVisible("form.review-form"),
			chromedp.SetValue("form.review-form select", verdict)}
		if reason != "" {
			acts = append(acts, chromedp.SendKeys("form.review-form input[name=reason]", reason))
		}
		acts = append(acts, chromedp.Submit("form.review-form select"), chromedp.WaitVisible(".notice, .error"))
		if err := chromedp.Do(bctx, acts...); err != nil {
			t.Fatalf("review %s: %v", verdict, err)
		}
	}
	review("confirmed", "")
	submitted("case-confirmed", "Match review recorded: confirmed.")
	review("whitelisted", "")
	submitted("case-whitelist-refused", "reason: required")
	review("whitelisted", "A different bank: Dubai trade licence 123456 checked.")
	c = submitted("case-whitelisted", "Match review recorded: whitelisted.")
	if !strings.Contains(c, "A different bank: Dubai trade licence 123456 checked.") {
		t.Fatalf("the whitelist's reason is not shown: %s", c)
	}

	// Assign to me, then comment.
	if err := chromedp.Do(bctx, chromedp.Navigate(caseURL), chromedp.WaitVisible("#assignee"),
		chromedp.Click(`button[name=me]`), chromedp.WaitVisible(".notice")); err != nil {
		t.Fatal(err)
	}
	submitted("case-assigned", "Case assigned.")
	if err := chromedp.Do(bctx, chromedp.Navigate(caseURL), chromedp.WaitVisible("#comment"),
		chromedp.SendKeys("#comment", "Trade licence and ownership register checked; no link to the listed bank."),
		chromedp.Submit("#comment"), chromedp.WaitVisible(".notice")); err != nil {
		t.Fatal(err)
	}
	c = submitted("case-commented", "Comment added.")
	for _, want := range []string{"browser test", "no link to the listed bank", "case.review", "case.assign", "case.comment",
		"reviewed: whitelisted (A different bank", "assigned to browser test", "comment by browser test"} {
		if !strings.Contains(c, want) {
			t.Errorf("case page after the desk's work lacks %q", want)
		}
	}

	// The timeline's entry number leads to the entry on the audit page.
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(function(){var li=[...document.querySelectorAll("ul.timeline li")].find(function(l){return l.textContent.indexOf("case.review")>=0&&l.textContent.indexOf("whitelisted")>=0});return li?li.querySelector("a").getAttribute("href"):""})()`))
	if err != nil || !regexp.MustCompile(`^/dashboard/audit\?from=\d+#seq-\d+$`).MatchString(href) {
		t.Fatalf("timeline link %q %v", href, err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(adminURL+href), chromedp.WaitVisible("tr:target")); err != nil {
		t.Fatalf("the audit entry %s is not the page's target: %v", href, err)
	}
	a11y("audit-entry")
	capture("audit-entry")
	row, err := chromedp.Run(bctx, chromedp.Text("tr:target"))
	if err != nil {
		t.Fatal(err)
	}
	ctok, _ := (&store.TokenStore{S: n.db}).Verify(n.tokens[token.Compliance])
	for _, want := range []string{"case.review", "case:" + caseID, ctok.ID, `"verdict":"whitelisted"`, `"reason":"A different bank`, `"match_id":"ofac-sdn:`} {
		if !strings.Contains(row, want) {
			t.Errorf("audit entry %s lacks %q: %s", href, want, row)
		}
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(adminURL+"/dashboard/audit?verify=1"), chromedp.WaitVisible(".good-text")); err != nil {
		t.Fatalf("the audit chain does not verify: %v", err)
	}
	capture("audit-verified")

	// The queue's filters.
	if mine := page("queue-mine", adminURL+"/dashboard/cases?status=open&who=mine"); !strings.Contains(mine, "Bank Maskan") || strings.Contains(mine, "maskan-pay.example") {
		t.Errorf("mine: %s", mine)
	}
	if un := page("queue-unassigned", adminURL+"/dashboard/cases?status=open&who=unassigned"); strings.Contains(un, "Bank Maskan") || !strings.Contains(un, "maskan-pay.example") {
		t.Errorf("unassigned: %s", un)
	}
	page("zone-case", adminURL+"/dashboard/cases/"+mustCase(t, n, "maskan-pay.example"))

	// A read token may not review, assign or comment; the officer's
	// cookie without the form's CSRF token is refused.
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{adminURL + "/dashboard/"}})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	au, _ := url.Parse(adminURL + "/dashboard/")
	for _, ck := range cookies.Cookies {
		if ck.Name == "rampart_session" {
			jar.SetCookies(au, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/dashboard/"}})
		}
	}
	officer := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: plain.CheckRedirect}
	rjar, _ := cookiejar.New(nil)
	reader := &http.Client{Jar: rjar, Timeout: 10 * time.Second, CheckRedirect: plain.CheckRedirect}
	resp, err := reader.Get(adminURL + "/dashboard/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp, _ = reader.PostForm(adminURL+"/dashboard/signin", url.Values{"csrf": {csrfRe.FindStringSubmatch(string(b))[1]}, "token": {n.tokens[token.Read]}})
	resp.Body.Close()
	resp, _ = reader.Get(adminURL + "/dashboard/accounts")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	rcsrf := csrfRe.FindStringSubmatch(string(b))
	if rcsrf == nil {
		t.Fatalf("read token's accounts page: %d", resp.StatusCode)
	}
	matchID := firstMatch(t, n, held.ID)
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/matches/" + url.PathEscape(matchID) + "/review", url.Values{"verdict": {"no_match"}}},
		{"/assign", url.Values{"assignee": {"mallory"}}},
		{"/comments", url.Values{"body": {"read-only"}}},
	} {
		f := url.Values{"csrf": {rcsrf[1]}}
		for k, v := range p.form {
			f[k] = v
		}
		resp, err := reader.PostForm(caseURL+p.path, f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("read token posting %s: %d, want 403", p.path, resp.StatusCode)
		}
		resp, err = officer.PostForm(caseURL+p.path, p.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("posting %s without the CSRF token: %d, want 403", p.path, resp.StatusCode)
		}
	}
	cs, _ := n.db.GetCase(ctx, caseID)
	cms, _ := n.db.Comments(ctx, caseID)
	rvs, _ := n.db.MatchReviews(ctx, caseID)
	if cs.Assignee != "browser test" || len(cms) != 1 || len(rvs) != 2 {
		t.Errorf("refused forms changed the case: assignee %q, %d comments, %d reviews", cs.Assignee, len(cms), len(rvs))
	}
	t.Logf("%d screenshots in %s%s", shot, shotDir, map[bool]string{true: " and " + extra, false: ""}[extra != ""])
}

// mustCase returns the id of host's only case.
func mustCase(t *testing.T, n *node, host string) string {
	t.Helper()
	cs, err := n.db.ListCases(context.Background(), store.CaseFilter{Host: host})
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases of %s: %+v %v", host, cs, err)
	}
	return cs[0].ID
}

// firstMatch returns the entity id of the first match of the account's
// newest screening.
func firstMatch(t *testing.T, n *node, accID string) string {
	t.Helper()
	scs, err := n.db.Screenings(context.Background(), store.SubjectAccount, accID, 1)
	if err != nil || len(scs) != 1 {
		t.Fatalf("screenings of %s: %v", accID, err)
	}
	var ms []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(scs[0].Matches, &ms) != nil || len(ms) == 0 {
		t.Fatalf("no match in %s", scs[0].Matches)
	}
	return ms[0].ID
}
