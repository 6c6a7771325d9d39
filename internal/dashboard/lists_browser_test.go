package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rampart-edge/rampart/internal/token"
)

// TestBrowserListsPage runs a node whose OFAC SDN feed (a loopback
// server with the 2024-05-03 sdn.csv, Last-Modified that day) replaces
// the configured list: the lists page in Chromium shows both versions,
// newest first, the feed's import with its diff and a link to the full
// diff, and the stale warning (the publication is older than the default
// max_age of 7 days). Both pages pass the accessibility check and are kept
// as screenshots (RAMPART_SCREENSHOTS when set).
func TestBrowserListsPage(t *testing.T) {
	sanctions, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sanctions"))
	files := map[string]string{
		"/SDN.CSV":          filepath.Join(sanctions, "ofac-2024-05-03", "sdn.csv"),
		"/ADD.CSV":          filepath.Join(sanctions, "ofac", "add.csv"),
		"/ALT.CSV":          filepath.Join(sanctions, "ofac", "alt.csv"),
		"/SDN_COMMENTS.CSV": filepath.Join(sanctions, "ofac", "sdn_comments.csv"),
	}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Last-Modified", "Fri, 03 May 2024 00:00:00 GMT")
		w.Write(b)
	}))
	defer feed.Close()
	n := startNodeWith(t, fmt.Sprintf("  feeds: [{name: ofac-sdn, source: ofac-sdn, url: %q, interval: 1h}]", feed.URL+"/"))

	// Wait for the feed's version to be active and its check recorded.
	var st struct {
		Lists []struct{ Source, Origin string }
		Feeds []struct {
			Stale       bool
			LastSuccess time.Time `json:"last_success"`
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := n.admin(t, "GET", "/v1/lists", "")
		json.Unmarshal([]byte(body), &st)
		if len(st.Lists) == 1 && st.Lists[0].Origin == "feed:ofac-sdn" && len(st.Feeds) == 1 && st.Feeds[0].Stale && !st.Feeds[0].LastSuccess.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed's version is not active and stale: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

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
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	adminURL := "http://" + n.app.Addrs().Admin
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/dashboard/signin"), chromedp.WaitVisible("input[name=token]"),
		chromedp.SendKeys("input[name=token]", n.tokens[token.Read]), chromedp.Submit("input[name=token]"),
		// The sign-in page has a <main> too: wait for the signed-in
		// page's sign-out form, or the next Navigate races the form's
		// own navigation (net::ERR_ABORTED).
		chromedp.WaitVisible("form.signout")); err != nil {
		t.Fatal(err)
	}
	extra := os.Getenv("RAMPART_SCREENSHOTS")
	page := func(name, u string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible("main")); err != nil {
			t.Fatalf("opening %s: %v", u, err)
		}
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yJS))
		if err != nil {
			t.Fatalf("a11y check of %s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("accessibility, %s: %s", name, p)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{t.ArtifactDir(), extra} {
			if dir == "" {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		text, err := chromedp.Run(ctx, chromedp.Text("main"))
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	s := page("lists-versions", adminURL+"/dashboard/lists")
	for _, want := range []string{"Stale list: feed ofac-sdn (ofac-sdn) is stale: newest publication 2024-05-03T00:00:00Z is older than max_age 168h0m0s",
		"Versions of OFAC SDN, newest first", "feed:ofac-sdn", "(updated), last success 20", "config", "14,965", "13,821", "1,256 added", "full diff"} {
		if !strings.Contains(s, want) {
			t.Errorf("lists page lacks %q:\n%s", want, s)
		}
	}
	if i, j := strings.Index(s, "feed:ofac-sdn"), strings.LastIndex(s, "config"); i < 0 || j < i {
		t.Errorf("the feed's version is not listed before the configured one")
	}
	// The first "full diff" link is the newest version's diff.
	if err := chromedp.Do(ctx, chromedp.Click(`a[aria-label^="full diff"]`), chromedp.WaitVisible("#removed")); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	d := page("lists-diff", loc)
	if !strings.Contains(d, "Added (1,256)") || !strings.Contains(d, "Removed (112)") || !strings.Contains(d, "feed:ofac-sdn") {
		t.Errorf("diff page: %.1500s", d)
	}
}
