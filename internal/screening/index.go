// Package screening matches names and identifiers against sanctions-list
// entities. An Index is built once from a list snapshot and answers fuzzy
// name searches (typos, transpositions, word order, missing or extra name
// parts, diacritics, transliteration, titles and company legal forms) and
// exact identifier look-ups (websites and domains, e-mail addresses, digital
// currency addresses). Every match carries an explanation.
//
// Candidates come from inverted indexes (exact tokens, canonical keys,
// one-deletion neighbourhoods and consonant skeletons), never from a scan of
// every entity, so a search costs well under a tenth of a millisecond on
// the full SDN list. The index is made of flat arrays of plain types
// (flat.go), so that it can be written once per list version to a file
// and memory-mapped (file.go, filestore.go): a Service with a folder keeps
// it there, off the Go heap and shared through the page cache.
//
// Scoring. Both names are split into words, particles, titles and legal
// forms (package textnorm); query and listed tokens are aligned one to one
// (or a run of two or three joined tokens to one, "al qaida"/"ALQAIDA") by
// token similarity. S is the share of the query's token weight that
// aligned, each weighted by its similarity (which counts double below
// 0.90, except for legal forms); T is the share of the listed name's token
// weight that aligned at all, so that a typing error is paid for once. The
// score is S * (1 - 0.3*(1-T)^2): every query word must be found, while a
// listed middle name or second surname missing from the query costs
// little. A query word aligned with a listed particle or legal form (a
// mistyped "Gnbh", a split "COMPANY STOCK JOINT") weighs as one; a legal
// form in the query where the listed name states none left unmatched gets
// half credit, since the name may simply not state it. A query word of
// five letters or more two typing errors from a listed legal-form word
// aligns with it too, since a listed word one error from a legal-form
// word was read as it (SOCIETY as societe). One typing error in a word
// of two to four letters costs its similarity once, not twice, when a
// rare word (10 bits or more) matched beside it ("Alu Rezvani"). One
// matched word scores at most 0.86 against a longer listed name. A listed
// entity of another kind than asked is multiplied by 0.85, a weak alias by
// 0.95, an entity tied only to other countries than the query's by 0.97.
// An entity's score is that of its best name.
//
// Query structure (package namequery). A name is screened whole and, when
// it has parts ("X (Y)", "X - Y", "X / Y", "X a.k.a. Y"), each part on its
// own at 0.98 of its score; an entity keeps its best. Against a listed
// organisation, the query's articles, function words, descriptors
// ("movement", "harakat") and places ("Lebanon", the entity's own address
// cities), an extra legal form or joining particle, left unmatched cost
// at most a twentieth of one word in all instead of their weight, when an
// ordinary word that is rare in the index (fewer than 0.5% of
// its names hold it, and not a common business word), or two ordinary
// words, matched, every ordinary word of the listed name matched, and the
// listed name has no unmatched word of the same kind. A listed
// organisation that shares with the query only common words and has
// other words scores at most 0.86, unless three or more of them matched
// and the listed words left out carry less information (log2 of names
// over names holding the word, summed) than the words matched ("Islamic
// Development Bank" is not REGIONAL COOPERATION OF THE ISLAMIC BANK FOR
// DEVELOPMENT AND INVESTMENT). The scale is calibrated so
// that 0.90 (the default compliance.threshold) is the operating point:
// on the labelled eval set, 99.1% of listed names are found first at or
// above it and no true negative reaches it; on held-out sets built the
// same way from other entries, 97.1-98.2% are, with 0.2% of negatives
// alerting. Lower thresholds raise recall and false alerts (see
// bench/screen/README.md for the sweep).
package screening

import (
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

// Token weights in a name. Titles, particles and legal forms count a
// little, so "Domino OOD" is closer to "DOMINO GAMES OOD" than "Domino"
// alone, but never make a match on their own.
const (
	weightWord     = 1.0
	weightInitial  = 0.5
	weightParticle = 0.2
	weightLegal    = 0.2
	weightTitle    = 0.1
)

// vocabEntry is one distinct token (or two adjacent tokens joined) of the
// listed names.
type vocabEntry struct {
	text  string // folded text
	key   string // canonical key, or legal-form code
	skel  string // consonant skeleton of key
	class textnorm.Class
	// joined marks an entry made by joining two adjacent listed tokens.
	joined bool
}

// builder holds an index while it is built: maps and slices that grow.
// freeze turns it into an Index of flat arrays (flat.go), the form that
// is searched, written to a file and memory-mapped (file.go).
type builder struct {
	ents  []entity.Entity
	names []nameRec

	vocab  []vocabEntry
	byText map[string]int32   // folded text -> vocab id (Word/Particle/joined)
	bySkel map[string][]int32 // skeleton -> vocab ids (Word only, len >= 4)
	// nbr maps the hash of a canonical key, and of every string made by
	// deleting one byte of a key (or of the text, when it differs), to
	// vocab ids. One probe per string finds keys equal to it or one
	// insertion away; probing a query's deletes finds keys one deletion,
	// substitution or transposition away. Hits are always verified.
	nbr      []hashPair
	postings [][]int32 // vocab id -> name ids

	idents map[identKey][]int32 // normalised identifier -> entity indexes
}

// IndexOptions change what NewIndexWith indexes.
type IndexOptions struct {
	// NoOriginalScript leaves out the names the lists give in their
	// original script (entity.Native names and any name with a Script),
	// so that queries in that script must reach the Latin names by
	// transliteration and consonant keys (the development set's
	// original-script part measures that).
	NoOriginalScript bool
}

// NewIndex builds an index over ents. The slice is kept (not copied), so
// the caller must not modify it afterwards. Names of every type and
// strength are indexed, original-script names included; weak aliases are
// scored lower at search time.
func NewIndex(ents []entity.Entity) *Index {
	return NewIndexWith(ents, IndexOptions{})
}

// NewIndexWith is NewIndex with options.
func NewIndexWith(ents []entity.Entity, opts IndexOptions) *Index {
	// Size the maps from the number of names: a name yields about 27-36
	// deletion-neighbourhood keys on the real lists and about one
	// skeleton. A fixed hint would hold tens of MiB for a small list.
	names := 0
	for i := range ents {
		names += len(ents[i].Names)
	}
	ix := &builder{
		ents:   ents,
		byText: make(map[string]int32),
		bySkel: make(map[string][]int32, names),
		nbr:    make([]hashPair, 0, 32*names),
		idents: make(map[identKey][]int32),
	}
	seen := make(map[string]bool)
	for ei := range ents {
		e := &ents[ei]
		clear(seen)
		for ni, n := range e.Names {
			if opts.NoOriginalScript && (n.Type == entity.Native || n.Script != "") {
				continue
			}
			folded := textnorm.Fold(n.Full)
			if folded == "" || seen[folded] {
				continue
			}
			seen[folded] = true
			ix.addName(int32(ei), int32(ni), n, folded)
		}
		if len(e.Names) == 0 && e.Name != "" {
			ix.addName(int32(ei), -1, entity.Name{Full: e.Name, Type: entity.Primary, Strength: entity.Strong}, textnorm.Fold(e.Name))
		}
		ix.addIdentifiers(int32(ei), e)
		ix.addAddresses(int32(ei), e)
	}
	return ix.freeze()
}

func (ix *builder) addName(ei, ni int32, n entity.Name, folded string) {
	toks := textnorm.AnalyzeFolded(folded)
	if len(toks) == 0 {
		return
	}
	rec := nameRec{ent: ei, nameIdx: ni, weak: n.Strength == entity.Weak, toks: make([]nameTok, 0, len(toks))}
	nid := int32(len(ix.names))
	for _, t := range toks {
		w := tokenWeight(t)
		vid := ix.vocabID(t, false)
		rec.toks = append(rec.toks, nameTok{vid: vid, class: t.Class, weight: w})
		rec.weight += w
		if t.Class == textnorm.Word {
			rec.words++
		}
		ix.post(vid, nid)
	}
	// Adjacent word pairs joined, so that a query "alqaida" finds
	// "AL-QAIDA" and "abdulrahman" finds "ABDUL RAHMAN".
	for i := 0; i+1 < len(toks); i++ {
		a, b := toks[i], toks[i+1]
		if !joinable(a) || !joinable(b) {
			continue
		}
		jt := a.Text + b.Text
		vid := ix.vocabID(textnorm.Token{Text: jt, Key: textnorm.Canon(jt), Class: textnorm.Word}, true)
		ix.post(vid, nid)
	}
	ix.names = append(ix.names, rec)
}

func joinable(t textnorm.Token) bool {
	return t.Class == textnorm.Word || t.Class == textnorm.Particle
}

func tokenWeight(t textnorm.Token) float32 {
	switch t.Class {
	case textnorm.Particle:
		return weightParticle
	case textnorm.LegalForm:
		return weightLegal
	case textnorm.Honorific:
		return weightTitle
	}
	if len(t.Text) == 1 {
		return weightInitial
	}
	return weightWord
}

// vocabID returns the id of the token's vocabulary entry, adding it and its
// look-up keys when new.
func (ix *builder) vocabID(t textnorm.Token, joined bool) int32 {
	if t.Class == textnorm.LegalForm {
		// Legal forms are kept per phrase ("co ltd", "company limited")
		// and compared by code.
		lk := "\x00" + t.Text
		if id, ok := ix.byText[lk]; ok {
			return id
		}
		id := int32(len(ix.vocab))
		ix.vocab = append(ix.vocab, vocabEntry{text: t.Text, key: t.Key, class: t.Class})
		ix.postings = append(ix.postings, nil)
		ix.byText[lk] = id
		return id
	}
	if id, ok := ix.byText[t.Text]; ok {
		if !joined && ix.vocab[id].joined {
			// A real token that was first seen as a join.
			ix.vocab[id].joined = false
			ix.vocab[id].class = t.Class
		}
		return id
	}
	id := int32(len(ix.vocab))
	skel := textnorm.Skeleton(t.Key)
	ix.vocab = append(ix.vocab, vocabEntry{text: t.Text, key: t.Key, skel: skel, class: t.Class, joined: joined})
	ix.postings = append(ix.postings, nil)
	ix.byText[t.Text] = id
	if t.Class == textnorm.Particle {
		return id
	}
	ix.addXKey(id, t.Text) // consonant key, for queries in Arabic script (xscript.go)
	ix.nbr = append(ix.nbr, hashPair{hashSkip(t.Key, -1), id})
	if len(t.Key) >= 4 && len(skel) >= 3 {
		ix.bySkel[skel] = append(ix.bySkel[skel], id)
	}
	if len(t.Key) >= 4 {
		addDelete := func(d uint64) { ix.nbr = append(ix.nbr, hashPair{d, id}) }
		forDeletes(t.Key, addDelete)
		if t.Text != t.Key {
			// Typing errors can change what canonicalisation does
			// ("kaadzic" keys as "kadzik"), so the text's
			// neighbourhood is indexed too.
			addDelete(hashSkip(t.Text, -1))
			forDeletes(t.Text, addDelete)
		}
	}
	return id
}

func (ix *builder) post(vid, nid int32) {
	p := ix.postings[vid]
	if n := len(p); n > 0 && p[n-1] == nid {
		return
	}
	ix.postings[vid] = append(p, nid)
}

// forDeletes calls fn with the hash of every string made by deleting one
// byte of key (once per run of equal bytes).
func forDeletes(key string, fn func(uint64)) {
	for i := 0; i < len(key); i++ {
		if i > 0 && key[i] == key[i-1] {
			continue
		}
		fn(hashSkip(key, i))
	}
}

// hashSkip returns the 64-bit FNV-1a hash of s without the byte at skip
// (skip < 0 hashes all of s). Collisions only cost a wasted similarity
// check: every candidate token is verified.
func hashSkip(s string, skip int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		if i == skip {
			continue
		}
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func appendUniqueID(s []int32, id int32) []int32 {
	for _, x := range s {
		if x == id {
			return s
		}
	}
	return append(s, id)
}
