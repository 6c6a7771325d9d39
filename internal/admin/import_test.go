package admin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists"
)

// sanctions is the repository's copy of the real list files.
var sanctions = filepath.Join("..", "..", "testdata", "sanctions")

func readFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{sanctions}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listsAnswer decodes GET /v1/lists.
func listsAnswer(t *testing.T, e *env) listsStatus {
	t.Helper()
	a := e.do(t, "GET", "/v1/lists", "read", "", nil)
	if a.code != 200 {
		t.Fatalf("GET /v1/lists = %d %s", a.code, a.body)
	}
	var st listsStatus
	if err := json.Unmarshal(a.body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestListsImport(t *testing.T) {
	t.Parallel()
	store, err := lists.Open(t.TempDir(), []string{filepath.Join(sanctions, "un")})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, Options{Lists: store})

	st := listsAnswer(t, e)
	if len(st.Lists) != 1 || st.Lists[0].Source != "un" || st.Lists[0].Entities != 1003 || st.Entities != 1003 {
		t.Fatalf("initial lists = %+v", st)
	}
	unVersion := st.Lists[0].Version

	// A multipart upload of the OFAC set (sdn.csv and alt.csv) adds a list.
	ct, body := multipartBody(t, map[string]string{
		"sdn.csv": string(readFile(t, "ofac", "sdn.csv")),
		"alt.csv": string(readFile(t, "ofac", "alt.csv")),
	}, nil)
	a := e.do(t, "POST", "/v1/lists/import", "admin", ct, body)
	if a.code != 200 {
		t.Fatalf("multipart import = %d %s", a.code, a.body)
	}
	var res importResponse
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 {
		t.Fatalf("results = %s", a.body)
	}
	r := res.Results[0]
	if r.Source != "ofac-sdn" || r.Entities != 13821 || r.Previous != nil || r.Diff.Added != 13821 || len(r.Diff.FirstAdded) != lists.SummaryIDs || r.Unchanged {
		t.Errorf("first OFAC import result: source %s entities %d previous %v added %d", r.Source, r.Entities, r.Previous, r.Diff.Added)
	}
	if r.Published != nil {
		t.Errorf("an OFAC set carries no date; published = %v", r.Published)
	}
	firstOFAC := r.Version

	// A raw upload of the newer sdn.csv alone lacks the alt.csv the
	// active version has: refused, listing the refusal.
	a = e.do(t, "POST", "/v1/lists/import?name=sdn.csv", "admin", "text/csv", strings.NewReader(string(readFile(t, "ofac-2024-05-03", "sdn.csv"))))
	if a.code != 422 || !strings.Contains(string(a.body), `"kind":"incomplete"`) || !strings.Contains(string(a.body), `"file":"alt.csv"`) {
		t.Fatalf("sdn.csv without alt.csv = %d %s", a.code, a.body)
	}
	// force needs a reason.
	a = e.do(t, "POST", "/v1/lists/import?name=sdn.csv&force=true", "admin", "text/csv", strings.NewReader(string(readFile(t, "ofac-2024-05-03", "sdn.csv"))))
	if a.code != 400 {
		t.Fatalf("force without reason = %d %s", a.code, a.body)
	}
	// Forced with a reason, it replaces it and reports the diff.
	a = e.do(t, "POST", "/v1/lists/import?name=sdn.csv&force=true&reason=primary+records+only", "admin", "text/csv", strings.NewReader(string(readFile(t, "ofac-2024-05-03", "sdn.csv"))))
	if a.code != 200 {
		t.Fatalf("raw import = %d %s", a.code, a.body)
	}
	res = importResponse{}
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	r = res.Results[0]
	if r.Previous == nil || r.Previous.Version != firstOFAC || r.Version == firstOFAC {
		t.Errorf("second import previous = %+v, want version %s", r.Previous, firstOFAC)
	}
	if r.Diff.Added+r.Diff.Removed+r.Diff.Changed == 0 || !r.Forced || r.Reason != "primary records only" {
		t.Errorf("second import: %+v", r)
	}
	// The full diff is at the summary's link.
	a = e.do(t, "GET", r.Diff.Full, "read", "", nil)
	var full struct{ Added, Removed, Changed []string }
	if a.code != 200 || json.Unmarshal(a.body, &full) != nil || len(full.Added) != r.Diff.Added || len(full.Changed) != r.Diff.Changed {
		t.Errorf("GET %s = %d %.200s", r.Diff.Full, a.code, a.body)
	}
	secondOFAC := r.Version

	// The same file again is unchanged.
	a = e.do(t, "POST", "/v1/lists/import?name=sdn.csv", "admin", "text/csv", strings.NewReader(string(readFile(t, "ofac-2024-05-03", "sdn.csv"))))
	if a.code != 200 || !strings.Contains(string(a.body), `"unchanged":true`) {
		t.Errorf("re-import = %d %.300s", a.code, a.body)
	}

	// A broken file is 422 naming the file and record; nothing changes.
	broken := []struct {
		name, query, body, want string
	}{
		{"bad sdn.csv record", "?name=sdn.csv", "12,\"X\",-0- ,\"SDGT\"\r\n", "sdn.csv line 1"},
		{"truncated UN XML", "?name=consolidated.xml", string(readFile(t, "un", "consolidated.xml")[:100000]), "consolidated.xml"},
		{"unknown file", "?name=notes.txt", "hello", "notes.txt"},
	}
	for _, b := range broken {
		a := e.do(t, "POST", "/v1/lists/import"+b.query, "admin", "application/octet-stream", strings.NewReader(b.body))
		if a.code != 422 {
			t.Errorf("%s: got %d %s, want 422", b.name, a.code, a.body)
			continue
		}
		if msg := a.errMsg(t); !strings.Contains(msg, b.want) || !strings.Contains(msg, "previous versions stay active") {
			t.Errorf("%s: error %q does not name %q", b.name, msg, b.want)
		}
	}
	st = listsAnswer(t, e)
	got := map[string]string{}
	for _, l := range st.Lists {
		got[l.Source] = l.Version
	}
	if got["un"] != unVersion || got["ofac-sdn"] != secondOFAC || len(got) != 2 {
		t.Errorf("after failed imports the versions are %v; want un %s and ofac-sdn %s", got, unVersion, secondOFAC)
	}
	if st.Lists[0].Source != "ofac-sdn" || st.Lists[1].Source != "un" {
		t.Errorf("lists not sorted by source: %+v", st.Lists)
	}
}
