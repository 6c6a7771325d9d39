package screening

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/namequery"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

// Query is one name to screen. Kind and Country are hints: a listed entity
// of another kind is demoted (an empty Kind searches all kinds), and a
// listed entity tied to other countries only is demoted slightly.
type Query struct {
	Name    string      `json:"name"`
	Kind    entity.Kind `json:"kind,omitempty"`
	Country string      `json:"country,omitempty"`
	Limit   int         `json:"limit,omitempty"` // default 10
}

// Match is one listed entity found for a query.
type Match struct {
	ID          string      `json:"id"`
	List        string      `json:"list"`
	Name        string      `json:"name"`         // the entity's primary name
	MatchedName string      `json:"matched_name"` // the listed name that matched
	Kind        entity.Kind `json:"kind"`
	Programs    []string    `json:"programs"`
	Score       float64     `json:"score"`
	Explanation string      `json:"explanation"`
}

// DefaultLimit is the number of matches returned when Query.Limit is 0.
const DefaultLimit = 10

// Scoring constants. They are calibrated on kinds of variation (see the
// screeneval package) so that 0.90 is the operating threshold.
const (
	minTokenSim     = 0.80 // token pairs below this never align
	kindMismatch    = 0.85 // factor for a listed entity of another kind
	weakAlias       = 0.95 // factor for a weak (remarks-only) alias
	countryMismatch = 0.97 // factor when the query country is not the entity's
	singleTokenCap  = 0.86 // cap when one query word matches part of a longer name
	maxQueryTokens  = 16   // tokens beyond this are ignored
	coverPenalty    = 0.3  // weight of the listed name's uncovered share
)

// qtok is one query token with its vocabulary expansion.
type qtok struct {
	tok  textnorm.Token
	w    float32
	exp  []simVID // sorted by vid
	span int      // for joined look-ups: number of query tokens covered
	role textnorm.Role
	// generic: read as a descriptor or place, even if the query is made
	// of such words only (namequery.Part.Generic)
	generic bool
	// legalWord: a Word that is also a word of a legal form
	legalWord bool
}

type simVID struct {
	vid int32
	sim float32
}

// scratch holds per-search buffers, reused through a pool.
type scratch struct {
	slot    []int32 // name id -> index in acc, or -1
	touched []int32
	acc     [][maxQueryTokens]float32
	cands   []cand
}

type cand struct {
	nid    int32
	approx float32
}

func (ix *Index) getScratch() *scratch {
	if s, ok := ix.pool.Get().(*scratch); ok {
		return s
	}
	s := &scratch{slot: make([]int32, len(ix.names))}
	for i := range s.slot {
		s.slot[i] = -1
	}
	return s
}

func (ix *Index) putScratch(s *scratch) {
	for _, nid := range s.touched {
		s.slot[nid] = -1
	}
	s.touched = s.touched[:0]
	s.acc = s.acc[:0]
	s.cands = s.cands[:0]
	ix.pool.Put(s)
}

// Search returns the entities whose names match q.Name with a score at or
// above threshold, best first (ties: the better covered listed name, then
// list order), at most q.Limit (default 10), each with an explanation. A
// blank name matches nothing; only the first 16 tokens of a name are used.
// See the package documentation for the scoring and its calibration.
func (ix *Index) Search(q Query, threshold float64) (res []Match) {
	defer keepAlive(ix)
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if xs := ix.crossScript(q, threshold); xs != nil {
		// Arabic script or Hebrew: also read by consonant keys (xscript.go).
		defer func() { res = mergeCrossScript(res, xs, limit) }()
	}
	if ix.keysOnly(q.Name) {
		return nil // read by keys and in translation only (xscript.go)
	}
	r := namequery.Read(q.Name)
	if len(r.Parts) == 0 || len(ix.names) == 0 {
		return nil
	}
	if len(r.Parts) == 1 {
		return ix.searchPart(r.Parts[0], q, threshold, limit)
	}
	// Every part on its own and the whole: an entity keeps its best
	// score (on a tie, the earlier reading: the whole first).
	type found struct {
		m     Match
		order int
	}
	best := make(map[string]found)
	order := 0
	for pi, p := range r.Parts {
		for _, m := range ix.searchPart(p, q, threshold, limit) {
			if pi > 0 {
				// A part is less than what was typed: the whole
				// matching a listed name nearly as well wins.
				m.Score = math.Round(m.Score*partFactor*10000) / 10000
				if m.Score < threshold {
					continue
				}
				m.Explanation += fmt.Sprintf("; screened separately: %q (parts: %s)", p.Text, partTexts(r.Parts[1:]))
			}
			if b, ok := best[m.ID]; !ok || m.Score > b.m.Score {
				best[m.ID] = found{m, order}
			}
			order++
		}
	}
	fs := make([]found, 0, len(best))
	for _, f := range best {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b found) int {
		if c := cmp.Compare(b.m.Score, a.m.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	if len(fs) > limit {
		fs = fs[:limit]
	}
	out := make([]Match, len(fs))
	for i, f := range fs {
		out[i] = f.m
	}
	return out
}

// searchPart screens one part of a query (see Search).
func (ix *Index) searchPart(p namequery.Part, q Query, threshold float64, limit int) []Match {
	var qt []qtok
	for i, t := range p.Tokens {
		if len(qt) == maxQueryTokens {
			break
		}
		qt = append(qt, qtok{tok: t, w: tokenWeight(t), span: 1, role: p.Roles[i], generic: p.Generic[i],
			legalWord: t.Class == textnorm.Word && textnorm.LegalWord(t.Text)})
	}
	if len(qt) == 0 {
		return nil
	}
	var wq float32
	for i := range qt {
		wq += qt[i].w
		ix.expand(&qt[i])
	}
	joins := ix.queryJoins(qt)

	s := ix.getScratch()
	defer ix.putScratch(s)
	// Accumulate, per listed name, the best similarity of each query word.
	for i := range qt {
		if qt[i].tok.Class != textnorm.Word {
			continue
		}
		for _, e := range qt[i].exp {
			for _, nid := range ix.posting(e.vid) {
				a := s.slotFor(nid)
				if e.sim > s.acc[a][i] {
					s.acc[a][i] = e.sim
				}
			}
		}
	}
	for _, j := range joins {
		for _, e := range j.exp {
			for _, nid := range ix.posting(e.vid) {
				a := s.slotFor(nid)
				for k := j.first; k < j.first+j.span; k++ {
					if e.sim > s.acc[a][k] {
						s.acc[a][k] = e.sim
					}
				}
			}
		}
	}
	// Upper bound of the query-side coverage; particles and legal forms
	// are assumed to match.
	var wOther, wCore float32
	cores, rareCore := 0, false
	for i := range qt {
		switch {
		case qt[i].tok.Class != textnorm.Word, qt[i].legalWord:
			// A word of a legal form ("sal" inside "Noor Holding Sal
			// South Lebanon") may meet a listed legal form, which the
			// look-ups do not return.
			wOther += qt[i].w
		case qt[i].role == textnorm.None:
			wCore += qt[i].w
			cores++
			for _, e := range qt[i].exp {
				rareCore = rareCore || (e.sim >= 0.88 && ix.informative(e.vid))
			}
		}
	}
	// Optional words (articles, descriptors, places) may be absent from
	// the listed name at no cost when the core of the query can carry
	// the match (see dropOptional): a second bound without them, a little
	// below, so that names holding them too come first.
	optional := wCore+wOther < wq && wCore > 0 && (cores >= 2 || rareCore)
	// The bound is optimistic for particles and legal forms but not for
	// words missed by the look-ups (two typing errors in one word), which
	// exact scoring still finds; hence the margin.
	minApprox := float32(threshold) - 0.45
	for a, nid := range s.touched {
		var m, mc float32
		for i := range qt {
			if qt[i].tok.Class == textnorm.Word && !qt[i].legalWord {
				m += qt[i].w * s.acc[a][i]
				if qt[i].role == textnorm.None {
					mc += qt[i].w * s.acc[a][i]
				}
			}
		}
		approx := (m + wOther) / wq
		if optional {
			approx = max(approx, (mc+wOther)/(wCore+wOther)-0.05)
		}
		if approx >= minApprox {
			s.cands = append(s.cands, cand{nid: nid, approx: approx})
		}
	}
	// Exact scoring costs a few microseconds per name: keep the best
	// candidates close to the threshold, and only the best few of the
	// long tail (names sharing one common word with the query).
	s.cands = topCands(s.cands, float32(threshold)-0.1, max(64, limit*8), 24)

	best := make(map[int32]scored, len(s.cands))
	for _, c := range s.cands {
		r := ix.rec(c.nid)
		rec := &r
		sc := ix.scoreName(qt, wq, rec, q)
		if sc.score < threshold {
			continue
		}
		if b, ok := best[rec.ent]; !ok || sc.score > b.score || (sc.score == b.score && c.nid < b.nid) {
			sc.nid = c.nid
			best[rec.ent] = sc
		}
	}
	out := make([]scored, 0, len(best))
	for _, b := range best {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.qm, a.qm); c != 0 {
			return c
		}
		if c := cmp.Compare(b.cover, a.cover); c != 0 {
			return c
		}
		return cmp.Compare(a.nid, b.nid)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	matches := make([]Match, len(out))
	for i, b := range out {
		matches[i] = ix.toMatch(qt, b)
	}
	return matches
}

// candLess orders candidates best first, then by name id.
func candLess(a, b cand) bool {
	if a.approx != b.approx {
		return a.approx > b.approx
	}
	return a.nid < b.nid
}

// topCands reorders cs in place and returns, best first, its candidates
// scoring at least near (at most maxNear of them) followed by the best
// maxTail of the others, without sorting the whole long tail.
func topCands(cs []cand, near float32, maxNear, maxTail int) []cand {
	n := 0
	for i, c := range cs {
		if c.approx >= near {
			cs[n], cs[i] = cs[i], cs[n]
			n++
		}
	}
	head, tail := cs[:n], cs[n:]
	slices.SortFunc(head, func(a, b cand) int {
		if candLess(a, b) {
			return -1
		}
		if candLess(b, a) {
			return 1
		}
		return 0
	})
	if len(head) > maxNear {
		head = head[:maxNear]
	}
	// Partial selection of the tail's best maxTail by insertion.
	k := 0
	for i := range tail {
		c := tail[i]
		if k == maxTail && !candLess(c, tail[k-1]) {
			continue
		}
		j := min(k, maxTail-1)
		for j > 0 && candLess(c, tail[j-1]) {
			tail[j] = tail[j-1]
			j--
		}
		tail[j] = c
		if k < maxTail {
			k++
		}
	}
	out := cs[:len(head)]
	return append(out, tail[:k]...)
}

func (s *scratch) slotFor(nid int32) int32 {
	a := s.slot[nid]
	if a < 0 {
		a = int32(len(s.acc))
		s.slot[nid] = a
		s.touched = append(s.touched, nid)
		s.acc = append(s.acc, [maxQueryTokens]float32{})
	}
	return a
}

// expand fills t.exp with the vocabulary entries similar to a query token.
func (ix *Index) expand(t *qtok) {
	switch t.tok.Class {
	case textnorm.LegalForm:
		return // compared by code in sim
	}
	t.exp = ix.lookup(t.tok.Text, t.tok.Key, t.tok.Class == textnorm.Particle, t.exp[:0])
}

// lookup returns the vocabulary entries similar to a folded token, with
// their similarity, sorted by vocabulary id.
func (ix *Index) lookup(text, key string, exactOnly bool, out []simVID) []simVID {
	add := func(id int32) {
		for _, e := range out {
			if e.vid == id {
				return
			}
		}
		v := ix.voc(id)
		if v.key != key && absDiff(len(v.text), len(text)) > 3 {
			return // cannot reach minTokenSim
		}
		sim := textnorm.Similarity(text, key, v.text, v.key)
		if sim >= minTokenSim {
			out = append(out, simVID{id, float32(sim)})
		}
	}
	known := false
	if id, ok := ix.textID(text); ok {
		add(id)
		known = !ix.vocab[id].joined
	}
	if exactOnly || len(key) == 0 {
		return out
	}
	ix.nbr.each(hashSkip(key, -1), add)
	if len(key) >= 4 {
		if sk := textnorm.Skeleton(key); len(sk) >= 3 {
			ix.skel.each(hashSkip(sk, -1), add)
		}
		forDeletes(key, func(d uint64) { ix.nbr.each(d, add) })
		// A token that is itself a listed word is taken as spelled
		// right as far as canonicalisation goes; other tokens are also
		// probed by their raw text, since typing errors can change what
		// canonicalisation does ("kaadzic" keys as "kadzik").
		if text != key && !known && !hasStrong(out) {
			ix.nbr.each(hashSkip(text, -1), add)
			forDeletes(text, func(d uint64) { ix.nbr.each(d, add) })
		}
	}
	slices.SortFunc(out, func(a, b simVID) int { return cmp.Compare(a.vid, b.vid) })
	return out
}

// lookupExact returns the vocabulary entries whose text or canonical key
// equals the given ones.
func (ix *Index) lookupExact(text, key string) []simVID {
	var out []simVID
	if id, ok := ix.textID(text); ok {
		out = append(out, simVID{id, 1})
	}
	ix.nbr.each(hashSkip(key, -1), func(id int32) {
		v := ix.voc(id)
		if v.key == key && v.text != text {
			out = append(out, simVID{id, 0.98})
		}
	})
	return out
}

// hasStrong reports whether a look-up already found a near-certain
// variant (similarity 0.9 or more), so that further probing is unlikely to
// find a better one.
func hasStrong(es []simVID) bool {
	for _, e := range es {
		if e.sim >= 0.9 {
			return true
		}
	}
	return false
}

// join is a run of adjacent query tokens looked up as one word.
type join struct {
	first, span int
	text        string
	exp         []simVID
}

// queryJoins looks up runs of two or three adjacent query words joined
// ("al qaida" as "alqaida").
func (ix *Index) queryJoins(qt []qtok) []join {
	var out []join
	for i := range qt {
		if !joinable(qt[i].tok) {
			continue
		}
		text := qt[i].tok.Text
		for n := 2; n <= 3 && i+n <= len(qt); n++ {
			if !joinable(qt[i+n-1].tok) {
				break
			}
			text += qt[i+n-1].tok.Text
			exp := ix.lookupExact(text, textnorm.Canon(text))
			if len(exp) > 0 {
				out = append(out, join{first: i, span: n, text: text, exp: exp})
			}
		}
	}
	return out
}

// scored is the result of scoring one listed name.
type scored struct {
	nid     int32
	score   float64
	cover   float64 // listed-side coverage, a tie-breaker
	qm      float64 // matched query weight, optional words included: the first tie-breaker
	pairs   []pair
	notes   []string
	ignored []string // optional query words left unmatched, at no cost
}

// pair is one alignment between query tokens [qi, qi+qn) and listed tokens
// [li, li+ln).
type pair struct {
	qi, qn, li, ln int
	sim            float64
}

// sim returns the similarity of query token i and listed token lt.
func (ix *Index) sim(t *qtok, lt nameTok) float64 {
	v := ix.voc(lt.vid)
	switch {
	case t.tok.Class == textnorm.LegalForm && lt.class == textnorm.LegalForm:
		if t.tok.Key == v.key {
			return 1
		}
		return 0.6
	case t.tok.Class == textnorm.LegalForm || lt.class == textnorm.LegalForm:
		// A legal-form word recognised on one side only ("DOO" inside a
		// name, "PTY" before "HOLDINGS"): same word, same meaning.
		a, b := t.tok.Text, v.text
		if t.tok.Class == textnorm.LegalForm {
			a, b = b, a
		}
		if a == b || containsWord(b, a) {
			return 1
		}
		if t.tok.Class != textnorm.LegalForm && lt.class == textnorm.LegalForm {
			// A mistyped legal form ("Gnbh", "Ltfd") is still one. A
			// listed word one typing error from a legal-form word was
			// read as that word (SOCIETY as societe, CORPS as corp,
			// LIMITATA as limitada), so a longer query word may be
			// two from it ("Sociegty", "Corls").
			if s := typedWordOf(a, b); s > 0 {
				return s
			}
			if !strings.Contains(b, " ") && len(a) >= 5 && a[0] == b[0] && absDiff(len(a), len(b)) <= 2 && textnorm.OSADistance(a, b) <= 2 {
				return 0.85
			}
			return 0
		}
		return 0
	case t.tok.Class == textnorm.Honorific || lt.class == textnorm.Honorific:
		if t.tok.Class == textnorm.Particle || lt.class == textnorm.Particle {
			return 0
		}
		if t.tok.Text == v.text {
			return 1
		}
		if s := textnorm.Similarity(t.tok.Text, t.tok.Key, v.text, v.key); s >= minTokenSim {
			return s
		}
		return 0
	case t.tok.Class == textnorm.Particle || lt.class == textnorm.Particle:
		if t.tok.Text == v.text {
			return 1
		}
		if t.tok.Class == lt.class {
			return 0.8
		}
		// A mistyped particle ("Lsa", "Ak") is read as a word.
		if lt.class == textnorm.Particle {
			return typedVariant(t.tok.Text, v.text)
		}
		return 0
	}
	if n, ok := slices.BinarySearchFunc(t.exp, lt.vid, func(e simVID, id int32) int { return cmp.Compare(e.vid, id) }); ok {
		return float64(t.exp[n].sim)
	}
	// Initials: "V." against "Vladimir", a weak agreement.
	if len(t.tok.Text) == 1 || len(v.text) == 1 {
		if t.tok.Text[0] == v.text[0] {
			return 0.85
		}
		return 0
	}
	// Not found by the look-ups: compare directly, but only tokens of
	// close lengths; the rest cannot reach minTokenSim in practice.
	a, b := t.tok.Text, v.text
	if absDiff(len(a), len(b)) > 3 {
		return 0
	}
	s := textnorm.Similarity(a, t.tok.Key, b, v.key)
	if s < minTokenSim {
		return 0
	}
	return s
}

// scoreName aligns the query tokens with one listed name and scores it.
func (ix *Index) scoreName(qt []qtok, wq float32, rec *nameRec, q Query) scored {
	nq, nl := len(qt), len(rec.toks)
	type cpair struct {
		pair
		w float64
	}
	var buf [64]cpair
	cands := buf[:0]
	for i := range qt {
		for j, lt := range rec.toks {
			if s := ix.sim(&qt[i], lt); s >= minTokenSim || (s > 0 && (qt[i].tok.Class == textnorm.LegalForm)) {
				cands = append(cands, cpair{pair{i, 1, j, 1, s}, float64(qt[i].w)})
			}
		}
	}
	// Joined runs: query run against one listed word, one query word
	// against a listed run.
	var jb [64]byte
	for i := 0; i < nq; i++ {
		if !joinable(qt[i].tok) {
			continue
		}
		for n := 2; n <= 3 && i+n <= nq; n++ {
			if !joinable(qt[i+n-1].tok) {
				break
			}
			b := jb[:0]
			for k := i; k < i+n; k++ {
				b = append(b, qt[k].tok.Text...)
			}
			for j, lt := range rec.toks {
				v := ix.voc(lt.vid)
				if lt.class != textnorm.Word || v.text[0] != b[0] || absDiff(len(v.text), len(b)) > 3 {
					continue
				}
				if s := textnorm.JaroWinkler(string(b), v.text); s >= 0.88 {
					cands = append(cands, cpair{pair{i, n, j, 1, s}, float64(n) + 0.5})
				}
			}
		}
	}
	// Listed runs may include a legal form: a query word glued to one
	// ("InvestmentsLimited") is the listed word followed by it.
	for j := 0; j < nl; j++ {
		if !joinableClass(rec.toks[j].class) && rec.toks[j].class != textnorm.LegalForm {
			continue
		}
		words := 0
		for n := 2; n <= 3 && j+n <= nl; n++ {
			c := rec.toks[j+n-1].class
			if !joinableClass(c) && c != textnorm.LegalForm {
				break
			}
			if rec.toks[j].class == textnorm.Word {
				words = 1
			}
			if c == textnorm.Word {
				words++
			}
			if words == 0 {
				continue // legal forms alone are compared by code
			}
			b := jb[:0]
			for k := j; k < j+n; k++ {
				for _, ch := range []byte(ix.vtext(rec.toks[k].vid)) {
					if ch != ' ' {
						b = append(b, ch)
					}
				}
			}
			for i := range qt {
				t := qt[i].tok
				if t.Class != textnorm.Word || t.Text[0] != b[0] || absDiff(len(t.Text), len(b)) > 3 {
					continue
				}
				if s := textnorm.JaroWinkler(t.Text, string(b)); s >= 0.88 {
					cands = append(cands, cpair{pair{i, 1, j, n, s}, float64(n) + 0.5})
				}
			}
		}
	}
	slices.SortFunc(cands, func(a, b cpair) int {
		if c := cmp.Compare(b.sim, a.sim); c != 0 {
			return c
		}
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		if c := cmp.Compare(absDiff(a.qi, a.li), absDiff(b.qi, b.li)); c != 0 {
			return c
		}
		return cmp.Compare(a.qi, b.qi)
	})
	var usedQ, usedL uint64
	var sc scored
	for _, c := range cands {
		mq := maskOf(c.qi, c.qn)
		ml := maskOf(c.li, c.ln)
		if usedQ&mq != 0 || usedL&ml != 0 {
			continue
		}
		usedQ |= mq
		usedL |= ml
		sc.pairs = append(sc.pairs, c.pair)
	}

	usedQ = ix.absorbLegalWords(qt, rec, &sc, usedQ)

	// Query coverage weighted by similarity; listed coverage by
	// alignment only, so that a typing error is paid for once.
	var mQ, mL, strong float64
	wQ := float64(wq)
	legalMatched := false
	var coveredL uint64
	for _, p := range sc.pairs {
		eff := effective(p.sim)
		lc := rec.toks[p.li].class
		if qt[p.qi].tok.Class == textnorm.LegalForm || lc == textnorm.LegalForm {
			// Legal forms weigh little; a different one is not a
			// different name.
			eff = p.sim
		}
		if p.qn == 1 && p.ln == 1 && eff < p.sim && lc == textnorm.Word && ix.shortTypo(qt[p.qi].tok.Text, ix.vtext(rec.toks[p.li].vid)) && ix.rareBeside(rec, sc.pairs, p) {
			// One typing error in a word of two to four letters
			// ("Ars" for ARAS, "Alu" for ALI) costs what its
			// similarity says, not twice, next to a rare word
			// matched: short words have low similarities for a
			// single error. Not next to common words only ("EP-MO"
			// is one of many EP- registrations).
			eff = p.sim
		}
		for k := p.qi; k < p.qi+p.qn; k++ {
			w := float64(qt[k].w)
			if p.qn == 1 && p.ln == 1 && qt[k].tok.Class == textnorm.Word && (lc == textnorm.LegalForm || lc == textnorm.Particle) {
				// A query word read as a listed legal form or
				// particle (mistyped, or not recognised) weighs as one.
				lw := float64(rec.toks[p.li].weight)
				wQ -= w - lw
				w = lw
			}
			mQ += w * eff
			if qt[k].tok.Class == textnorm.Word && p.sim >= 0.88 {
				if len(qt[k].tok.Text) == 1 {
					strong += 0.5
				} else {
					strong++
				}
			}
			if qt[k].tok.Class == textnorm.LegalForm && p.sim == 1 {
				legalMatched = true
			}
		}
		for k := p.li; k < p.li+p.ln; k++ {
			if coveredL&(1<<uint(k)) == 0 && k < 64 {
				coveredL |= 1 << uint(k)
				mL += float64(rec.toks[k].weight)
			}
		}
	}
	if legalMatched {
		strong += 0.5
	}
	entKind := ix.entKind(rec.ent)
	otherLegal := hasUnmatchedLegal(rec, coveredL)
	var dropped uint64
	if entKind != entity.Person {
		var d float64
		d, dropped = ix.dropOptional(qt, rec, &sc, usedQ, usedL, otherLegal)
		wQ -= d
	}
	// A legal form in the query where the listed name states none (or
	// none besides those already matched) is unknown rather than
	// different: half credit (unless set aside above).
	if !otherLegal {
		for k := range qt {
			if qt[k].tok.Class == textnorm.LegalForm && usedQ&(1<<uint(min(k, 63))) == 0 && dropped&(1<<uint(min(k, 63))) == 0 {
				mQ += 0.5 * float64(qt[k].w)
			}
		}
	}
	sc.qm = mQ
	S := mQ / wQ
	T := mL / float64(rec.weight)
	score := S * (1 - coverPenalty*(1-T)*(1-T))
	sc.cover = T

	// One matched word is not enough to match a longer listed name.
	unmatchedListedWords := 0
	for j, lt := range rec.toks {
		if lt.class == textnorm.Word && usedL&(1<<uint(j)) == 0 {
			unmatchedListedWords++
		}
	}
	if strong < 1.5 && unmatchedListedWords > 0 && score > singleTokenCap {
		score = singleTokenCap
		sc.notes = append(sc.notes, "only one word matched")
	}
	// An organisation's name that shares only common words with the
	// query ("global trading", "mohammed ali") is another name.
	if entKind != entity.Person && unmatchedListedWords > 0 && score > singleTokenCap && !ix.informativeMatch(qt, rec, sc.pairs) {
		score = singleTokenCap
		sc.notes = append(sc.notes, "only common words matched")
	}
	if q.Kind != "" && entKind != q.Kind {
		score *= kindMismatch
		sc.notes = append(sc.notes, fmt.Sprintf("kind differs (listed as %s)", entKind))
	}
	if rec.weak {
		score *= weakAlias
		sc.notes = append(sc.notes, "weak alias discounted")
	}
	if q.Country != "" {
		if has, known := ix.entityCountry(rec.ent, q.Country); known && !has {
			score *= countryMismatch
			sc.notes = append(sc.notes, "country differs")
		} else if has {
			sc.notes = append(sc.notes, "country matches")
		}
	}
	sc.score = math.Round(min(score, 1)*10000) / 10000
	return sc
}

// absorbLegalWords aligns the query words of a listed legal form of
// several words that the query has split up or reordered ("COMPANY STOCK
// JOINT X" against "JOINT STOCK COMPANY X"): when the query tokens not yet
// aligned, plus any aligned to that legal form, hold every word of it,
// they all align to it with similarity 1. It returns the updated mask of
// aligned query tokens.
func (ix *Index) absorbLegalWords(qt []qtok, rec *nameRec, sc *scored, usedQ uint64) uint64 {
	for j, lt := range rec.toks {
		if lt.class != textnorm.LegalForm || j >= 64 {
			continue
		}
		phrase := ix.vtext(lt.vid)
		if !strings.Contains(phrase, " ") {
			continue
		}
		var take uint64
		need := strings.Count(phrase, " ") + 1
		seen := 0
		for k := range qt {
			if k >= 64 || qt[k].tok.Class == textnorm.Honorific {
				continue
			}
			if usedQ&(1<<uint(k)) != 0 && !alignedTo(sc.pairs, k, j) {
				continue
			}
			all := true
			n := 0
			for rest := qt[k].tok.Text; rest != ""; {
				var w string
				w, rest, _ = strings.Cut(rest, " ")
				if w == "" {
					continue
				}
				if !containsWord(phrase, w) && typedWordOf(w, phrase) == 0 {
					all = false
					break
				}
				n++
			}
			if all && n > 0 {
				take |= 1 << uint(k)
				seen += n
			}
		}
		if seen < need || take&(take-1) == 0 {
			continue // not all words, or a single token (sim handles it)
		}
		ps := sc.pairs[:0]
		for _, p := range sc.pairs {
			if !(p.li == j && p.ln == 1) {
				ps = append(ps, p)
			}
		}
		sc.pairs = ps
		for k := range qt {
			if take&(1<<uint(k)) != 0 {
				sc.pairs = append(sc.pairs, pair{k, 1, j, 1, 1})
				usedQ |= 1 << uint(k)
			}
		}
	}
	return usedQ
}

// hasUnmatchedLegal reports whether a listed name holds a legal form
// outside the aligned tokens used.
func hasUnmatchedLegal(rec *nameRec, used uint64) bool {
	for j, lt := range rec.toks {
		if lt.class == textnorm.LegalForm && (j >= 64 || used&(1<<uint(j)) == 0) {
			return true
		}
	}
	return false
}

// rareBeside reports whether a pair of ps other than p aligned a listed
// word that is informative (see informative) and rare (rareBits or
// more: fewer than one name in a thousand holds it) with similarity
// 0.88 or more.
func (ix *Index) rareBeside(rec *nameRec, ps []pair, p pair) bool {
	for _, o := range ps {
		if o == p || o.sim < 0.88 {
			continue
		}
		for j := o.li; j < o.li+o.ln; j++ {
			if rec.toks[j].class == textnorm.Word && ix.informative(rec.toks[j].vid) && ix.info(rec.toks[j].vid) >= rareBits {
				return true
			}
		}
	}
	return false
}

// rareBits is the information of a word held by one listed name in 1024.
const rareBits = 10

// shortTypo reports whether query word a and listed word b, the shorter
// of two to four letters, are one typing error apart.
func (ix *Index) shortTypo(a, b string) bool {
	if n := min(len(a), len(b)); n < 2 || n > 4 || absDiff(len(a), len(b)) > 1 {
		return false
	}
	return textnorm.OSADistance(a, b) == 1
}

// typedVariant returns 0.85 when a and b (folded, two letters or more)
// are one typing error apart, and 0 otherwise: the similarity given to a
// mistyped particle or legal form.
func typedVariant(a, b string) float64 {
	if len(a) < 2 || len(b) < 2 || a[0] != b[0] || absDiff(len(a), len(b)) > 1 {
		return 0
	}
	if textnorm.OSADistance(a, b) == 1 {
		return 0.85
	}
	return 0
}

// typedWordOf returns 0.85 when w is one typing error away from one of
// the words of the space-separated phrase ("ld" in "co ltd", "lmiitata" in
// "societatea cu raspundere limitata"), and 0 otherwise.
func typedWordOf(w, phrase string) float64 {
	for phrase != "" {
		var f string
		f, phrase, _ = strings.Cut(phrase, " ")
		if s := typedVariant(w, f); s > 0 {
			return s
		}
	}
	return 0
}

// alignedTo reports whether query token k is aligned with listed token j.
func alignedTo(ps []pair, k, j int) bool {
	for _, p := range ps {
		if p.qi == k && p.qn == 1 && p.li == j && p.ln == 1 {
			return true
		}
	}
	return false
}

// effective turns a token similarity into its contribution to a name
// score: from 0.90 up it counts as it is; below, every point lost counts
// twice, so that one loosely similar word (Catalina/Carolina 0.89) next to
// an exact one does not make two different people match.
func effective(s float64) float64 {
	const knee = 0.90
	if s >= knee {
		return s
	}
	return max(0, s-(knee-s))
}

// containsWord reports whether the space-separated phrase holds word w.
func containsWord(phrase, w string) bool {
	for phrase != "" {
		var f string
		f, phrase, _ = strings.Cut(phrase, " ")
		if f == w {
			return true
		}
	}
	return false
}

func joinableClass(c textnorm.Class) bool {
	return c == textnorm.Word || c == textnorm.Particle
}

func maskOf(start, n int) uint64 {
	if start >= 64 {
		return 0
	}
	return ((1 << uint(n)) - 1) << uint(start)
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// toMatch turns a scored name into a Match with its explanation.
func (ix *Index) toMatch(qt []qtok, sc scored) Match {
	r := ix.rec(sc.nid)
	rec := &r
	full, n := ix.displayName(rec)
	var b strings.Builder
	what := "primary name"
	if n.Type != entity.Primary {
		what = "alias"
	}
	strength := n.Strength
	if strength == "" {
		strength = entity.Strong
	}
	fmt.Fprintf(&b, "matched %s %q (%s %s): tokens ", what, full, strength, n.Type)
	ps := slices.Clone(sc.pairs)
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.qi, b.qi) })
	legal := false
	for k, p := range ps {
		if k > 0 {
			b.WriteString(", ")
		}
		qtext := joinTexts(qt, p.qi, p.qn)
		var lts []string
		for j := p.li; j < p.li+p.ln; j++ {
			lts = append(lts, ix.vtext(rec.toks[j].vid))
		}
		ltext := strings.Join(lts, " ")
		if qt[p.qi].tok.Class == textnorm.LegalForm {
			legal = true
			ltext = ix.vtext(rec.toks[p.li].vid)
			if p.sim == 1 {
				fmt.Fprintf(&b, "%s=%s(legal form)", qt[p.qi].tok.Text, ltext)
			} else {
				fmt.Fprintf(&b, "%s~%s(legal form %.2f)", qt[p.qi].tok.Text, ltext, p.sim)
			}
			continue
		}
		if p.sim == 1 && p.qn == 1 && p.ln == 1 {
			fmt.Fprintf(&b, "%s=%s", qtext, ltext)
			continue
		}
		how := ""
		switch {
		case p.qn > 1 || p.ln > 1:
			how = "joined "
		case p.sim == 0.98:
			how = "transliteration "
		}
		fmt.Fprintf(&b, "%s~%s(%s%.2f)", qtext, ltext, how, p.sim)
	}
	if len(ps) == 0 {
		b.WriteString("none")
	}
	var unQ, unL []string
	var usedQ, usedL uint64
	for _, p := range sc.pairs {
		usedQ |= maskOf(p.qi, p.qn)
		usedL |= maskOf(p.li, p.ln)
	}
	var titles []string
	for i := range qt {
		if usedQ&(1<<uint(i)) == 0 && !slices.Contains(sc.ignored, qt[i].tok.Text) {
			switch qt[i].tok.Class {
			case textnorm.Honorific:
				titles = append(titles, qt[i].tok.Text)
				continue
			case textnorm.LegalForm:
				legal = true
			}
			unQ = append(unQ, qt[i].tok.Text)
		}
	}
	for j, lt := range rec.toks {
		if usedL&(1<<uint(j)) == 0 {
			if lt.class == textnorm.LegalForm {
				legal = true
			}
			unL = append(unL, ix.vtext(lt.vid))
		}
	}
	if len(unQ) > 0 {
		fmt.Fprintf(&b, "; unmatched query tokens: %s", strings.Join(unQ, " "))
	}
	if len(unL) > 0 {
		fmt.Fprintf(&b, "; unmatched listed tokens: %s", strings.Join(unL, " "))
	}
	for _, t := range titles {
		fmt.Fprintf(&b, "; title %q ignored", t)
	}
	if legal {
		b.WriteString("; legal forms weigh little")
	}
	if len(sc.ignored) > 0 {
		fmt.Fprintf(&b, "; ignored: %s", strings.Join(sc.ignored, ", "))
	}
	for _, note := range sc.notes {
		b.WriteString("; ")
		b.WriteString(note)
	}
	m := ix.entMatch(rec.ent)
	m.MatchedName = full
	m.Score = sc.score
	m.Explanation = b.String()
	return m
}

func joinTexts(qt []qtok, i, n int) string {
	if n == 1 {
		return qt[i].tok.Text
	}
	parts := make([]string, n)
	for k := range parts {
		parts[k] = qt[i+k].tok.Text
	}
	return strings.Join(parts, "+")
}

// A listed word is common, and carries too little information to make a
// match of an organisation's name on its own ("trading", "mohammed"),
// when it is in at least commonShare of the listed names (and commonMin
// of them, so that small indexes have no common words by count), or when
// it is common in ordinary businesses' names (textnorm.CommonNameWord).
const (
	commonShare = 0.005
	commonMin   = 25
)

// informative reports whether listed token vid is rare enough to identify
// a name. Its document frequency is the length of its postings list, so
// nothing more is stored for it.
func (ix *Index) informative(vid int32) bool {
	df := float64(ix.postingLen(vid))
	if df >= max(commonMin, commonShare*float64(len(ix.names))) {
		return false
	}
	return !textnorm.CommonNameWord(ix.vtext(vid))
}

// info returns the information (inverse document frequency, log2 of the
// number of names over the names holding it) of listed token vid.
func (ix *Index) info(vid int32) float64 {
	df := max(1, ix.postingLen(vid))
	return math.Log2(float64(len(ix.names)) / float64(df))
}

// informativeMatch reports whether a strongly aligned ordinary query word
// (no article, descriptor or place, even in a name made only of those)
// matched a rare listed word, or three or more such words matched
// ("Tehran Chemical Industries"). Places and descriptors do not count:
// "Pakistan Muslim League" is not MILLI MUSLIM LEAGUE PAKISTAN.
func (ix *Index) informativeMatch(qt []qtok, rec *nameRec, ps []pair) bool {
	n := 0
	for _, p := range ps {
		if p.sim >= 0.88 {
			for k := p.qi; k < p.qi+p.qn; k++ {
				if qt[k].tok.Class == textnorm.Word && qt[k].role == textnorm.None && !qt[k].generic {
					n++
				}
			}
		}
	}
	for _, p := range ps {
		if p.sim < 0.88 {
			continue
		}
		for k := p.qi; k < p.qi+p.qn; k++ {
			if qt[k].tok.Class != textnorm.Word || qt[k].role != textnorm.None || qt[k].generic {
				continue
			}
			for j := p.li; j < p.li+p.ln; j++ {
				if ix.informative(rec.toks[j].vid) {
					return true
				}
			}
		}
	}
	if n < 3 {
		return false
	}
	// Three or more common words: informative when the query did not
	// leave out more of the listed name than it matched, counted in
	// information ("Islamic Development Bank" left out regional,
	// cooperation and investment of a listed alias: 31 bits against 21).
	var got, missed float64
	var usedL uint64
	for _, p := range ps {
		usedL |= maskOf(p.li, p.ln)
		if p.sim < 0.88 {
			continue
		}
		ordinary := false
		for k := p.qi; k < p.qi+p.qn; k++ {
			ordinary = ordinary || (qt[k].tok.Class == textnorm.Word && qt[k].role == textnorm.None && !qt[k].generic)
		}
		if !ordinary {
			continue
		}
		for j := p.li; j < p.li+p.ln; j++ {
			if rec.toks[j].class != textnorm.Word {
				continue
			}
			got += ix.info(rec.toks[j].vid)
		}
	}
	for j, lt := range rec.toks {
		if lt.class == textnorm.Word && (j >= 64 || usedL&(1<<uint(j)) == 0) && textnorm.WordRole(ix.vtext(lt.vid), 1) == textnorm.None {
			missed += ix.info(lt.vid)
		}
	}
	return n >= 3 && missed < got
}

// dropOptional returns the weight of the query's optional words (articles,
// function words, descriptors, places) that stayed unmatched, to be taken
// out of the query's weight, and notes them as ignored. It drops nothing
// unless the core of the query matched: a rare ordinary word, two
// ordinary words, or one with two places or descriptors. A descriptor or place is dropped only when every
// ordinary word of the listed name matched (the customer added a word, and
// left none out), and not when the listed name has an unmatched word of
// the same kind: Kurdistan against Korea, Organisation against Front or
// Society is a difference, not an addition. A leading "al" or "el", often
// part of a name, is dropped only next to two words matched exactly, and
// only when every ordinary word of the listed name matched.
func (ix *Index) dropOptional(qt []qtok, rec *nameRec, sc *scored, usedQ, usedL uint64, otherLegal bool) (float64, uint64) {
	n, m, core, exact := 0, 0, false, true
	for _, p := range sc.pairs {
		if p.sim < 0.88 {
			continue
		}
		for k := p.qi; k < p.qi+p.qn; k++ {
			if r := qt[k].role; qt[k].tok.Class == textnorm.Word && (r == textnorm.Place || r == textnorm.Descriptor) {
				m++
			}
			if qt[k].tok.Class == textnorm.Word && qt[k].role == textnorm.None {
				n++
				exact = exact && p.sim >= 0.98
				for j := p.li; j < p.li+p.ln && !core; j++ {
					core = ix.informative(rec.toks[j].vid)
				}
			}
		}
	}
	if !core && n < 2 && (n == 0 || n+m < 3) {
		return 0, 0
	}
	// The listed name's unmatched words, by role.
	var listedWord, listedPlace, listedDescriptor bool
	for j, lt := range rec.toks {
		if j >= 64 || usedL&(1<<uint(j)) != 0 {
			continue
		}
		text := ix.vtext(lt.vid)
		switch lt.class {
		case textnorm.Word:
			switch textnorm.WordRole(text, 1) {
			case textnorm.Place:
				listedPlace = true
			case textnorm.Descriptor:
				listedDescriptor = true
			case textnorm.None:
				listedWord = true
			}
		case textnorm.LegalForm:
			// A legal form written as a word ("society", "company")
			// says what kind of body it is, as a descriptor does.
			if len(text) >= 5 && !strings.Contains(text, " ") {
				listedDescriptor = true
			}
		}
	}
	var drop, dropKind float64
	var dropped uint64
	for k := range qt {
		if k >= 64 || usedQ&(1<<uint(k)) != 0 {
			continue
		}
		switch qt[k].role {
		case textnorm.None:
			if qt[k].tok.Class == textnorm.Particle {
				break // a joining word ("Sazman-e Lashkar-e-Tayyiba")
			}
			if qt[k].tok.Class == textnorm.LegalForm {
				// A second legal form ("Zamanoil DMCC Holdings Ltd"),
				// or one the listed name does not state: optional
				// next to words matched exactly, unless the listed
				// name states another ("Mercy Corps" is not MERI).
				if listedWord || otherLegal || !exact {
					continue
				}
				break
			}
			// A word naming one of the entity's own places (its
			// addresses' cities, regions and countries) is a place.
			if qt[k].tok.Class != textnorm.Word || listedWord || listedPlace || !ix.entityPlace(rec.ent, qt[k].tok.Text) {
				continue
			}
		case textnorm.Article:
			if textnorm.LeadingArticle(qt[k].tok.Text) && (n < 2 || !exact || listedWord) {
				continue
			}
		case textnorm.Place:
			if listedWord || listedPlace {
				continue
			}
		case textnorm.Descriptor:
			if listedWord || listedDescriptor {
				continue
			}
		}
		if exact && (qt[k].role == textnorm.Descriptor || qt[k].role == textnorm.Article || qt[k].role == textnorm.Function) {
			dropKind += float64(qt[k].w)
		} else {
			drop += float64(qt[k].w)
		}
		dropped |= 1 << uint(k)
		sc.ignored = append(sc.ignored, qt[k].tok.Text)
	}
	// What is set aside still costs a little, at most as much as a
	// twentieth of one word, so that a listed name holding those words
	// too ranks first; words that only say what kind of body it is,
	// next to words matched exactly, cost a hundredth.
	return drop - optionalResidual*min(drop, 1) + dropKind - optionalResidualKind*min(dropKind, 1), dropped
}

// partFactor multiplies the score of a match found by one part of a
// query screened on its own ("PKK" of "Kurdistan Workers Party (PKK)").
const partFactor = 0.98

// optionalResidual is the share of their weight (at most one word's) the
// unmatched optional words still cost: nearly nothing, but a listed name
// that holds the place or descriptor too ranks first ("Islamic State
// Khorasan": ISIL-K before ISIL).
const optionalResidual = 0.05

// optionalResidualKind is optionalResidual for descriptors, articles and
// function words next to words matched exactly: "Hamas Movement" is
// HAMAS at 0.99. A place keeps the larger residual, so that a listed
// branch named after it ranks first ("Islamic State Khorasan": ISIL-K,
// khorasan~khurasan 0.97), and so does a word matched with a typo
// ("Raja Casablanca" against RAKA stays below the threshold).
const optionalResidualKind = 0.01

func partTexts(ps []namequery.Part) string {
	ts := make([]string, len(ps))
	for i, p := range ps {
		ts[i] = p.Text
	}
	return strings.Join(ts, " | ")
}

// TokenInfo returns the information of a folded word in the index's names
// (log2 of the number of names over the names holding it; a word in no
// listed name is not found) and whether it is common (see informative).
func (ix *Index) TokenInfo(text string) (info float64, common, found bool) {
	defer keepAlive(ix)
	id, ok := ix.textID(text)
	if !ok || ix.postingLen(id) == 0 {
		return 0, false, false
	}
	return ix.info(id), !ix.informative(id), true
}
