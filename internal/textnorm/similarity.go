package textnorm

import "slices"

// Similarity returns how alike two folded name tokens are, in [0, 1], given
// their texts and canonical keys (see Canon):
//
//   - 1 when the texts are equal, 0.98 when only the keys are equal
//     (Sergei/Sergey, Mohammed/Mohamed);
//   - otherwise the best of an edit similarity, 1 - 0.5*d/L for d = 1 and
//     1 - 0.6*d/L beyond, where d is the optimal-string-alignment distance
//     (insertions, deletions, substitutions, adjacent transpositions) of the
//     texts or of the keys and L their mean length, and the Jaro-Winkler
//     similarity of the keys less 0.1;
//   - at least 0.88 when the consonant skeletons of two keys of five or
//     more letters and about the same length agree (Hizballah/Hezbollah),
//     since those differ in vowels only.
//
// One edit in a five-letter token gives 0.90, in an eight-letter token
// 0.94; two edits in a four-letter token give 0.75. One typical typing
// error (adjacent letters swapped, a consonant replaced by a neighbouring
// QWERTY key, or a consonant typed twice or beside its neighbouring key;
// never the first letter) counts as half an edit: Yam/Yan 0.92,
// Saus/Saud 0.94. Jaro-Winkler alone is
// too generous to short and prefix-sharing tokens (Mei/Mejia 0.94), which
// is why it is discounted. When the first letters differ (and are not a
// voiced/voiceless pair such as g/k, b/p, d/t, common in romanised Korean
// and Turkish), the edit similarity does not apply: typing errors rarely
// hit the first letter, and Jun/Yun or Jan/Yan are different names.
func Similarity(textA, keyA, textB, keyB string) float64 {
	if textA == textB {
		return 1
	}
	if keyA == keyB {
		return 0.98
	}
	comparable := Comparable(textA, keyA, textB, keyB)
	s := 0.0
	if comparable {
		s = editSim(textA, textB)
		if s >= 0.9 {
			return s // Jaro-Winkler less 0.1 cannot beat it
		}
	}
	jw := JaroWinkler(keyA, keyB)
	s = max(s, jw-0.1)
	if !comparable || jw < 0.6 {
		// Keys this far apart are never within the edits that reach
		// the scores screening uses.
		return max(s, 0)
	}
	if keyA != textA || keyB != textB {
		s = max(s, editSim(keyA, keyB))
	}
	if s < 0.88 && len(keyA) >= 5 && len(keyB) >= 5 && absInt(len(keyA)-len(keyB)) <= 1 && sameSkeleton(keyA, keyB) {
		s = 0.88
	}
	return max(s, 0)
}

// Comparable reports whether two tokens may be spelling variants or typing
// errors of each other: their texts or their keys start with the same
// letter, or with a voiced/voiceless pair (g/k, b/p, d/t), or with their
// first two letters swapped. Similarity
// gives incomparable tokens at most their discounted Jaro-Winkler score.
func Comparable(textA, keyA, textB, keyB string) bool {
	return firstLettersCompatible(keyA, keyB) || firstLettersCompatible(textA, textB) || swappedStart(textA, textB)
}

// swappedStart reports whether a and b start with the same two letters in
// swapped order ("rgoup", "group").
func swappedStart(a, b string) bool {
	return len(a) > 1 && len(b) > 1 && a[0] == b[1] && a[1] == b[0]
}

func firstLettersCompatible(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	x, y := a[0], b[0]
	if x == y {
		return true
	}
	if x > y {
		x, y = y, x
	}
	switch [2]byte{x, y} {
	case [2]byte{'g', 'k'}, [2]byte{'b', 'p'}, [2]byte{'d', 't'}, [2]byte{'g', 'j'}:
		return true
	}
	return isVowel(x) && isVowel(y) // Oleksiy/Aleksei, Yelena/Elena

}

// editSim is 1 - 0.5*d/L for a distance d <= 1 and mean length L, and
// 1 - 0.6*d/L for larger distances. d is phoneticDistance when both
// tokens have four or more letters, the plain OSA distance otherwise, and
// 0.5 when the tokens differ by one typical typing error (isTypingError).
func editSim(a, b string) float64 {
	var d float64
	if min(len(a), len(b)) >= 4 {
		// Similarities below 0.8 are all the same to screening, so the
		// distance need not be computed beyond L/3.
		d = phoneticDistanceMax(a, b, int32(float64(len(a)+len(b))/3)+1)
	} else {
		// In short tokens a vowel is too much of the name to be cheap.
		d = float64(OSADistance(a, b))
	}
	if d >= 1 && isTypingError(a, b) {
		// One typical typing error costs half an edit: it rarely
		// tells two names apart.
		d = 0.5
	}
	l := float64(len(a)+len(b)) / 2
	f := 0.5
	if d > 1 {
		f = 0.6
	}
	s := 1 - f*d/l
	if s < 0 {
		return 0
	}
	return s
}

// closeSounds marks letter pairs that romanisations of the same name
// often exchange: vowels among themselves, g/h (Ukrainian Serhiy, Russian
// Sergei), g/j and j/y (Gamal/Jamal), k/h, c/k, s/z, v/w, f/v, b/p, d/t.
var closeSounds = func() (t [256][256]bool) {
	pairs := []string{"gh", "gj", "jy", "kh", "ck", "sz", "vw", "fv", "bp", "dt", "kq"}
	vowels := "aeiouy"
	for i := 0; i < len(vowels); i++ {
		for j := 0; j < len(vowels); j++ {
			t[vowels[i]][vowels[j]] = true
		}
	}
	for _, p := range pairs {
		t[p[0]][p[1]], t[p[1]][p[0]] = true, true
	}
	return t
}()

// phoneticDistanceMax is phoneticDistance, but it may stop early and
// return any value above maxHalf/2 once the distance is known to exceed
// it.
func phoneticDistanceMax(a, b string, maxHalf int32) float64 {
	// Costs are counted in half units in ints: 1 for a cheap edit, 2 for
	// a full one.
	la, lb := len(a), len(b)
	var buf [3 * 32]int32
	var r0, r1, r2 []int32
	if lb < 32 {
		r0, r1, r2 = buf[0:lb+1], buf[32:32+lb+1], buf[64:64+lb+1]
	} else {
		r0, r1, r2 = make([]int32, lb+1), make([]int32, lb+1), make([]int32, lb+1)
	}
	r1[0] = 0
	for j := 1; j <= lb; j++ {
		r1[j] = r1[j-1] + indelCost(b[j-1])
	}
	for i := 1; i <= la; i++ {
		x := a[i-1]
		cx := indelCost(x)
		r2[0] = r1[0] + cx
		for j := 1; j <= lb; j++ {
			y := b[j-1]
			var sub int32 = 2
			switch {
			case x == y:
				sub = 0
			case closeSounds[x][y] && (i > 1 || j > 1):
				// Close sounds are cheap except as the first letter:
				// Thomas and Dimas are not one name.
				sub = 1
			}
			v := min(r1[j]+cx, r2[j-1]+indelCost(y), r1[j-1]+sub)
			if i > 1 && j > 1 && x == b[j-2] && a[i-2] == y {
				v = min(v, r0[j-2]+2)
			}
			r2[j] = v
		}
		// Every alignment passes through row i; if all of it is over
		// the limit, so is the distance.
		if rowMin := slices.Min(r2); rowMin > maxHalf {
			return float64(rowMin) / 2
		}
		r0, r1, r2 = r1, r2, r0
	}
	return float64(r1[lb]) / 2
}

// isTransposition reports whether b is a with two adjacent letters
// swapped.
func isTransposition(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
}

// indelCost is the cost, in half units, of inserting or deleting c.
func indelCost(c byte) int32 {
	if isVowel(c) {
		return 1
	}
	return 2
}

// typedBeside reports whether s[p] repeats, or is a keyboard neighbour of,
// the letter before or after it.
func typedBeside(s string, p int) bool {
	c := s[p]
	if p > 0 && (s[p-1] == c || keyboardNear[s[p-1]][c]) {
		return true
	}
	return p+1 < len(s) && (s[p+1] == c || keyboardNear[s[p+1]][c])
}

// keyboardNear marks letters whose keys touch on a QWERTY keyboard (same
// row side by side, or adjacent rows overlapping).
var keyboardNear = func() (t [256][256]bool) {
	rows := []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}
	offset := []float64{0, 0.25, 0.75}
	for r1, row1 := range rows {
		for i := 0; i < len(row1); i++ {
			for r2, row2 := range rows {
				if r2 < r1-1 || r2 > r1+1 {
					continue
				}
				for j := 0; j < len(row2); j++ {
					dx := float64(i) + offset[r1] - float64(j) - offset[r2]
					if dx < 0 {
						dx = -dx
					}
					if (r1 == r2 && dx == 1) || (r1 != r2 && dx < 1) {
						t[row1[i]][row2[j]] = true
					}
				}
			}
		}
	}
	return t
}()

// isTypingError reports whether short tokens a and b, one edit apart,
// differ by a typical typing error not on the first letter: adjacent
// letters swapped, a consonant replaced by a neighbouring key, or a
// consonant typed twice or beside a neighbouring key. Vowel changes are
// not counted: in a short token they make another name (Jun/Jin).
func isTypingError(a, b string) bool {
	if isTransposition(a, b) {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == 0 {
		return false
	}
	if len(a) == len(b) {
		x, y := a[i], b[i]
		return a[i+1:] == b[i+1:] && keyboardNear[x][y] && !(isVowel(x) && isVowel(y))
	}
	// b has one letter more, at i.
	return len(b) == len(a)+1 && a[i:] == b[i+1:] && !isVowel(b[i]) && typedBeside(b, i)
}

// OSADistance returns the optimal string alignment distance between a and
// b (Levenshtein plus transposition of adjacent bytes). It does not
// allocate for strings up to 31 bytes.
func OSADistance(a, b string) int {
	la, lb := len(a), len(b)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	var buf [3 * 32]int
	var r0, r1, r2 []int
	if lb < 32 {
		r0, r1, r2 = buf[0:lb+1], buf[32:32+lb+1], buf[64:64+lb+1]
	} else {
		r0, r1, r2 = make([]int, lb+1), make([]int, lb+1), make([]int, lb+1)
	}
	// r0: row i-2, r1: row i-1, r2: row i
	for j := 0; j <= lb; j++ {
		r1[j] = j
	}
	for i := 1; i <= la; i++ {
		r2[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(r1[j]+1, r2[j-1]+1, r1[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, r0[j-2]+1)
			}
			r2[j] = v
		}
		r0, r1, r2 = r1, r2, r0
	}
	return r1[lb]
}

// sameSkeleton reports whether Skeleton(a) == Skeleton(b), with at least
// three letters, without allocating for keys up to 32 bytes.
func sameSkeleton(a, b string) bool {
	if a == "" || b == "" || a[0] != b[0] {
		return false
	}
	var ba, bb [32]byte
	sa := appendSkeleton(ba[:0], a)
	sb := appendSkeleton(bb[:0], b)
	return len(sa) >= 3 && string(sa) == string(sb)
}
