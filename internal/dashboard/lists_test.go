package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/token"
)

// sanctionsDir is a folder of the repository's test lists.
func sanctionsDir(name string) string {
	return filepath.Join("..", "..", "testdata", "sanctions", name)
}

// twoVersions opens a list store in a data directory with two versions
// of OFAC SDN: the sdn.csv of testdata/sanctions/ofac, then that of
// ofac-2024-05-03 imported by the CLI with its publication date (+1,256
// −112 ~48, PROVENANCE.md).
func twoVersions(t testing.TB) *lists.Store {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sanctionsDir("ofac"), "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	first := t.TempDir()
	if err := os.WriteFile(filepath.Join(first, "sdn.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	ls, err := lists.Open(t.TempDir(), []string{first})
	if err != nil {
		t.Fatal(err)
	}
	pub := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	if _, err := ls.ImportWith(lists.ImportOptions{Origin: "cli", Actor: "cli", Published: map[string]time.Time{"ofac-sdn": pub}},
		sanctionsDir("ofac-2024-05-03")); err != nil {
		t.Fatal(err)
	}
	return ls
}

// listsRig is a dashboard on a list store with two versions and a real
// feed scheduler (never run) whose OFAC feed is stale by max_age.
func listsRig(t *testing.T) (*httptest.Server, string, *lists.Store) {
	t.Helper()
	ls := twoVersions(t)
	sch, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{{Name: "ofac-sdn", Source: config.FeedOFACSDN,
		URL: "http://127.0.0.1:9/", Interval: time.Hour, MaxAge: 7 * 24 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	toks := token.NewMemory()
	tok, _, err := toks.Create(token.Read, "test")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Tokens: toks, Store: db, Lists: ls, Feeds: sch})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return srv, tok, ls
}

func TestListsPageVersionsDiffsStaleness(t *testing.T) {
	srv, tok, ls := listsRig(t)
	c := newClient()
	signIn(t, c, srv.URL, tok)
	code, body, _ := get(t, c, srv.URL+"/dashboard/lists")
	if code != http.StatusOK {
		t.Fatalf("lists page: %d %.300s", code, body)
	}
	active := ls.Snapshot().Versions["ofac-sdn"]
	hist, err := ls.History()
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v %v", hist, err)
	}
	older := hist[0]
	for _, want := range []string{
		// The staleness warning, with the feeds package's reason.
		`role="alert"><strong>Stale list:</strong> feed <code>ofac-sdn</code>`,
		"newest publication 2024-05-03T00:00:00Z is older than max_age 168h0m0s",
		// Both versions, the active one marked, with counts and how.
		"Versions of OFAC SDN, newest first",
		`<span class="badge good">active</span>`,
		"14,965", "13,821",
		"<td>cli</td>",
		// The diff of the update and the link to it.
		"+1,256 added, −112 removed, 48 changed",
		`href="/dashboard/lists/ofac-sdn/` + active.Hash + `/diff"`,
		`href="/dashboard/lists/ofac-sdn/` + older.Hash + `/diff"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lists page lacks %q", want)
		}
	}
	// Newest first: the active (newer) version's row comes before the
	// earlier one's.
	if i, j := strings.Index(body, `title="`+active.Hash+`"`), strings.LastIndex(body, `title="`+older.Hash+`"`); i < 0 || j < 0 || i > j {
		t.Errorf("versions not newest first: active at %d, earlier at %d", i, j)
	}
	if n := strings.Count(body, "badge good\">active<"); n != 1 {
		t.Errorf("%d versions marked active, want 1", n)
	}

	// The diff page lists the ids.
	code, body, _ = get(t, c, srv.URL+"/dashboard/lists/ofac-sdn/"+active.Hash+"/diff")
	if code != http.StatusOK {
		t.Fatalf("diff page: %d %.300s", code, body)
	}
	df, err := ls.DiffOf("ofac-sdn", active.Hash)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Added (1,256)", "Removed (112)", "Changed (48)", "<code>" + df.Removed[0] + "</code>",
		"<code>" + df.Changed[47] + "</code>", "The first 1000 shown", "GET /v1/lists/ofac-sdn/" + active.Hash + "/diff"} {
		if !strings.Contains(body, want) {
			t.Errorf("diff page lacks %q", want)
		}
	}
	if got := len(regexp.MustCompile(`<code>ofac-sdn:[0-9]+</code>`).FindAllString(body, -1)); got != 1000+112+48 {
		t.Errorf("diff page shows %d ids, want %d", got, 1000+112+48)
	}
	for _, bad := range []string{"/dashboard/lists/ofac-sdn/zzz/diff", "/dashboard/lists/nope/" + active.Hash + "/diff",
		"/dashboard/lists/un/" + strings.Repeat("0", 64) + "/diff"} {
		if code, body, _ := get(t, c, srv.URL+bad); code != http.StatusNotFound {
			t.Errorf("%s: %d %.200s, want 404", bad, code, body)
		}
	}
}

// A fresh feed shows no warning; an in-memory store shows the active
// version with its diff and says that no earlier versions are kept.
func TestListsPageFreshAndInMemory(t *testing.T) {
	r := newRig(t)
	c := newClient()
	signIn(t, c, r.srv.URL, r.tokens[token.Read])
	code, body, _ := get(t, c, r.srv.URL+"/dashboard/lists")
	if code != http.StatusOK {
		t.Fatalf("lists page: %d %.300s", code, body)
	}
	if strings.Contains(body, "Stale list") || strings.Contains(body, "badge bad") {
		t.Errorf("stale warning without a stale feed")
	}
	if !strings.Contains(body, "No earlier versions are kept") || !strings.Contains(body, `<span class="badge good">active</span>`) {
		t.Errorf("in-memory lists page: %.2000s", body)
	}
}
