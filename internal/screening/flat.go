package screening

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/textnorm"
)

// The flat form of the index. Every part of an Index is a slice of a
// plain type without pointers (integers, fixed-size records, bytes), so
// that the same Index is either built in the heap (NewIndex) or a view of
// a memory-mapped file (OpenFile): the file holds these slices as they
// are in memory, and opening it costs a checksum and a few slice headers.
// Strings (vocabulary texts, entity fields) are read from byte blobs
// without copying while a search runs; what a search returns is copied
// to the heap, so that a Match never points into a mapping.

// vocabRec is one vocabulary entry: a distinct token, or two adjacent
// tokens joined, of the listed names.
type vocabRec struct {
	textOff, textLen uint32 // folded text, in strs
	keyOff, keyLen   uint32 // canonical key or legal-form code, in strs
	class            textnorm.Class
	// joined marks an entry made by joining two adjacent listed tokens.
	joined bool
	_      [2]byte
}

// vocabView is a vocabulary entry as the matcher reads it.
type vocabView struct {
	text, key string
	class     textnorm.Class
	joined    bool
}

// nameHdr is one listed name of one entity; its tokens are
// toks[tokOff:tokOff+ntok].
type nameHdr struct {
	ent, nameIdx int32
	tokOff, ntok uint32
	weight       float32 // total token weight
	words        int16   // number of Word tokens
	weak         bool
	_            byte
}

// nameRec is a listed name as the matcher reads it.
type nameRec struct {
	ent     int32
	nameIdx int32
	toks    []nameTok
	weight  float32 // total token weight
	words   int16   // number of Word tokens
	weak    bool
}

// nameTok is one token of one listed name.
type nameTok struct {
	vid    int32
	class  textnorm.Class
	weight float32
}

// hashTable maps 64-bit hashes to one or more int32 values: keys sorted,
// a directory by the top bits of the hash, single values inline and
// longer lists as runs (count, values...) in over. Values keep the order
// in which they were added.
type hashTable struct {
	shift uint      // 64 - directory bits
	dir   []uint32  // bucket -> first key index; len 1<<bits + 1
	keys  []uint64  // sorted
	vals  []uint32  // value, or overflowBit | index of a run in over
	over  []int32   // runs: count, values
	_     [0]func() // not comparable
}

// each calls fn with every value recorded under h.
func (t *hashTable) each(h uint64, fn func(int32)) {
	if len(t.keys) == 0 {
		return
	}
	b := h >> t.shift
	for i := t.dir[b]; i < t.dir[b+1]; i++ {
		k := t.keys[i]
		if k < h {
			continue
		}
		if k > h {
			return
		}
		v := t.vals[i]
		if v&overflowBit == 0 {
			fn(int32(v))
			return
		}
		o := v &^ overflowBit
		n := uint32(t.over[o])
		for _, id := range t.over[o+1 : o+1+n] {
			fn(id)
		}
		return
	}
}

// overflowBit marks a hashTable value that is the index of a run.
const overflowBit = 1 << 31

// hashPair is one value recorded under a hash while an index is built.
type hashPair struct {
	h  uint64
	id int32
}

// newHashTable builds a table from pairs (any order; reordered in place).
// A key's values come out in ascending order, each once: the order in
// which the builder adds them, since it adds ids in ascending order.
func newHashTable(ps []hashPair) hashTable {
	// Counting sort by the top bits (about two pairs a bucket), then
	// insertion sort in each bucket by hash and value: linear time for
	// the million pairs of the bundled lists.
	sb := 0
	if n := len(ps) / 2; n > 1 {
		sb = min(bits.Len(uint(n))-1, 24)
	}
	sshift := uint(64 - sb)
	start := make([]uint32, (1<<sb)+1)
	for _, p := range ps {
		start[(p.h>>sshift)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]hashPair, len(ps))
	next := slices.Clone(start[:len(start)-1])
	for _, p := range ps {
		b := p.h >> sshift
		sorted[next[b]] = p
		next[b]++
	}
	less := func(a, b hashPair) bool { return a.h < b.h || a.h == b.h && a.id < b.id }
	for b := 0; b+1 < len(start); b++ {
		bucket := sorted[start[b]:start[b+1]]
		for i := 1; i < len(bucket); i++ {
			for j := i; j > 0 && less(bucket[j], bucket[j-1]); j-- {
				bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
			}
		}
	}
	// Distinct keys, each with its distinct values.
	nkeys := 0
	for i := range sorted {
		if i == 0 || sorted[i].h != sorted[i-1].h {
			nkeys++
		}
	}
	// About eight keys a bucket: the directory stays small enough to be
	// cached (a few hundred KiB for the bundled lists), and a bucket's
	// keys are one or two cache lines.
	nb := 0
	if n := nkeys / 8; n > 1 {
		nb = min(bits.Len(uint(n))-1, 24)
	}
	t := hashTable{shift: uint(64 - nb), dir: make([]uint32, (1<<nb)+1), keys: make([]uint64, 0, nkeys), vals: make([]uint32, 0, nkeys)}
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].h == sorted[i].h {
			j++
		}
		run := sorted[i:j]
		n := 1
		for k := 1; k < len(run); k++ {
			if run[k].id != run[k-1].id {
				n++
			}
		}
		t.keys = append(t.keys, run[0].h)
		if n == 1 {
			t.vals = append(t.vals, uint32(run[0].id))
		} else {
			t.vals = append(t.vals, overflowBit|uint32(len(t.over)))
			t.over = append(t.over, int32(n))
			for k := range run {
				if k == 0 || run[k].id != run[k-1].id {
					t.over = append(t.over, run[k].id)
				}
			}
		}
		i = j
	}
	b := 0
	for i, k := range t.keys {
		for kb := int(k >> t.shift); b <= kb; b++ {
			t.dir[b] = uint32(i)
		}
	}
	for ; b < len(t.dir); b++ {
		t.dir[b] = uint32(len(t.keys))
	}
	return t
}

// Index answers searches over a fixed set of entities. It is immutable once
// built and safe for concurrent use.
type Index struct {
	nEnts int

	vocab   []vocabRec
	strs    []byte   // vocabulary texts and keys
	textTab []uint32 // open addressing by hashSkip(text): vocab id + 1 (no legal forms)
	nbr     hashTable
	skel    hashTable // hashSkip(skeleton) -> vocab ids (Word only, len >= 4)
	postOff []uint32  // vocab id -> postIDs[postOff[id]:postOff[id+1]]
	postIDs []int32   // name ids

	names []nameHdr
	toks  []nameTok

	entOff   []uint32 // entity -> entBlob[entOff[i]:entOff[i+1]] (entity records, see appendEntity)
	entBlob  []byte
	jsonOff  []uint32 // entity -> its JSON, for Entity and the identifier and address checks
	jsonBlob []byte
	idTab    []uint32  // open addressing by hashSkip(id): entity index + 1
	idents   hashTable // hashIdent -> entity indexes

	pool sync.Pool // *scratch

	// file is the mapping an opened file's slices point into (nil when
	// built in the heap); it is unmapped once the Index is unreachable.
	file *mapping
}

// unsafeString returns b as a string without copying; b must not change.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// voc returns vocabulary entry id.
func (ix *Index) voc(id int32) vocabView {
	r := &ix.vocab[id]
	return vocabView{
		text:   unsafeString(ix.strs[r.textOff : r.textOff+r.textLen]),
		key:    unsafeString(ix.strs[r.keyOff : r.keyOff+r.keyLen]),
		class:  r.class,
		joined: r.joined,
	}
}

// vtext returns the folded text of vocabulary entry id.
func (ix *Index) vtext(id int32) string {
	r := &ix.vocab[id]
	return unsafeString(ix.strs[r.textOff : r.textOff+r.textLen])
}

// textID returns the vocabulary id of a folded word, particle or joined
// pair (not a legal form).
func (ix *Index) textID(text string) (int32, bool) {
	if len(ix.textTab) == 0 {
		return 0, false
	}
	mask := uint64(len(ix.textTab) - 1)
	for i := hashSkip(text, -1) & mask; ; i = (i + 1) & mask {
		v := ix.textTab[i]
		if v == 0 {
			return 0, false
		}
		if ix.vtext(int32(v-1)) == text {
			return int32(v - 1), true
		}
	}
}

// posting returns the ids of the names holding vocabulary entry id.
func (ix *Index) posting(id int32) []int32 {
	return ix.postIDs[ix.postOff[id]:ix.postOff[id+1]]
}

// postingLen returns the number of names holding vocabulary entry id.
func (ix *Index) postingLen(id int32) int {
	return int(ix.postOff[id+1] - ix.postOff[id])
}

// rec returns listed name nid.
func (ix *Index) rec(nid int32) nameRec {
	h := &ix.names[nid]
	return nameRec{ent: h.ent, nameIdx: h.nameIdx, toks: ix.toks[h.tokOff : h.tokOff+h.ntok : h.tokOff+h.ntok],
		weight: h.weight, words: h.words, weak: h.weak}
}

// Len returns the number of indexed entities.
func (ix *Index) Len() int { return ix.nEnts }

// Names returns the number of indexed names (primary names and aliases).
func (ix *Index) Names() int { return len(ix.names) }

// Entity returns the indexed entity with the given id, if any.
func (ix *Index) Entity(id string) (entity.Entity, bool) {
	defer keepAlive(ix)
	ei, ok := ix.entIndex(id)
	if !ok {
		return entity.Entity{}, false
	}
	return ix.entity(ei), true
}

// entIndex returns the index of the entity with the given id.
func (ix *Index) entIndex(id string) (int32, bool) {
	if len(ix.idTab) == 0 {
		return 0, false
	}
	mask := uint64(len(ix.idTab) - 1)
	for i := hashSkip(id, -1) & mask; ; i = (i + 1) & mask {
		v := ix.idTab[i]
		if v == 0 {
			return 0, false
		}
		if r := ix.entReader(int32(v - 1)); r.str() == id {
			return int32(v - 1), true
		}
	}
}

// entity decodes entity ei from its JSON.
func (ix *Index) entity(ei int32) entity.Entity {
	var e entity.Entity
	if err := json.Unmarshal(ix.jsonBlob[ix.jsonOff[ei]:ix.jsonOff[ei+1]], &e); err != nil {
		// The file's checksum held; only a bug in the writer gets here.
		panic(fmt.Sprintf("screening index: entity %d: %v", ei, err))
	}
	return e
}

// Entity records (entBlob): each string as a uvarint length and its
// bytes, in this order: id, list, primary name, kind; the programs (a
// uvarint count plus one, 0 for none, so that nil stays nil); the
// countries and the nationalities (a count, then the codes); the entity's
// places (see entityPlace: the folded words of its addresses' cities,
// regions and countries and of its countries' names, one phrase each);
// its names (a count, then full name, type and strength of each).

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendEntity(b []byte, e *entity.Entity) []byte {
	b = appendStr(b, e.ID)
	b = appendStr(b, e.List)
	b = appendStr(b, e.Name)
	b = appendStr(b, string(e.Kind))
	if e.Programs == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(e.Programs))+1)
	}
	for _, p := range e.Programs {
		b = appendStr(b, p)
	}
	for _, l := range [][]string{e.Countries, e.Nationalities} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, c := range l {
			b = appendStr(b, c)
		}
	}
	var places []string
	norm := func(s string) {
		if s != "" {
			places = append(places, strings.Join(strings.Fields(textnorm.Fold(s)), " "))
		}
	}
	for _, a := range e.Addresses {
		norm(a.City)
		norm(a.Region)
		norm(a.Country)
	}
	for _, c := range e.Countries {
		norm(country.Name(c))
	}
	b = binary.AppendUvarint(b, uint64(len(places)))
	for _, p := range places {
		b = appendStr(b, p)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Names)))
	for _, n := range e.Names {
		b = appendStr(b, n.Full)
		b = appendStr(b, string(n.Type))
		b = appendStr(b, string(n.Strength))
	}
	return b
}

// entReader reads an entity record in order.
type entReader struct{ b []byte }

func (ix *Index) entReader(ei int32) entReader {
	return entReader{ix.entBlob[ix.entOff[ei]:ix.entOff[ei+1]]}
}

func (r *entReader) num() int {
	n, k := binary.Uvarint(r.b)
	r.b = r.b[k:]
	return int(n)
}

func (r *entReader) str() string {
	n := r.num()
	s := unsafeString(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *entReader) skip(n int) {
	for range n {
		r.str()
	}
}

// skipTo moves past the id, list, name and kind (4), the programs (5),
// the countries (6), the nationalities (7) or the places (8).
func (r *entReader) skipTo(field int) {
	for f := 0; f < field; f++ {
		switch {
		case f < 4:
			r.str()
		case f == 4:
			if n := r.num(); n > 0 {
				r.skip(n - 1)
			}
		default:
			r.skip(r.num())
		}
	}
}

// entKind returns the kind of entity ei.
func (ix *Index) entKind(ei int32) entity.Kind {
	r := ix.entReader(ei)
	r.skipTo(3)
	return entity.Kind(r.str())
}

// entMatch returns the fields of a Match that come from entity ei,
// copied to the heap in one string (and the programs in one slice).
func (ix *Index) entMatch(ei int32) Match {
	r := ix.entReader(ei)
	var f [4]string
	n := 0
	for i := range f {
		f[i] = r.str()
		n += len(f[i])
	}
	var progs []string
	if k := r.num(); k > 0 {
		progs = make([]string, k-1)
		for i := range progs {
			progs[i] = r.str()
			n += len(progs[i])
		}
	}
	all := make([]byte, 0, n)
	for _, x := range f {
		all = append(all, x...)
	}
	for _, x := range progs {
		all = append(all, x...)
	}
	one := unsafeString(all) // all is not changed after this
	at := 0
	cut := func(x string) string {
		at += len(x)
		return one[at-len(x) : at]
	}
	m := Match{ID: cut(f[0]), List: cut(f[1]), Name: cut(f[2]), Kind: entity.Kind(cut(f[3]))}
	for i := range progs {
		progs[i] = cut(progs[i])
	}
	m.Programs = progs
	return m
}

// entityCountry reports whether entity ei is tied to country cc, and
// whether the list records any country for it at all.
func (ix *Index) entityCountry(ei int32, cc string) (has, known bool) {
	cc = strings.ToUpper(strings.TrimSpace(cc))
	r := ix.entReader(ei)
	r.skipTo(5)
	for range 2 { // countries, then nationalities
		for range r.num() {
			known = true
			if r.str() == cc {
				return true, true
			}
		}
	}
	return false, known
}

// entityPlace reports whether folded word w is a word of one of entity
// ei's places: the city, region or country of a listed address, or the
// name of a listed country.
func (ix *Index) entityPlace(ei int32, w string) bool {
	if len(w) < 3 {
		return false
	}
	r := ix.entReader(ei)
	r.skipTo(7)
	for range r.num() {
		if containsWord(r.str(), w) {
			return true
		}
	}
	return false
}

// displayName returns a listed name as shown in matches (the full name
// copied to the heap).
func (ix *Index) displayName(rec *nameRec) (string, entity.Name) {
	r := ix.entReader(rec.ent)
	r.skip(2)
	primary := r.str()
	if rec.nameIdx < 0 {
		p := strings.Clone(primary)
		return p, entity.Name{Full: p, Type: entity.Primary, Strength: entity.Strong}
	}
	r = ix.entReader(rec.ent)
	r.skipTo(8)
	n := r.num()
	if int(rec.nameIdx) >= n {
		panic(fmt.Sprintf("screening index: entity %d has no name %d", rec.ent, rec.nameIdx))
	}
	r.skip(3 * int(rec.nameIdx))
	full := strings.Clone(r.str())
	typ := entity.NameType(known(r.str(), nameTypes))
	str := entity.Strength(known(r.str(), strengths))
	return full, entity.Name{Full: full, Type: typ, Strength: str}
}

var (
	nameTypes = []string{string(entity.Primary), string(entity.AKA), string(entity.FKA), string(entity.NKA), string(entity.Variant), string(entity.Native)}
	strengths = []string{string(entity.Strong), string(entity.Weak)}
)

// known returns the string of set equal to s, or a heap copy of s.
func known(s string, set []string) string {
	for _, k := range set {
		if k == s {
			return k
		}
	}
	return strings.Clone(s)
}

// freeze turns a built index into its flat form.
func (ix *builder) freeze() *Index {
	out := &Index{nEnts: len(ix.ents)}
	// Vocabulary and its texts.
	out.vocab = make([]vocabRec, len(ix.vocab))
	n := 0
	for i := range ix.vocab {
		n += len(ix.vocab[i].text) + len(ix.vocab[i].key)
	}
	out.strs = make([]byte, 0, n)
	nText := 0
	for i := range ix.vocab {
		v := &ix.vocab[i]
		r := &out.vocab[i]
		r.textOff, r.textLen = uint32(len(out.strs)), uint32(len(v.text))
		out.strs = append(out.strs, v.text...)
		if v.key == v.text {
			r.keyOff, r.keyLen = r.textOff, r.textLen
		} else {
			r.keyOff, r.keyLen = uint32(len(out.strs)), uint32(len(v.key))
			out.strs = append(out.strs, v.key...)
		}
		r.class, r.joined = v.class, v.joined
		if v.class != textnorm.LegalForm {
			nText++
		}
	}
	out.textTab = openTable(nText)
	for id := range ix.vocab {
		if ix.vocab[id].class != textnorm.LegalForm {
			openInsert(out.textTab, hashSkip(ix.vocab[id].text, -1), uint32(id)+1)
		}
	}
	// Look-up tables.
	out.nbr = newHashTable(ix.nbr)
	ix.nbr = nil
	var skels []hashPair
	for sk, ids := range ix.bySkel {
		for _, id := range ids {
			skels = append(skels, hashPair{hashSkip(sk, -1), id})
		}
	}
	out.skel = newHashTable(skels)
	// Postings.
	out.postOff = make([]uint32, len(ix.postings)+1)
	n = 0
	for _, p := range ix.postings {
		n += len(p)
	}
	out.postIDs = make([]int32, 0, n)
	for i, p := range ix.postings {
		out.postOff[i] = uint32(len(out.postIDs))
		out.postIDs = append(out.postIDs, p...)
	}
	out.postOff[len(ix.postings)] = uint32(len(out.postIDs))
	// Names.
	out.names = make([]nameHdr, len(ix.names))
	n = 0
	for i := range ix.names {
		n += len(ix.names[i].toks)
	}
	out.toks = make([]nameTok, 0, n)
	for i := range ix.names {
		r := &ix.names[i]
		out.names[i] = nameHdr{ent: r.ent, nameIdx: r.nameIdx, tokOff: uint32(len(out.toks)), ntok: uint32(len(r.toks)),
			weight: r.weight, words: r.words, weak: r.weak}
		out.toks = append(out.toks, r.toks...)
	}
	// Entities.
	out.entOff = make([]uint32, len(ix.ents)+1)
	out.jsonOff = make([]uint32, len(ix.ents)+1)
	out.idTab = openTable(len(ix.ents))
	var js bytes.Buffer // every entity's JSON, one a line
	enc := json.NewEncoder(&js)
	for i := range ix.ents {
		e := &ix.ents[i]
		out.entOff[i] = uint32(len(out.entBlob))
		out.entBlob = appendEntity(out.entBlob, e)
		out.jsonOff[i] = uint32(js.Len())
		if err := enc.Encode(e); err != nil {
			// Entities are plain data; Encode cannot fail on them.
			panic(fmt.Sprintf("encoding entity %s: %v", e.ID, err))
		}
		if len(out.entBlob) > 1<<32-1 || js.Len() > 1<<32-1 {
			panic("screening index: entity records over 4 GiB")
		}
	}
	out.jsonBlob = js.Bytes()
	out.entOff[len(ix.ents)] = uint32(len(out.entBlob))
	out.jsonOff[len(ix.ents)] = uint32(len(out.jsonBlob))
	for i := range ix.ents {
		// The last entity with an id wins, as a map would have it.
		out.setID(int32(i))
	}
	out.entBlob = slices.Clip(out.entBlob)
	out.jsonBlob = slices.Clip(out.jsonBlob)
	var idents []hashPair
	for k, eis := range ix.idents {
		for _, ei := range eis {
			idents = append(idents, hashPair{hashIdent(k.t, k.v), ei})
		}
	}
	out.idents = newHashTable(idents)
	return out
}

// setID records entity ei under its id, replacing an earlier entity with
// the same id.
func (ix *Index) setID(ei int32) {
	r := ix.entReader(ei)
	id := r.str()
	mask := uint64(len(ix.idTab) - 1)
	for i := hashSkip(id, -1) & mask; ; i = (i + 1) & mask {
		v := ix.idTab[i]
		if v == 0 {
			ix.idTab[i] = uint32(ei) + 1
			return
		}
		o := ix.entReader(int32(v - 1))
		if o.str() == id {
			ix.idTab[i] = uint32(ei) + 1
			return
		}
	}
}

// openTable returns an empty open-addressing table for n entries: a
// power of two at least twice n.
func openTable(n int) []uint32 {
	size := 2
	for size < 2*n {
		size <<= 1
	}
	return make([]uint32, size)
}

// openInsert puts v (never 0) in the first free slot from h.
func openInsert(t []uint32, h uint64, v uint32) {
	mask := uint64(len(t) - 1)
	i := h & mask
	for t[i] != 0 {
		i = (i + 1) & mask
	}
	t[i] = v
}

// hashIdent is the look-up hash of a normalised identifier of type t.
func hashIdent(t entity.IDType, v string) uint64 {
	h := hashSkip(string(t), -1)
	h ^= 0
	h *= 1099511628211
	for i := 0; i < len(v); i++ {
		h ^= uint64(v[i])
		h *= 1099511628211
	}
	return h
}

// keepAlive keeps ix, and so its mapping, alive until the deferred call
// runs: strings read from the mapping are used up to the end of every
// exported method.
func keepAlive(ix *Index) { runtime.KeepAlive(ix) }
