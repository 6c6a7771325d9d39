package feeds_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
	"github.com/rampart-edge/rampart/internal/store/postgres"
	"github.com/rampart-edge/rampart/internal/store/sqlite"
	"github.com/rampart-edge/rampart/internal/testenv"
)

// The real OFAC publications (testdata/sanctions/PROVENANCE.md): the
// 2023-12-28 set, and the 2024-05-03 sdn.csv, served with the 2023
// companion files since that snapshot has sdn.csv only.
var sanctions = filepath.Join("..", "..", "testdata", "sanctions")

func readReal(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{sanctions}, parts...)...))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// publication is a set of files under their official (upper-case) names.
type publication map[string][]byte

func set2023(tb testing.TB) publication {
	return publication{
		"SDN.CSV":          readReal(tb, "ofac", "sdn.csv"),
		"ADD.CSV":          readReal(tb, "ofac", "add.csv"),
		"ALT.CSV":          readReal(tb, "ofac", "alt.csv"),
		"SDN_COMMENTS.CSV": readReal(tb, "ofac", "sdn_comments.csv"),
	}
}

func set2024(tb testing.TB) publication {
	p := set2023(tb)
	p["SDN.CSV"] = readReal(tb, "ofac-2024-05-03", "sdn.csv")
	return p
}

// Modes of the test server.
const (
	modeNormal   = ""
	mode500      = "500"
	modeSlow     = "slow"
	modeCut      = "cut"      // closes the connection half way through a body
	modeRedirect = "redirect" // redirects to a plain-http host that is not loopback
)

// pubServer serves a publication on 127.0.0.1 as OFAC's Sanctions List
// Service folder does: ETag and Last-Modified, 304 to a conditional
// request that matches.
type pubServer struct {
	*httptest.Server
	mu          sync.Mutex
	pub         publication
	etags       map[string]string // computed once per publication
	modified    time.Time
	mode        string
	requests    atomic.Int64
	cond        atomic.Int64 // requests carrying If-None-Match and If-Modified-Since
	answered304 atomic.Int64
	agents      sync.Map
}

func newPubServer(tb testing.TB, pub publication, modified time.Time) *pubServer {
	p := &pubServer{pub: pub, modified: modified, etags: etags(pub)}
	p.Server = httptest.NewServer(p)
	tb.Cleanup(p.Close)
	return p
}

func (p *pubServer) set(pub publication, modified time.Time, mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pub != nil {
		p.pub = pub
		p.etags = etags(pub)
		p.modified = modified
	}
	p.mode = mode
}

func (p *pubServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	p.agents.Store(r.Header.Get("User-Agent"), true)
	p.mu.Lock()
	mode, modified := p.mode, p.modified
	b, ok := p.pub[path.Base(r.URL.Path)]
	etag := p.etags[path.Base(r.URL.Path)]
	p.mu.Unlock()
	switch mode {
	case mode500:
		http.Error(w, "upstream trouble", http.StatusInternalServerError)
		return
	case modeSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case modeRedirect:
		http.Redirect(w, r, "http://lists-mirror.example.invalid/exports/"+path.Base(r.URL.Path), http.StatusFound)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	if r.Header.Get("If-None-Match") != "" && r.Header.Get("If-Modified-Since") != "" {
		p.cond.Add(1)
	}
	if r.Header.Get("If-None-Match") == etag {
		p.answered304.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if mode == modeCut {
		w.Header().Set("Content-Length", itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		return // the server closes the connection: the body is short
	}
	_, _ = w.Write(b)
}

func etags(pub publication) map[string]string {
	out := map[string]string{}
	for name, b := range pub {
		sum := sha256.Sum256(b)
		out[name] = `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// rig is a list store with the 2023 OFAC set active (as from
// compliance.lists), a compliance desk on a real store subscribed to it
// (continuous re-screen), refusals audited as the app does, a feed
// scheduler on its own metrics registry, and accounts and zones named
// after entities the 2024-05-03 publication adds, and clean ones.
type rig struct {
	t       testing.TB
	ls      *lists.Store
	st      store.Store
	svc     *compliance.Service
	sched   *feeds.Scheduler
	feed    config.Feed
	reg     *prometheus.Registry
	srv     *pubServer
	base    string // the 2023 version hash
	hitAcc  []string
	clean   []string
	hitZone []string
}

// lastPostgresURL is the schema URL of the last PostgreSQL store opened.
var lastPostgresURL string

var backends = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store {
		s, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(tb testing.TB) store.Store {
		lastPostgresURL = testenv.Postgres(tb)
		s, err := postgres.Open(context.Background(), lastPostgresURL)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}

func testFeed(url string) config.Feed {
	return config.Feed{Name: "ofac-sdn", Source: config.FeedOFACSDN, URL: url, Interval: time.Second, Timeout: 2 * time.Second,
		Retries: 2, MaxSize: 8 << 20, MinEntities: 5000, MaxAge: 7 * 24 * time.Hour, UserAgent: ""}
}

func newRig(t testing.TB, st store.Store, dataDir string) *rig {
	t.Helper()
	ctx := context.Background()
	ls, err := lists.Open(dataDir, []string{filepath.Join(sanctions, "ofac")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	cfg.Compliance.MaxRemovedShare = lists.DefaultMaxRemovedShare
	ls.SetPolicy(app.ListPolicy(cfg))
	ls.OnRefused(func(r lists.Refusal) {
		if err := app.AuditRefusal(ctx, st, r); err != nil {
			t.Errorf("auditing a refusal: %v", err)
		}
	})
	scr := screening.NewService(ls, 0)
	svc, err := compliance.New(ctx, compliance.Options{Store: st, Screening: scr, OnHit: config.OnHitReview})
	if err != nil {
		t.Fatal(err)
	}
	svc.Subscribe(ls)
	r := &rig{t: t, ls: ls, st: st, svc: svc, reg: prometheus.NewRegistry(), base: ls.Snapshot().Versions["ofac-sdn"].Hash}
	mkAcc := func(name, kind string) string {
		res, err := svc.CreateAccount(ctx, compliance.AccountInput{Name: name, Kind: kind}, "tok")
		if err != nil || res.Status != store.AccountActive {
			t.Fatalf("onboarding %q: %+v %v", name, res, err)
		}
		return res.ID
	}
	// Added on 2024-05-03: ofac-sdn 45230 SOCIAL DESIGN AGENCY
	// (sp-agency.ru), 45229 TUPIKIN, Nikolai Aleksandrovich, 45231
	// COMPANY GROUP STRUCTURA LLC (structura.pro).
	r.hitAcc = []string{mkAcc("Social Design Agency", "organization"), mkAcc("Nikolai Aleksandrovich Tupikin", "person")}
	r.clean = []string{mkAcc("Quiet Meadow Bakery", "organization"), mkAcc("Johanna Vermeulen-Smit", "person")}
	for _, h := range []string{"www.sp-agency.ru", "shop.structura.pro"} {
		body, _ := json.Marshal(map[string]any{"account_id": r.clean[0], "host": h, "origins": []string{"http://127.0.0.1:9"}})
		res, err := svc.CreateZone(ctx, body, "tok")
		if err != nil || res.Status != store.ZoneActive {
			t.Fatalf("zone %s: %+v %v", h, res, err)
		}
		r.hitZone = append(r.hitZone, res.ID)
	}
	return r
}

// start serves pub and makes the scheduler.
func (r *rig) start(pub publication, modified time.Time, dataDir string) {
	r.t.Helper()
	r.srv = newPubServer(r.t, pub, modified)
	r.feed = testFeed(r.srv.URL + "/api/PublicationPreview/exports/")
	r.newScheduler(dataDir)
}

func (r *rig) newScheduler(dataDir string) {
	r.t.Helper()
	s, err := feeds.New(feeds.Options{Store: r.ls, Feeds: []config.Feed{r.feed}, DataDir: dataDir, Registerer: r.reg, Version: "test", Backoff: 10 * time.Millisecond})
	if err != nil {
		r.t.Fatal(err)
	}
	r.sched = s
}

// auditCount counts the audit entries of an action.
func (r *rig) auditCount(action string) int {
	n := 0
	for e, err := range r.st.Entries(context.Background(), 1) {
		if err != nil {
			r.t.Fatal(err)
		}
		if e.Action == action {
			n++
		}
	}
	return n
}

func (r *rig) lastAudit(action string) audit.Entry {
	var last audit.Entry
	for e, err := range r.st.Entries(context.Background(), 1) {
		if err != nil {
			r.t.Fatal(err)
		}
		if e.Action == action {
			last = e
		}
	}
	return last
}

// metric returns the value of a metric with the given labels (0 if absent).
func (r *rig) metric(name string, labels map[string]string) float64 {
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return value(m)
		}
	}
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

func (r *rig) accountStatus(id string) string {
	a, err := r.st.GetAccount(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return a.Status
}
