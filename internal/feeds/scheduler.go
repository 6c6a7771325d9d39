package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists"
)

// Options configure a Scheduler.
type Options struct {
	Store *lists.Store
	Feeds []config.Feed // validated (defaults filled in)
	// DataDir keeps each feed's last accepted files and validators under
	// DataDir/feeds/NAME/; "" keeps them in memory.
	DataDir    string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Version    string // rampart's, for the User-Agent
	// Transport is the HTTP transport (nil: a clone of the default).
	Transport http.RoundTripper
	// Backoff is the delay before the first retry, doubled for each
	// next one (default 2s).
	Backoff time.Duration
	// Lease, when set, is asked before each scheduled check: false skips
	// it (another node sharing the store holds the feeds' lease and
	// checks; its activations reach this node through the store).
	Lease func(ctx context.Context) bool
}

// Scheduler checks the feeds: on a schedule (Run) or once (Once).
type Scheduler struct {
	store   *lists.Store
	feeds   []config.Feed
	dir     string
	log     *slog.Logger
	m       *metrics
	client  *http.Client
	version string
	backoff time.Duration
	started time.Time
	lease   func(ctx context.Context) bool

	mu     sync.Mutex
	states map[string]*feedState
	run    map[string]*sync.Mutex // one check at a time per feed
}

// feedState is what a feed remembers between checks.
type feedState struct {
	Files       map[string]validators `json:"files"` // canonical name -> validators of the cached copy
	LastCheck   time.Time             `json:"last_check,omitzero"`
	LastSuccess time.Time             `json:"last_success,omitzero"`
	LastOutcome string                `json:"last_outcome,omitempty"`
	LastError   string                `json:"last_error,omitempty"`
	Published   time.Time             `json:"published,omitzero"` // newest Last-Modified accepted
	stale       bool
	savedAt     time.Time         // when state.json was last written
	mem         map[string][]byte // in-memory cache when there is no data dir
}

// New makes a Scheduler; it loads each feed's state from DataDir.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil {
		return nil, errors.New("feeds: no list store")
	}
	tr := o.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	s := &Scheduler{store: o.Store, feeds: o.Feeds, log: o.Logger, m: newMetrics(o.Registerer), client: newClient(tr),
		version: o.Version, backoff: o.Backoff, started: time.Now(), lease: o.Lease, states: map[string]*feedState{}, run: map[string]*sync.Mutex{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.backoff <= 0 {
		s.backoff = 2 * time.Second
	}
	if s.version == "" {
		s.version = "dev"
	}
	if o.DataDir != "" {
		s.dir = filepath.Join(o.DataDir, "feeds")
	}
	for _, f := range o.Feeds {
		if _, ok := layouts[f.Source]; !ok {
			return nil, fmt.Errorf("feed %s: source %s is not supported", f.Name, f.Source)
		}
		st := &feedState{Files: map[string]validators{}, mem: map[string][]byte{}}
		if s.dir != "" {
			b, err := os.ReadFile(filepath.Join(s.dir, f.Name, "state.json"))
			switch {
			case err == nil:
				if err := json.Unmarshal(b, st); err != nil {
					return nil, fmt.Errorf("feed %s: reading its state: %w", f.Name, err)
				}
				if st.Files == nil {
					st.Files = map[string]validators{}
				}
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("feed %s: reading its state: %w", f.Name, err)
			}
		}
		s.states[f.Name] = st
		s.run[f.Name] = &sync.Mutex{}
		if !st.LastSuccess.IsZero() {
			s.m.lastSuccess.WithLabelValues(f.Name).Set(float64(st.LastSuccess.Unix()))
		}
	}
	return s, nil
}

// Result is the outcome of one check of one feed.
type Result struct {
	Feed    string               `json:"feed"`
	Source  string               `json:"source"`
	Outcome string               `json:"outcome"`
	Bytes   int64                `json:"bytes"`
	Results []lists.ImportResult `json:"results,omitempty"`
	Error   string               `json:"error,omitempty"`
}

// Run checks every feed at once, then every interval (less up to 10%
// jitter, so a check is never later than one interval), until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, f := range s.feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if s.lease == nil || s.lease(ctx) {
					s.Check(ctx, f, nil)
				}
				d := f.Interval - time.Duration(rand.Int64N(int64(f.Interval)/10+1))
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}

// Once checks the named feeds (all when none are named) one after the
// other. progress, if not nil, is told of each download.
func (s *Scheduler) Once(ctx context.Context, names []string, progress func(feed, file string, done, total int64)) ([]Result, error) {
	var todo []config.Feed
	if len(names) == 0 {
		todo = s.feeds
	}
	for _, n := range names {
		found := false
		for _, f := range s.feeds {
			if f.Name == n {
				todo = append(todo, f)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no feed %q in compliance.feeds", n)
		}
	}
	if len(todo) == 0 {
		return nil, errors.New("no feeds: add compliance.feeds to the config")
	}
	var out []Result
	for _, f := range todo {
		var pf progressFunc
		if progress != nil {
			pf = func(file string, done, total int64) { progress(f.Name, file, done, total) }
		}
		out = append(out, s.Check(ctx, f, pf))
	}
	return out, nil
}

// Check checks one feed once.
func (s *Scheduler) Check(ctx context.Context, f config.Feed, progress progressFunc) Result {
	mu := s.run[f.Name]
	mu.Lock()
	defer mu.Unlock()
	s.m.attempts.WithLabelValues(f.Name).Inc()
	res := s.check(ctx, f, progress)
	s.m.results.WithLabelValues(f.Name, res.Outcome).Inc()
	s.m.bytes.WithLabelValues(f.Name).Add(float64(res.Bytes))
	now := time.Now().UTC()
	s.mu.Lock()
	st := s.states[f.Name]
	// A 304 like the last one changes only the check times: they are
	// written at most every 10 minutes, so that a 304 costs no disk write.
	save := res.Outcome != OutcomeNotModified || st.LastOutcome != res.Outcome || now.Sub(st.savedAt) > 10*time.Minute
	if save {
		st.savedAt = now
	}
	st.LastCheck, st.LastOutcome, st.LastError = now, res.Outcome, res.Error
	if res.Outcome != OutcomeError && res.Outcome != OutcomeRefused {
		st.LastSuccess = now
		s.m.lastSuccess.WithLabelValues(f.Name).Set(float64(now.Unix()))
	}
	s.mu.Unlock()
	if res.Outcome == OutcomeError {
		s.log.Warn("list feed check failed; the last good version stays active", "feed", f.Name, "source", f.Source, "error", res.Error)
	}
	if save {
		if err := s.saveState(f.Name); err != nil {
			s.log.Error("saving list feed state", "feed", f.Name, "error", err)
		}
	}
	s.checkStale(f)
	return res
}

func (s *Scheduler) check(ctx context.Context, f config.Feed, progress progressFunc) Result {
	lay := layouts[f.Source]
	res := Result{Feed: f.Name, Source: lay.store}
	s.mu.Lock()
	prev := map[string]validators{}
	for k, v := range s.states[f.Name].Files {
		prev[k] = v
	}
	s.mu.Unlock()
	gots := make([]got, len(lay.files))
	modified := false
	for i, rf := range lay.files {
		g, err := s.getRetry(ctx, f, rf.canonical, fileURL(f.URL, rf), prev[rf.canonical], progress)
		if err != nil {
			res.Outcome, res.Error = OutcomeError, fmt.Sprintf("%s: %v", rf.canonical, err)
			return res
		}
		res.Bytes += int64(len(g.data))
		if g.tooLarge > 0 {
			r := lists.Refusal{Source: lay.store, Feed: f.Name, File: rf.canonical, Kind: lists.RefusedTooLarge, Actor: "feed:" + f.Name, Origin: "feed:" + f.Name,
				Reason: fmt.Sprintf("%d bytes or more, over the feed's max_size of %d", g.tooLarge, f.MaxSize)}
			s.store.Refuse(r)
			res.Outcome, res.Error = OutcomeRefused, r.Reason
			return res
		}
		if g.status == http.StatusNotFound && rf.required {
			res.Outcome, res.Error = OutcomeError, fmt.Sprintf("%s: not found at %s", rf.canonical, fileURL(f.URL, rf))
			return res
		}
		_, had := prev[rf.canonical]
		if g.status == http.StatusOK || (g.status == http.StatusNotFound && had) {
			modified = true
		}
		gots[i] = g
	}
	if !modified {
		res.Outcome = OutcomeNotModified
		return res
	}
	files := map[string][]byte{}
	var published time.Time
	for i, rf := range lay.files {
		g := gots[i]
		switch g.status {
		case http.StatusOK:
			files[rf.canonical] = g.data
		case http.StatusNotModified:
			b, err := s.cached(f.Name, rf.canonical)
			if err != nil {
				res.Outcome, res.Error = OutcomeError, fmt.Sprintf("%s: the server answered 304 but the cached copy is unreadable: %v", rf.canonical, err)
				s.forget(f.Name)
				return res
			}
			files[rf.canonical] = b
		default:
			continue
		}
		if g.val.Modified.After(published) {
			published = g.val.Modified
		}
	}
	opts := lists.ImportOptions{Origin: "feed:" + f.Name, Actor: "feed:" + f.Name, Feed: f.Name}
	if !published.IsZero() {
		opts.Published = map[string]time.Time{lay.store: published}
	}
	results, err := s.store.ImportSource(lay.store, files, opts)
	if err != nil {
		res.Error = err.Error()
		res.Outcome = OutcomeError
		if _, ok := lists.AsRefused(err); ok {
			res.Outcome = OutcomeRefused
		}
		return res
	}
	res.Results = results
	res.Outcome = OutcomeUpdated
	if len(results) == 1 && results[0].Unchanged {
		res.Outcome = OutcomeUnchanged
	}
	if err := s.keep(f.Name, lay, gots, files, published); err != nil {
		s.log.Error("keeping the list feed's files", "feed", f.Name, "error", err)
	}
	return res
}
