package feeds_test

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
)

// TestUNFeed fetches the real UN consolidated XML (one file: the URL is
// the file) into an empty store kept in memory: the publication date is
// the file's own dateGenerated, not the server's Last-Modified; the next
// check is a 304.
func TestUNFeed(t *testing.T) {
	ls, err := lists.OpenPersisted("")
	if err != nil {
		t.Fatal(err)
	}
	ls.SetPolicy(lists.Policy{Floors: lists.DefaultFloors})
	srv := newPubServer(t, publication{"consolidated.xml": readReal(t, "un", "consolidated.xml")}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	f := config.Feed{Name: "un", Source: config.FeedUN, URL: srv.URL + "/resources/xml/en/consolidated.xml", Interval: time.Hour,
		Timeout: 5 * time.Second, MaxSize: 8 << 20, MinEntities: 500, MaxAge: 7 * 24 * time.Hour}
	s, err := feeds.New(feeds.Options{Store: ls, Feeds: []config.Feed{f}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Once(context.Background(), nil, nil)
	if err != nil || len(res) != 1 || res[0].Outcome != feeds.OutcomeUpdated {
		t.Fatalf("%+v %v", res, err)
	}
	v := ls.Snapshot().Versions["un"]
	if v.Entities != 1003 || !v.Published.Equal(time.Date(2026, 2, 27, 0, 0, 9, 0, time.UTC)) {
		t.Errorf("un version %+v", v)
	}
	if r := s.Check(context.Background(), f, nil); r.Outcome != feeds.OutcomeNotModified {
		t.Errorf("second check %+v", r)
	}
}
