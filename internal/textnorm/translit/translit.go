// Package translit reads names written in Arabic script (Arabic, Persian,
// Urdu, Pashto letters) and Hebrew in Latin letters, and gives names in any
// of these scripts and in Latin a consonant key on which they can meet.
//
// # Transliteration
//
// Latin turns Arabic- and Hebrew-script letters into Latin ones, letter by
// letter, close to the common English romanisation (ث th, خ kh, ذ dh, ش sh,
// غ gh, ق q, ع and ء dropped, ة a; Persian پ p, چ ch, ژ zh, گ g, ک k, ی y;
// Urdu ٹ t, ڈ d, ڑ r, ں n, ھ h, ے e; Pashto ټ t, ډ d, ړ r, ښ sh, ځ z, څ ts,
// ږ zh, ڼ n). The article ال at the start of a word is written apart
// ("al shbab"). Short vowels are not written in either script, so the
// result is a consonant sketch: "طالبان" reads "talban", "حزب الله" "hzb al
// lh". The go-unidecode tables, which Fold used before, drop alif and read
// Persian ک as kh; golang.org/x/text has no transliterator; hence this
// table. Cyrillic and Greek are left to unidecode, whose romanisation (Х kh,
// Ц ts, Щ shch, Ю iu, Я ia, Й i) meets BGN/PCGN's (Yu, Ya, Y) through
// textnorm.Canon, which reads y as i; Latin only reads the modern Greek
// digraphs unidecode spells letter by letter first (μπ b, ντ d, γκ g, γγ
// ng, τσ ts, τζ dz: "Ταλιμπάν" is Taliban).
//
// # Consonant keys
//
// Transliteration cannot restore the vowels: "حماس" reads "hms", which no
// edit-based similarity brings close to HAMAS. The consonant key bridges
// that. Both sides are reduced to classes of consonants:
//
//   - Latin and Arabic vowels are dropped, and so are the letters that
//     write long vowels or glides in one script and vowels in the other (ا
//     و ي ى ع ء, Latin a e i o u y w v), so "hamas" and "حماس" both key as
//     "hms";
//   - emphatic and pharyngeal consonants fall together with the plain ones
//     Latin writes for them (ص س → s, ض د ذ → d, ط ت ث → t, ظ ز → z, ح خ ه
//     → h, ق ك ک → k, غ گ ج → g, ش چ → S: ج is j, and g in Egyptian
//     spellings, RAGAB for رجب); Latin digraphs are read first (kh h, gh
//     g, sh and ch S, th t, dh d, zh z, ph f, dj and j g, q k, x ks, p b);
//   - the letters romanisations write two ways have a second key
//     (Word.Var): ظ as d, ض and ذ as z, ث as s (HAFED for حافظ, Persian
//     FAZL for فضل, GHIASS for غیاث);
//   - a word-final h (Latin) or ه ة (Arabic) is dropped: ta marbuta is
//     written "a", "ah" or "at", and "Allah" ends in h in both;
//   - the article is dropped: Arabic ال at the start of a word, Latin "al",
//     "el", "ul", "il" as a word, and a sun-letter article ("ash", "ad",
//     "an", ...) before a word that starts with its consonant ("ash
//     shabaab");
//   - doubled classes collapse after all that (Arabic writes no shadda, and
//     HIZBALLAH's geminate ll is one l of الله), and a class followed by h
//     merges as the Latin digraphs do (NormKey: "إسحاق" keys as ISHAQ);
//     keys starting "bdl" (ABDUL, ABDEL, عبدال) drop the l.
//
// So "حزب الله" keys as "hzb"+"l" = "hzbl", like HIZBALLAH; "طالبان" and
// TALIBAN key "tlbn"; "داعش" and DAESH "dS"; "الشباب" and AL-SHABAAB "Sb";
// "חמאס" and HAMAS "hms". A key has no vowels, so NativeWords also says how
// each word starts and ends (a vowel letter or not: "احسان" Ehsan is not
// "حسین" Hossein, "محمدی" Mohammadi is not MUHAMMAD), gives the other
// reading of its end (ة as t, a final ح or ه with or without h), and marks
// function words and descriptors ("في", "حركة") as optional. Equal keys
// suggest the same name; screening uses them only for queries in these
// scripts and scores such matches below an exact spelling (see
// screening's xscript.go, which also gives the measured figures).
package translit

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// letter describes one Arabic- or Hebrew-script letter.
type letter struct {
	latin string // transliteration
	class byte   // consonant class; 0 for a vowel letter, dropped
	final bool   // dropped at the end of a word (ه ة)
}

var letters = map[rune]letter{
	// Arabic.
	'ء': {"", 0, false}, 'آ': {"a", 0, false}, 'أ': {"a", 0, false}, 'ؤ': {"u", 0, false},
	'إ': {"i", 0, false}, 'ئ': {"i", 0, false}, 'ا': {"a", 0, false}, 'ٱ': {"a", 0, false},
	'ب': {"b", 'b', false}, 'ة': {"a", 0, true}, 'ت': {"t", 't', false}, 'ث': {"th", 't', false},
	'ج': {"j", 'g', false}, 'ح': {"h", 'h', false}, 'خ': {"kh", 'h', false}, 'د': {"d", 'd', false},
	'ذ': {"dh", 'd', false}, 'ر': {"r", 'r', false}, 'ز': {"z", 'z', false}, 'س': {"s", 's', false},
	'ش': {"sh", 'S', false}, 'ص': {"s", 's', false}, 'ض': {"d", 'd', false}, 'ط': {"t", 't', false},
	'ظ': {"z", 'z', false}, 'ع': {"", 0, false}, 'غ': {"gh", 'g', false}, 'ف': {"f", 'f', false},
	'ق': {"q", 'k', false}, 'ك': {"k", 'k', false}, 'ل': {"l", 'l', false}, 'م': {"m", 'm', false},
	'ن': {"n", 'n', false}, 'ه': {"h", 'h', true}, 'و': {"w", 0, false}, 'ى': {"a", 0, false},
	'ي': {"y", 0, false}, 'ـ': {"", 0, false},
	// Persian.
	'پ': {"p", 'b', false}, 'چ': {"ch", 'S', false}, 'ژ': {"zh", 'z', false}, 'ک': {"k", 'k', false},
	'گ': {"g", 'g', false}, 'ی': {"y", 0, false}, 'ۀ': {"h", 'h', true},
	// Urdu.
	'ٹ': {"t", 't', false}, 'ڈ': {"d", 'd', false}, 'ڑ': {"r", 'r', false}, 'ں': {"n", 'n', false},
	'ھ': {"h", 'h', false}, 'ہ': {"h", 'h', true}, 'ۃ': {"a", 0, true}, 'ے': {"e", 0, false},
	'ۓ': {"e", 0, false},
	// Pashto.
	'ټ': {"t", 't', false}, 'ډ': {"d", 'd', false}, 'ړ': {"r", 'r', false}, 'ږ': {"zh", 'z', false},
	'ښ': {"sh", 'S', false}, 'ځ': {"z", 'z', false}, 'څ': {"ts", 's', false}, 'ڼ': {"n", 'n', false},
	'ې': {"e", 0, false}, 'ۍ': {"ai", 0, false},
	// Hebrew (final forms too). Vowel points are combining marks.
	'א': {"a", 0, false}, 'ב': {"b", 'b', false}, 'ג': {"g", 'g', false}, 'ד': {"d", 'd', false},
	'ה': {"h", 'h', true}, 'ו': {"v", 0, false}, 'ז': {"z", 'z', false}, 'ח': {"h", 'h', false},
	'ט': {"t", 't', false}, 'י': {"y", 0, false}, 'כ': {"k", 'k', false}, 'ך': {"k", 'k', false},
	'ל': {"l", 'l', false}, 'מ': {"m", 'm', false}, 'ם': {"m", 'm', false}, 'נ': {"n", 'n', false},
	'ן': {"n", 'n', false}, 'ס': {"s", 's', false}, 'ע': {"", 0, false}, 'פ': {"f", 'f', false},
	'ף': {"f", 'f', false}, 'צ': {"ts", 's', false}, 'ץ': {"ts", 's', false}, 'ק': {"k", 'k', false},
	'ר': {"r", 'r', false}, 'ש': {"sh", 'S', false}, 'ת': {"t", 't', false},
}

// Has reports whether s holds a letter this package reads (Arabic script
// or Hebrew).
func Has(s string) bool {
	for _, r := range s {
		if r >= 0x590 && r < 0x780 {
			if _, ok := letters[r]; ok {
				return true
			}
		}
	}
	return false
}

// Latin returns s with its Arabic- and Hebrew-script letters written in
// Latin letters (see the package documentation); other characters are
// kept as they are, so it can run before a general transliterator. An
// Arabic word starting with the article ال is written "al " and the rest.
func Latin(s string) string {
	if hasGreekDigraph(s) {
		s = greekDigraphs.Replace(s)
	}
	if !Has(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	start := true // at the start of a word
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		l, ok := letters[r]
		if !ok {
			if r == utf8.RuneError && n == 1 {
				// An invalid byte is written as U+FFFD: kept, two of them
				// could join around a dropped letter into one ("\xd9ـ\x80").
				b.WriteString("\uFFFD")
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			start = !isWordRune(r)
			continue
		}
		if start && r == 'ا' && articleAt(s[i:]) {
			b.WriteString("al ")
			i += len("ال")
			start = false
			continue
		}
		switch {
		case r == 'و' && !start:
			b.WriteString("u")
		case r == 'ي' && !start, r == 'ی' && !start:
			b.WriteString("i")
		default:
			b.WriteString(l.latin)
		}
		start = false
		i += n
	}
	return b.String()
}

// greekDigraphs are the consonant digraphs of modern Greek that
// letter-by-letter transliteration (unidecode) reads as two sounds: μπ is
// b ("Ταλιμπάν", Taliban), ντ d, γκ g, γγ ng, τσ ts, τζ dz.
var greekDigraphs = strings.NewReplacer(
	"μπ", "b", "Μπ", "B", "ΜΠ", "B",
	"ντ", "d", "Ντ", "D", "ΝΤ", "D",
	"γκ", "g", "Γκ", "G", "ΓΚ", "G",
	"γγ", "ng", "ΓΓ", "NG",
	"τσ", "ts", "Τσ", "Ts", "ΤΣ", "TS",
	"τζ", "dz", "Τζ", "Dz", "ΤΖ", "DZ",
)

// hasGreekDigraph reports whether s may hold one of greekDigraphs.
func hasGreekDigraph(s string) bool {
	for _, r := range s {
		switch r {
		case 'μ', 'Μ', 'ν', 'Ν', 'γ', 'Γ', 'τ', 'Τ':
			return true
		}
	}
	return false
}

// articleAt reports whether w starts with the article ال followed by at
// least two more letters.
func articleAt(w string) bool {
	rest, ok := strings.CutPrefix(w, "ال")
	if !ok {
		return false
	}
	n := 0
	for _, r := range rest {
		if !isWordRune(r) {
			break
		}
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n >= 2
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)
}

// End is how a word ends: in a consonant, in a vowel, or either (Arabic
// ة and final ه, read "a", "ah", "at" or "eh"; a Latin vowel and h).
type End byte

// Word endings.
const (
	EndConsonant End = 'C'
	EndVowel     End = 'V'
	EndEither    End = '?'
)

// Agree reports whether two endings may be the same: "محمدی" (ending in a
// vowel letter, Mohammadi) is not MUHAMMAD, whose consonant keys are the
// same.
func (e End) Agree(o End) bool { return e == o || e == EndEither || o == EndEither }

// Word is one word of a name in Arabic script or Hebrew, read for
// matching: its consonant key, whether it starts with a letter the key
// drops (a vowel letter, ع, ء: "احسان" Ehsan, not "حسین" Hossein, though
// both key "hsn") and how it ends.
type Word struct {
	Key        string
	VowelStart bool
	End        End
	// Alt is the key of another Latin reading of the word's end, or "":
	// Key+"t" for a final ة, which Latin writes "a", "ah" or, before
	// another word, "at" ("نصرة" NUSRAT); the key less its h for a final
	// ح or خ written as a final h after a vowel, which LatinKey drops
	// ("طلفاح" TILFAH); the key with its h for a final ه pronounced
	// ("طه" TAHA).
	Alt string
	// Var is the key of the word's other reading of the letters that
	// romanisations write two ways, or "": ظ as d as well as z
	// (ABDELHALIM HAFED, "حافظ"), ض and ذ as z as well as d (Persian and
	// Urdu: FAZL, "فضل"; EWAZ, "عوض"), ث as s as well as t (Persian:
	// GHIASSOUDDINE, "غیاث الدین").
	Var string
	// Optional: a function word ("في", in) or a word that says what
	// kind of body an organisation is ("حركة", movement; "شبكة",
	// network): it may match, but its absence from a listed name does
	// not make the names differ.
	Optional bool
}

// optionalWords are Arabic-script function words and descriptors of
// organisations (Arabic, Persian, Urdu, Pashto spellings), written
// without the article.
var optionalWords = map[string]bool{} // filled by init from optionalList

var optionalList = map[string]bool{
	// Function words: in, from, of, on, to, and, or; Pashto of, and.
	"في": true, "فی": true, "من": true, "عن": true, "على": true, "علی": true, "إلى": true, "الى": true,
	"الی": true, "و": true, "او": true, "أو": true, "د": true, "ي": true, "ی": true,
	// Movement, group, organisation, network, front, party, brigade(s),
	// battalion, foundation, committee, council, union, association.
	"حركة": true, "حرکت": true, "جماعة": true, "جماعت": true, "جمات": true, "تنظيم": true, "تنظیم": true,
	"منظمة": true, "سازمان": true, "شبكة": true, "شبکه": true, "شبکة": true, "جبهة": true, "جبهه": true,
	"حزب": true, "كتائب": true, "کتائب": true, "كتيبة": true, "لواء": true, "مؤسسة": true, "موسسه": true,
	"بنیاد": true, "لجنة": true, "مجلس": true, "اتحاد": true, "جمعية": true, "جمعیت": true,
}

// droppedWords are the article written apart ("ال منصور") and آل, "family
// of" (AL in Latin, which drops it as an article).
var droppedWords = map[string]bool{}

func init() {
	for w := range optionalList {
		optionalWords[lettersOf(norm.NFKD.String(w))] = true
	}
	for _, w := range []string{"ال", "آل"} {
		droppedWords[lettersOf(norm.NFKD.String(w))] = true
	}
}

// lettersOf returns the letters of w this package reads, without marks
// and tatweel.
func lettersOf(w string) string {
	var b strings.Builder
	for _, r := range w {
		if _, ok := letters[r]; ok && r != 'ـ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// prefixes are the conjunctions and prepositions Arabic writes joined to
// a word with the article: wa-al (and the), bi-al, fa-al, ka-al, li-l.
var prefixes = []string{"وال", "بال", "فال", "كال", "لل"}

// NativeWords returns the consonant key and ending of each word of a name
// in Arabic script or Hebrew (see the package documentation), the article
// ال dropped; words that key as nothing are left out. Letters of other
// scripts are ignored.
func NativeWords(s string) []Word {
	s = norm.NFKD.String(s)
	out := nativeWords(s, false)
	if !strings.ContainsAny(s, "ظضذث") {
		return out
	}
	alt := nativeWords(s, true)
	if len(alt) != len(out) {
		return out
	}
	for i := range out {
		if alt[i].Key != out[i].Key {
			out[i].Var = alt[i].Key
		}
	}
	return out
}

// variants are the other readings of the letters romanisations write two
// ways (Word.Var), by consonant class.
var variants = map[rune]byte{'ظ': 'd', 'ض': 'z', 'ذ': 'z', 'ث': 's'}

// nativeWords is NativeWords on the decomposed s, with the other readings
// of variants if variant.
func nativeWords(s string, variant bool) []Word {
	var out []Word
	var b []byte
	// dropLast: the last class came from a letter dropped at the end of
	// a word (ه ة).
	dropLast := false
	end := EndConsonant
	vowelStart, first := false, true
	var last rune // the word's last letter
	wordStart := 0
	flush := func(i int) {
		alt := ""
		if dropLast && len(b) > 1 {
			alt = string(NormKey(b))
			b = b[:len(b)-1]
		}
		b = NormKey(b)
		switch {
		case len(b) == 0:
		case last == 'ة' || last == 'ۃ':
			alt = string(b) + "t"
		case (last == 'ح' || last == 'خ') && len(b) > 1:
			alt = string(b[:len(b)-1])
		}
		if alt == string(b) {
			alt = ""
		}
		if len(b) > 0 && !droppedWords[lettersOf(s[wordStart:i])] {
			out = append(out, Word{Key: string(b), VowelStart: vowelStart, End: end, Alt: alt,
				Optional: optionalWords[lettersOf(s[wordStart:i])]})
		}
		b = b[:0]
		dropLast, last = false, 0
		end = EndConsonant
		first = true
	}
	start := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		l, ok := letters[r]
		if !ok {
			if !isWordRune(r) {
				flush(i - n)
				start = true
			}
			continue
		}
		if start {
			wordStart = i - n
			if p := prefixAt(s[i-n:]); p > 0 {
				i += p - n
				start = false
				continue
			}
		}
		start = false
		if r != 'ـ' {
			last = r
		}
		if first {
			vowelStart = l.class == 0
			first = false
		}
		switch {
		case l.final:
			end = EndEither
		case l.class == 0 && l.latin != "":
			end = EndVowel
		case l.class != 0:
			end = EndConsonant
		}
		if l.class == 0 {
			continue
		}
		class := l.class
		if v, ok := variants[r]; ok && variant {
			class = v
		}
		if len(b) == 0 || b[len(b)-1] != class {
			b = append(b, class)
			dropLast = l.final
		} else {
			dropLast = false
		}
	}
	flush(len(s))
	return out
}

// prefixAt returns the length in bytes of the article (with a joined
// conjunction or preposition) that w starts with, if at least two letters
// follow it, else 0.
func prefixAt(w string) int {
	if articleAt(w) {
		return len("ال")
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(w, p); ok && articleAt("ال"+rest) {
			return len(p)
		}
	}
	return 0
}

// LatinVowelStart reports whether the folded Latin word w starts with a
// letter the consonant key drops (a vowel, y, w or v), and whether that
// start is ambiguous: a vowel and a doubled consonant is an article
// assimilated and joined to the word ("eddine", "uddin", "ashshabab"),
// whose Arabic spelling starts with a consonant once the article is
// dropped.
func LatinVowelStart(w string) (vowel, either bool) {
	if w == "" {
		return false, false
	}
	switch w[0] {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'w', 'v':
	default:
		return false, false
	}
	if len(w) >= 3 && w[1] == w[2] && !isVowelByte(w[1]) {
		return true, true
	}
	if len(w) >= 5 && w[1:3] == "sh" && w[3:5] == "sh" {
		return true, true
	}
	return true, false
}

// LatinEnd returns how the folded Latin word w ends: a vowel (a e i o u
// y), a vowel and h ("allah", "jamaah": either), or a consonant.
func LatinEnd(w string) End {
	n := len(w)
	if n == 0 {
		return EndConsonant
	}
	if w[n-1] == 'e' && n >= 2 && !isVowelByte(w[n-2]) {
		return EndEither // French final e ("djermane", "alouche")
	}
	if isVowelByte(w[n-1]) {
		return EndVowel
	}
	if w[n-1] == 'h' && n >= 2 && isVowelByte(w[n-2]) {
		return EndEither
	}
	return EndConsonant
}

func isVowelByte(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// LatinKey returns the consonant key of one folded Latin word (lower-case
// ASCII letters and digits; see the package documentation). It does not
// drop articles: see IsArticle.
func LatinKey(w string) string {
	var buf [32]byte
	return string(AppendLatinKey(buf[:0], w))
}

// AppendLatinKey appends the consonant key of the folded Latin word w to b
// and returns it; doubled classes are collapsed across what b holds.
func AppendLatinKey(b []byte, w string) []byte {
	return NormKey(appendLatinKeyRaw(b, w))
}

// appendLatinKeyRaw is AppendLatinKey before NormKey.
func appendLatinKeyRaw(b []byte, w string) []byte {
	n := len(w)
	for i := 0; i < n; i++ {
		c := w[i]
		next := byte(0)
		if i+1 < n {
			next = w[i+1]
		}
		var k byte
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y', 'w', 'v', '\'':
			continue
		case 'h':
			if i == n-1 && i > 0 {
				continue // final h: ta marbuta, Allah
			}
			k = 'h'
		case 'k':
			k = 'k'
			if next == 'h' {
				k = 'h'
				i++
			}
		case 'g':
			k = 'g'
			if next == 'h' {
				i++
			}
		case 's':
			k = 's'
			if next == 'h' {
				k = 'S'
				i++
			} else if next == 'c' && i+2 < n && w[i+2] == 'h' {
				k = 'S'
				i += 2
			}
		case 'c':
			switch next {
			case 'h':
				k = 'S' // French ch for ش ("charia"); English ch for چ
				i++
			case 'k':
				k = 'k'
				i++
			default:
				k = 'k'
			}
		case 't':
			k = 't'
			if next == 'h' {
				i++
			} else if next == 's' {
				k = 's'
				i++
			} else if next == 'c' && i+2 < n && w[i+2] == 'h' {
				k = 'S'
				i += 2
			}
		case 'd':
			k = 'd'
			switch {
			case next == 'h':
				i++
			case next == 'j':
				k = 'g'
				i++
			case next == 'z' && i+2 < n && w[i+2] == 'h':
				k = 'g'
				i += 2
			}
		case 'z':
			k = 'z' // zh is z+h in Arabic names ("azhar"); Persian ژ is z
		case 'p':
			k = 'b'
			if next == 'h' {
				k = 'f'
				i++
			}
		case 'q':
			k = 'k'
		case 'j':
			k = 'g' // ج is j, Egyptian g (RAGAB, رجب)
		case 'x':
			if len(b) == 0 || b[len(b)-1] != 'k' {
				b = append(b, 'k')
			}
			k = 's'
		default:
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				continue
			}
			k = c
		}
		if len(b) == 0 || b[len(b)-1] != k {
			b = append(b, k)
		}
	}
	return b
}

// NormKey rewrites a key so that spellings which split or join letters
// differently key alike, and returns it:
//
//   - a consonant followed by h merges as Latin digraphs do: s h → S, k h →
//     h, t h → t, d h → d, g h → g, so "إسحاق" (s, h, q) keys as ISHAQ,
//     "فتحي" as FATHI and "لكحل" as LAKHAL;
//   - a key that starts with "bdl" (ABDUL, ABDEL, ABDALLAH, عبدال) drops
//     the l, so that "abd al", "abdul" and "abdel" joined or apart key
//     alike.
//
// Both sides go through it, so a merge costs only precision: "sahar" and
// "shr" meet.
func NormKey(k []byte) []byte {
	n := 0
	for i := 0; i < len(k); i++ {
		c := k[i]
		if n > 0 && c == 'h' {
			switch k[n-1] {
			case 's':
				k[n-1] = 'S'
				continue
			case 'k':
				k[n-1] = 'h'
				continue
			case 't', 'd', 'g', 'S', 'h':
				continue
			}
		}
		if n > 0 && k[n-1] == c {
			continue
		}
		k[n] = c
		n++
	}
	k = k[:n]
	if len(k) >= 3 && k[0] == 'b' && k[1] == 'd' && k[2] == 'l' {
		k = append(k[:2], k[3:]...)
	}
	return k
}

// sunArticles are the spellings of the article assimilated to a sun
// letter ("ash shabaab", "ad dawla"), by the consonant class they double.
var sunArticles = map[string]byte{
	"at": 't', "ath": 't', "ad": 'd', "adh": 'd', "ar": 'r', "az": 'z',
	"as": 's', "ash": 'S', "an": 'n', "ul": 'l', "al": 'l', "el": 'l', "il": 'l',
	"es": 's', "esh": 'S', "ed": 'd', "er": 'r', "et": 't', "en": 'n', "ez": 'z',
}

// IsArticle reports whether the folded Latin word w is the Arabic article
// before the word next: "al", "el", "ul" or "il" always, a sun-letter form
// ("ash", "ad", "an", ...) only before a word starting with the consonant
// it doubles.
func IsArticle(w, next string) bool {
	switch w {
	case "al", "el", "ul", "il":
		return true
	}
	k, ok := sunArticles[w]
	if !ok || next == "" {
		return false
	}
	var buf [32]byte
	nk := appendLatinKeyRaw(buf[:0], next)
	return len(nk) > 0 && nk[0] == k && startsWithConsonant(next)
}

func startsWithConsonant(w string) bool {
	switch w[0] {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'w':
		return false
	}
	return true
}
