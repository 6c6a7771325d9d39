package screening

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/textnorm"
	"github.com/rampart-edge/rampart/internal/textnorm/translate"
	"github.com/rampart-edge/rampart/internal/textnorm/translit"
)

// Cross-script matching. A query in Arabic script (or Hebrew) has no
// short vowels, so its transliteration ("hms" for حماس) is too far from
// the listed Latin spelling (HAMAS) for token similarity. Such queries are
// also read by consonant keys (package translit, whose documentation
// describes them): every listed word and joined pair of words has its key
// in the look-up table (nbr, under a hash of its own), the query's words
// and runs of two or three words are looked up by theirs, and the names
// found are aligned run by run on equal keys (a query run against one to
// three adjacent listed tokens, the article left out on both sides). A
// run aligns when its key, or the other reading of its last word's end,
// equals the listed run's, their first words both start with a vowel
// letter or both not, and their last words end alike. The score is the
// regular matcher's formula with every aligned word at similarity
// xscriptSim:
//
//	score = xscriptSim * S * (1 - 0.3*(1-T)^2)
//
// where S is the share of the query's words aligned and T the share of the
// listed name's token weight aligned. Optional words count only when they
// align: the query's Arabic function words and descriptors ("في", "حركة"),
// and the listed name's articles, function words, descriptors and places
// (textnorm.WordRole), which keep a fifth of their weight so that the
// plainer name wins a tie (HIZBALLAH over HIZBALLAH BRIGADES). Keys of one
// or two consonants ("dS" for DAESH, "kd" for QAIDA) are too common to look
// up: they align only inside a name that a key of three consonants or more
// found, or when they cover the whole query and the whole listed name. One
// aligned key of fewer than four consonants against a longer listed name
// is capped at singleTokenCap, as in the regular matcher. The kind,
// weak-alias and country factors apply as there. Search merges these
// matches with the regular ones; an entity found both ways keeps its
// better score.
//
// Measured on the bundled lists (TestOriginalScriptNames): the UN list's
// 327 Arabic-script names of people, queried with every original-script
// name left out of the index (IndexOptions.NoOriginalScript), find their
// person first at or above 0.90 294 times (206 with keys alone, before
// the end, start and optional-word rules; 276 before the second readings
// of ظ ض ذ ث, the short-word ranking of candidates and the looser bound;
// 0 with transliteration alone); its 39 organisations 22 times, most of
// the others being translations ("جمعية احياء التراث الاسلامي", REVIVAL
// OF ISLAMIC HERITAGE SOCIETY), which the reading in translation
// (package translate) reaches when its words are in the table. Of the 113
// Arabic-script person names among the yente negatives, one matches: حسین
// موسوی, which is a listed person's name (Hossein MUSAVI).
//
// A name written wholly in Arabic script is not also read by the regular
// matcher (Index.keysOnly), unless keys cannot find it. On the issue 12
// dev set (go test ./internal/screeneval -run TestIssue12Dev -v; noisy
// machine, medians of three) this path with the regular one and the
// translation costs about 190 µs of CPU per native-script query and 190
// µs per hand-written Arabic or Cyrillic group name (go test
// ./internal/screening -run XXX -bench CrossScriptDev -cpu 1 measures
// both together).
const (
	// xscriptSim is the similarity of two words with equal consonant
	// keys: they may still differ in vowels, which neither key shows.
	xscriptSim = 0.95
	// xscriptMinKey is the shortest key that aligns on its own.
	xscriptMinKey = 3
	// xscriptMaxWords bounds the query words read by key.
	xscriptMaxWords = 8
	// xscriptMaxPosting skips a key whose listed words are in more names
	// than this (a common given name): it cannot single out a name.
	xscriptMaxPosting = 2000
	// xscriptMaxCands bounds the names scored: those holding the most
	// query words (by key length), then those closest in length.
	xscriptMaxCands = 64
	// xscriptShortGap bounds the difference in words between the query
	// and a candidate whose short words are checked (crossScriptKeys).
	xscriptShortGap = 2
)

// hashXKey is the look-up hash of a consonant key, kept apart from the
// hashes of canonical keys and their deletions by a leading 0x01.
func hashXKey(key []byte) uint64 {
	h := uint64(14695981039346656037)
	h ^= 1
	h *= 1099511628211
	for _, c := range key {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// addXKey records the consonant key of a listed word (or joined pair).
func (ix *builder) addXKey(id int32, text string) {
	var buf [64]byte
	k := translit.AppendLatinKey(buf[:0], text)
	if len(k) >= 2 {
		ix.nbr = append(ix.nbr, hashPair{hashXKey(k), id})
	}
}

// xunit is a run of query words read as one key.
type xunit struct {
	first, n int
	key      string
	vstart   bool         // its first word starts with a vowel letter
	end      translit.End // how its last word ends
	alt      string       // the key with the last word's other reading (translit.Word.Alt)
	vkey     string       // the key with the words' other readings of letters (translit.Word.Var), or ""
	vids     []int32
}

// translatedFactor scales the score of a match found through the
// translated reading of a query: the table's English word is one reading
// of several ("حركة" is movement, also action).
const translatedFactor = 0.95

// crossScript returns the matches found by consonant keys for a query in
// Arabic script or Hebrew, and those found by its translated reading for
// a query in Arabic script or Cyrillic (package translate: "الجهاد
// الاسلامي المصري" read "jihad islamic egyptian" meets EGYPTIAN ISLAMIC
// JIHAD), or nil for other queries.
func (ix *Index) crossScript(q Query, threshold float64) []Match {
	xs := ix.crossScriptKeys(q, threshold)
	if q.Kind == entity.Person {
		return xs // the table's words are those of organisations' names
	}
	if len(xs) > 0 && xs[0].Score >= translatedFactor {
		return xs // no reading in translation can score higher
	}
	tr, ok := translate.Name(q.Name)
	if !ok || len(ix.names) == 0 {
		return xs
	}
	tq := q
	tq.Name = tr
	var ts []Match
	for _, m := range ix.Search(tq, threshold/translatedFactor) {
		m.Score = math.Round(m.Score*translatedFactor*10000) / 10000
		if m.Score < threshold {
			continue
		}
		m.Explanation = fmt.Sprintf("read in translation as %q: %s", tr, m.Explanation)
		ts = append(ts, m)
	}
	if xs == nil {
		return ts
	}
	return mergeCrossScript(xs, ts, max(len(xs)+len(ts), 1))
}

// crossScriptKeys returns the matches found by consonant keys for a query
// in Arabic script or Hebrew, or nil for other queries.
func (ix *Index) crossScriptKeys(q Query, threshold float64) []Match {
	if !translit.Has(q.Name) || len(ix.names) == 0 {
		return nil
	}
	keys := translit.NativeWords(q.Name)
	if len(keys) == 0 {
		return nil
	}
	if len(keys) > xscriptMaxWords {
		keys = keys[:xscriptMaxWords]
	}
	var units []xunit
	var kb, vkb [64]byte
	for i := range keys {
		b, vb := kb[:0], vkb[:0]
		hasVar := false
		for n := 1; n <= 3 && i+n <= len(keys); n++ {
			prev := len(b)
			last := keys[i+n-1]
			alt := ""
			if last.Alt != "" {
				alt = string(translit.NormKey(appendCollapsed(slices.Clone(b[:prev]), last.Alt)))
			}
			b = translit.NormKey(appendCollapsed(b, last.Key))
			if last.Var != "" {
				hasVar = true
				vb = translit.NormKey(appendCollapsed(vb, last.Var))
			} else {
				vb = translit.NormKey(appendCollapsed(vb, last.Key))
			}
			u := xunit{first: i, n: n, key: string(b), vstart: keys[i].VowelStart, end: last.End, alt: alt}
			if hasVar && string(vb) != u.key {
				u.vkey = string(vb)
			}
			// Short keys are too common to look up; they align only
			// inside a name a longer key found, or as the whole query.
			if len(b) < xscriptMinKey && (n != len(keys) || len(b) < 2) {
				units = append(units, u)
				continue
			}
			var vids []int32
			look := func(k []byte) {
				ix.nbr.each(hashXKey(k), func(id int32) {
					v := ix.voc(id)
					var vb [64]byte
					if v.class == textnorm.Word && string(translit.AppendLatinKey(vb[:0], v.text)) == string(k) {
						vids = append(vids, id)
					}
				})
			}
			look(b)
			if alt != "" && len(alt) >= 2 {
				look([]byte(alt))
			}
			if len(vb) >= xscriptMinKey && u.vkey != "" {
				look(vb)
			}
			u.vids = vids
			units = append(units, u)
		}
	}
	slices.SortStableFunc(units, func(a, b xunit) int { return cmp.Compare(b.n, a.n) })
	// Candidate names: those holding a word found by a unit, with the
	// query words they hold; only the xscriptMaxCands that hold the most
	// (then the shortest) are scored.
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	var masks []uint32 // by slot, as sc.slot gives it
	for _, u := range units {
		m := uint32(maskOf(u.first, u.n))
		for _, id := range u.vids {
			p := ix.posting(id)
			if len(p) > xscriptMaxPosting {
				continue
			}
			for _, nid := range p {
				a := sc.slot[nid]
				if a < 0 {
					a = int32(len(masks))
					sc.slot[nid] = a
					sc.touched = append(sc.touched, nid)
					masks = append(masks, 0)
				}
				masks[a] |= m
			}
		}
	}
	// Select the names holding the most query words, counted by the
	// length of their keys (a longer key is rarer), then those whose
	// number of words is closest to the query's, without sorting all.
	var wlen [32]int
	for i, k := range keys {
		wlen[i] = len(k.Key)
	}
	held := func(m uint32) int {
		n := 0
		for ; m != 0; m &= m - 1 {
			n += wlen[bits.TrailingZeros32(m)]
		}
		return n
	}
	const maxHeld = 64
	var byHeld [maxHeld + 1]int
	for _, m := range masks {
		byHeld[min(held(m), maxHeld)]++
	}
	minHeld, kept := maxHeld, 0
	for ; minHeld > 1 && kept+byHeld[minHeld] < xscriptMaxCands; minHeld-- {
		kept += byHeld[minHeld]
	}
	// In the boundary bucket (held == minHeld), the names holding the
	// query's short words (never looked up: "سنانی" keys sn, SUNANI) go
	// first, then those closest in length: rank them, and count them by
	// rank first. Short words are checked against the vocabulary ids
	// their keys find, for the boundary bucket's names only.
	const maxGap = 15
	const maxShort = 3
	const maxRank = (maxShort+1)*(maxGap+1) - 1
	gapOf := func(nid int32) int { return min(absDiff(int(ix.names[nid].words), len(keys)), maxGap) }
	var byRank [maxRank + 1]int
	ranks := make([]int16, len(sc.touched))
	boundary := 0
	for a, nid := range sc.touched {
		if min(held(masks[a]), maxHeld) == minHeld {
			ranks[a] = int16(gapOf(nid))
			boundary++
		}
	}
	// The short words are checked only when the bucket must be cut, and
	// only for its names within xscriptShortGap words of the query's
	// length (the check costs a look-up per listed token).
	var short []shortSet
	if boundary > xscriptMaxCands-kept {
		short = ix.shortWordSets(keys)
	}
	for a, nid := range sc.touched {
		if min(held(masks[a]), maxHeld) != minHeld {
			continue
		}
		if len(short) > 0 {
			missing := len(short)
			if ranks[a] <= xscriptShortGap {
				missing = 0
				for i := range short {
					set := &short[i]
					if !set.holdsAny(ix.rec(nid).toks) {
						missing++
					}
				}
			}
			ranks[a] += int16(min(missing, maxShort) * (maxGap + 1))
		}
		byRank[ranks[a]]++
	}
	maxRankTaken, room := 0, xscriptMaxCands-kept
	for ; maxRankTaken < maxRank && room-byRank[maxRankTaken] > 0; maxRankTaken++ {
		room -= byRank[maxRankTaken]
	}
	type xcand struct {
		nid  int32
		held int
		gap  int // rank in the boundary bucket
	}
	var cands []xcand
	for a, nid := range sc.touched {
		h := min(held(masks[a]), maxHeld)
		if h < minHeld {
			continue
		}
		g := int(ranks[a])
		if h == minHeld && g > maxRankTaken {
			continue
		}
		cands = append(cands, xcand{nid, h, g})
	}
	slices.SortFunc(cands, func(a, b xcand) int {
		if c := cmp.Compare(b.held, a.held); c != 0 {
			return c
		}
		if c := cmp.Compare(a.gap, b.gap); c != 0 {
			return c
		}
		return cmp.Compare(a.nid, b.nid)
	})
	if len(cands) > xscriptMaxCands {
		cands = cands[:xscriptMaxCands]
	}
	// Words that may align in any name: short keys (never looked up)
	// and words found nowhere (they may still meet a listed run that is
	// no vocabulary entry). A name holding too few of the others cannot
	// reach the threshold: S is at most what it holds and these.
	// Only a word found on its own counts as found: a word found
	// within a run elsewhere may still align here with listed tokens
	// that make no vocabulary entry together ("عبد الاحد", ABDUL AHAD).
	var found, optional uint32
	for _, u := range units {
		if len(u.vids) > 0 && u.n == 1 {
			found |= uint32(maskOf(u.first, u.n))
		}
	}
	for i, k := range keys {
		if k.Optional {
			optional |= 1 << uint(i)
		}
	}
	free := uint32(maskOf(0, len(keys))) &^ found
	best := make(map[int32]Match)
	for _, c := range cands {
		may := (masks[sc.slot[c.nid]] | free)
		essential := bits.OnesCount32(uint32(maskOf(0, len(keys))) &^ optional)
		// One more word may align with a run of listed tokens that is
		// no vocabulary entry ("عبدالرحمن" against ABD AL-RAHMAN).
		n := min(bits.OnesCount32(may)+1, len(keys))
		if xscriptSim*float64(n)/float64(essential+bits.OnesCount32(may&optional)) < threshold {
			continue
		}
		m, ok := ix.scoreXScript(keys, units, c.nid, q, threshold)
		if !ok {
			continue
		}
		ent := ix.names[c.nid].ent
		if b, ok := best[ent]; !ok || m.Score > b.Score {
			best[ent] = m
		}
	}
	out := make([]Match, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// shortSet is the set of vocabulary ids a short query word may meet:
// sorted, with a 4096-bit filter of their low bits that rejects most
// listed tokens before the search.
type shortSet struct {
	ids    []int32
	filter [64]uint64
}

// holdsAny reports whether one of toks is in the set.
func (s *shortSet) holdsAny(toks []nameTok) bool {
	for _, t := range toks {
		b := uint32(t.vid) & 4095
		if s.filter[b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		if _, ok := slices.BinarySearch(s.ids, t.vid); ok {
			return true
		}
	}
	return false
}

// shortWordSets returns, for each of the query's words that are not
// optional and key shorter than xscriptMinKey, the sorted vocabulary ids
// of the listed words with its key (or its other readings); at most
// maxShortWords words, none whose key is found in more than
// xscriptMaxPosting listed words.
func (ix *Index) shortWordSets(keys []translit.Word) []shortSet {
	const maxShortWords = 3
	var out []shortSet
	for _, k := range keys {
		if k.Optional || len(k.Key) >= xscriptMinKey || len(out) == maxShortWords {
			continue
		}
		var set []int32
		for _, key := range [3]string{k.Key, k.Var, k.Alt} {
			if key == "" {
				continue
			}
			ix.nbr.each(hashXKey([]byte(key)), func(id int32) {
				v := ix.voc(id)
				var vb [64]byte
				if v.class == textnorm.Word && len(set) <= xscriptMaxPosting && string(translit.AppendLatinKey(vb[:0], v.text)) == key {
					set = append(set, id)
				}
			})
		}
		if len(set) == 0 || len(set) > xscriptMaxPosting {
			continue
		}
		slices.Sort(set)
		ss := shortSet{ids: set}
		for _, id := range set {
			b := uint32(id) & 4095
			ss.filter[b>>6] |= 1 << (b & 63)
		}
		out = append(out, ss)
	}
	return out
}

// appendCollapsed appends key to b, a doubled class at the seam collapsed.
func appendCollapsed[K string | []byte](b []byte, key K) []byte {
	if len(b) > 0 && len(key) > 0 && b[len(b)-1] == key[0] {
		key = key[1:]
	}
	return append(b, key...)
}

// scoreXScript aligns the query's keys with one listed name.
// It reports false, without building the explanation, when the score is
// below threshold.
func (ix *Index) scoreXScript(keys []translit.Word, units []xunit, nid int32, q Query, threshold float64) (Match, bool) {
	r := ix.rec(nid)
	rec := &r
	// The listed tokens that count: words, particles other than the
	// article, legal forms and titles with their weights.
	type ltok struct {
		j              int
		key            []byte // in arena
		vstart, either bool   // starts with a vowel; or either way
		end            translit.End
		w              float64
	}
	var ltBuf [24]ltok
	var arena [256]byte
	lts, ar := ltBuf[:0], arena[:0]
	var wL float64
	for j, t := range rec.toks {
		v := ix.voc(t.vid)
		next := ""
		if j+1 < len(rec.toks) {
			next = ix.vtext(rec.toks[j+1].vid)
		}
		if t.class == textnorm.Particle && translit.IsArticle(v.text, next) {
			continue
		}
		vs, either := translit.LatinVowelStart(v.text)
		start := len(ar)
		var kb [32]byte
		ar = append(ar, translit.AppendLatinKey(kb[:0], v.text)...)
		lts = append(lts, ltok{j, ar[start:len(ar):len(ar)], vs, either, translit.LatinEnd(v.text), float64(t.weight)})
		wL += float64(t.weight)
	}
	if wL == 0 {
		return Match{}, false
	}
	// Greedy alignment: longer query runs first, then earlier ones; a
	// query run meets a run of one to three adjacent listed tokens with
	// the same key.
	order := units // sorted by crossScript: longer runs first
	var usedQ, usedL uint64
	var mL float64
	matchedQ := 0
	type al struct {
		u      xunit
		li, ln int
	}
	var als []al
	var kb [64]byte
	// The keys of the listed runs of one to three tokens, made once:
	// runs[3*a+m-1] is the run of m tokens from a.
	var runBuf [72][]byte
	var runArena [512]byte
	runs, ra := runBuf[:0], runArena[:0]
	for a := range lts {
		b := kb[:0]
		for m := 1; m <= 3; m++ {
			if a+m > len(lts) {
				runs = append(runs, nil)
				continue
			}
			b = translit.NormKey(appendCollapsed(b, lts[a+m-1].key))
			start := len(ra)
			ra = append(ra, b...)
			runs = append(runs, ra[start:len(ra):len(ra)])
		}
	}
	for _, u := range order {
		mq := maskOf(u.first, u.n)
		if usedQ&mq != 0 {
			continue
		}
		for a := 0; a < len(lts); a++ {
			if lts[a].vstart != u.vstart && !lts[a].either {
				continue
			}
			found := -1
			for m := 1; m <= 3 && a+m <= len(lts); m++ {
				b := runs[3*a+m-1]
				if (string(b) == u.key || u.vkey != "" && string(b) == u.vkey) && u.end.Agree(lts[a+m-1].end) || u.alt != "" && string(b) == u.alt {
					found = m
					break
				}
			}
			if found < 0 {
				continue
			}
			ml := maskOf(a, found)
			if usedL&ml != 0 {
				continue
			}
			usedQ |= mq
			usedL |= ml
			matchedQ += u.n
			for k := a; k < a+found; k++ {
				mL += lts[k].w
			}
			als = append(als, al{u, a, found})
			break
		}
	}
	// Optional words (function words, descriptors; places and the
	// like on the listed side) count only when they matched.
	var wordsQ, essentialQ int
	for i, k := range keys {
		matched := usedQ&(1<<uint(i)) != 0
		if matched && !k.Optional {
			essentialQ++
		}
		if matched || !k.Optional {
			wordsQ++
		}
	}
	if essentialQ == 0 {
		return Match{}, false
	}
	// A name is anchored by a key of three consonants or more, or by
	// short keys covering the whole query and the whole listed name.
	anchored := false
	for _, a := range als {
		anchored = anchored || len(a.u.key) >= xscriptMinKey
	}
	if !anchored && (matchedQ != len(keys) || usedL != maskOf(0, len(lts))) {
		return Match{}, false
	}
	// The listed tokens that must match for the whole name to count as
	// matched: all but the optional ones.
	required := maskOf(0, len(lts))
	for k, lt := range lts {
		t := rec.toks[lt.j]
		if usedL&(1<<uint(k)) == 0 && t.class == textnorm.Word && textnorm.WordRole(ix.vtext(t.vid), lt.j) != textnorm.None {
			wL -= 0.8 * lt.w // optional: a fifth of its weight, a tie-breaker
			required &^= 1 << uint(k)
		}
	}
	S := float64(matchedQ) / float64(wordsQ)
	T := mL / wL
	score := xscriptSim * S * (1 - coverPenalty*(1-T)*(1-T))
	var notes []string
	if len(als) == 1 && len(als[0].u.key) < 4 && usedL&required != required && score > singleTokenCap {
		score = singleTokenCap
		notes = append(notes, "only one word matched")
	}
	entKind := ix.entKind(rec.ent)
	if q.Kind != "" && entKind != q.Kind {
		score *= kindMismatch
		notes = append(notes, fmt.Sprintf("kind differs (listed as %s)", entKind))
	}
	if rec.weak {
		score *= weakAlias
		notes = append(notes, "weak alias discounted")
	}
	if q.Country != "" {
		if has, known := ix.entityCountry(rec.ent, q.Country); known && !has {
			score *= countryMismatch
			notes = append(notes, "country differs")
		} else if has {
			notes = append(notes, "country matches")
		}
	}
	score = math.Round(min(score, 1)*10000) / 10000
	if score < threshold {
		return Match{}, false
	}
	full, n := ix.displayName(rec)
	what := "primary name"
	if n.Type != entity.Primary {
		what = "alias"
	}
	strength := n.Strength
	if strength == "" {
		strength = entity.Strong
	}
	var b strings.Builder
	fmt.Fprintf(&b, "matched %s %q (%s %s) across scripts by consonant keys: ", what, full, strength, n.Type)
	slices.SortFunc(als, func(a, b al) int { return cmp.Compare(a.u.first, b.u.first) })
	for i, a := range als {
		if i > 0 {
			b.WriteString(", ")
		}
		var ws []string
		for k := a.li; k < a.li+a.ln; k++ {
			ws = append(ws, ix.vtext(rec.toks[lts[k].j].vid))
		}
		fmt.Fprintf(&b, "%s=%s(%s)", a.u.key, strings.Join(ws, " "), "vowels unknown")
	}
	if matchedQ < len(keys) {
		fmt.Fprintf(&b, "; %d of %d query words unmatched", len(keys)-matchedQ, len(keys))
	}
	if T < 1 {
		var un []string
		for k, lt := range lts {
			if usedL&(1<<uint(k)) == 0 {
				un = append(un, ix.vtext(rec.toks[lt.j].vid))
			}
		}
		fmt.Fprintf(&b, "; unmatched listed tokens: %s", strings.Join(un, " "))
	}
	for _, note := range notes {
		b.WriteString("; ")
		b.WriteString(note)
	}
	m := ix.entMatch(rec.ent)
	m.MatchedName = full
	m.Score = score
	m.Explanation = b.String()
	return m, true
}

// mergeCrossScript adds the cross-script matches xs to ms: an entity in
// both keeps the better score; the result is sorted best first and cut
// to limit.
func mergeCrossScript(ms, xs []Match, limit int) []Match {
	if len(xs) == 0 {
		return ms
	}
	out := slices.Clone(ms)
	for _, x := range xs {
		i := slices.IndexFunc(out, func(m Match) bool { return m.ID == x.ID })
		switch {
		case i < 0:
			out = append(out, x)
		case x.Score > out[i].Score:
			out[i] = x
		}
	}
	slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// keysOnly reports whether a query is read only by consonant keys and in
// translation, not by the regular matcher: a name written wholly in
// Arabic script, whose transliteration is a consonant sketch ("hmd rja
// slh altkriti") that token similarity seldom brings to the listed Latin
// spelling, while it costs the regular path 80-110 µs on the bundled
// lists' candidates for its short, common sketches. A name whose words
// all key as fewer than xscriptMinKey consonants ("اياد اغ غالي", IYAD AG
// GHALI: d, g, gl) cannot be found by keys; the regular path reads it
// too, and so it does a name whose every transliterated word is a listed
// word (the lists' own original-script names, which the index holds in
// transliteration: "حزب الله" is "hzb al lh" there).
func (ix *Index) keysOnly(s string) bool {
	if !translit.Has(s) {
		return false
	}
	for _, r := range s {
		if r < 0x600 && unicode.IsLetter(r) || r >= 0x780 && unicode.IsLetter(r) {
			return false
		}
	}
	anchored := false
	for _, w := range translit.NativeWords(s) {
		anchored = anchored || !w.Optional && len(w.Key) >= xscriptMinKey
	}
	if !anchored {
		return false
	}
	for _, w := range strings.Fields(textnorm.Fold(s)) {
		if _, ok := ix.textID(w); !ok {
			return true
		}
	}
	return false
}
