// Package feeds fetches the official sanctions list publications
// (config compliance.feeds) on a schedule and hands every new publication
// to the list store's one import path (staging, verification, audit entry,
// activation, re-screen). A failed download or a refused update leaves
// the last good version active.
package feeds

import (
	"net/url"
	"strings"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/lists/ofac"
	"github.com/rampart-edge/rampart/internal/lists/uk"
	"github.com/rampart-edge/rampart/internal/lists/un"
)

// remoteFile is one file of a publication: its name on the server and its
// canonical name in the list store.
type remoteFile struct {
	remote    string // "SDN.CSV"; "" = the feed URL itself
	canonical string // "sdn.csv"
	required  bool   // a publication without it is a failed download
}

// layout is how a source is published.
type layout struct {
	store string // list store source ("ofac-sdn")
	files []remoteFile
}

var layouts = map[string]layout{
	// OFAC's Sanctions List Service folder: the official upper-case names.
	config.FeedOFACSDN: {store: ofac.Source, files: []remoteFile{
		{"SDN.CSV", ofac.SDNFile, true},
		{"ADD.CSV", ofac.AddFile, false},
		{"ALT.CSV", ofac.AltFile, false},
		{"SDN_COMMENTS.CSV", ofac.CommentsFile, false},
	}},
	// The OFAC consolidated (non-SDN) set, from the same folder.
	config.FeedOFACConsolidated: {store: ofac.ConsSource, files: []remoteFile{
		{"CONS_PRIM.CSV", ofac.ConsPrimFile, true},
		{"CONS_ADD.CSV", ofac.ConsAddFile, false},
		{"CONS_ALT.CSV", ofac.ConsAltFile, false},
		{"CONS_COMMENTS.CSV", ofac.ConsCommentsFile, false},
	}},
	// The UN consolidated XML is one file: the URL is the file.
	config.FeedUN: {store: un.Source, files: []remoteFile{{"", un.FileName, true}}},
	// Until a parser of the FCDO's own format exists, the uk feed reads
	// the CSV pair rampart parses, from a folder.
	config.FeedUK: {store: uk.Source, files: []remoteFile{
		{uk.SubjectsFile, uk.SubjectsFile, true},
		{uk.NamesFile, uk.NamesFile, true},
	}},
}

// ListSource is the list store source (the entity id prefix) a feed
// source imports into: "ofac-cons" for ofac-consolidated, the feed source
// itself otherwise; "" for a source without a feed layout.
func ListSource(feedSource string) string {
	return layouts[feedSource].store
}

// fileURL is the URL of f under the feed URL base.
func fileURL(base string, f remoteFile) string {
	if f.remote == "" {
		return base
	}
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimRight(base, "/") + "/" + f.remote
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.ResolveReference(&url.URL{Path: f.remote}).String()
}
