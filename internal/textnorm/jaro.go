package textnorm

// JaroWinkler returns the Jaro-Winkler similarity of a and b in [0, 1],
// with the usual prefix scale 0.1 over at most 4 leading bytes and the
// boost applied only when the Jaro similarity exceeds 0.7. It compares
// bytes, so pass folded ASCII. It does not allocate for strings up to 64
// bytes.
func JaroWinkler(a, b string) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > lb {
		a, b = b, a
		la, lb = lb, la
	}
	var bufA, bufB [64]bool
	var ma, mb []bool
	if lb <= 64 {
		ma, mb = bufA[:la], bufB[:lb]
	} else {
		ma, mb = make([]bool, la), make([]bool, lb)
	}
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}
	matches := 0
	for i := 0; i < la; i++ {
		lo := max(0, i-window)
		hi := min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if mb[j] || a[i] != b[j] {
				continue
			}
			ma[i], mb[j] = true, true
			matches++
			break
		}
	}
	if matches == 0 {
		return 0
	}
	trans := 0
	k := 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			trans++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(trans)/2)/m) / 3
	if jaro <= 0.7 {
		return jaro
	}
	prefix := 0
	for prefix < min(4, la) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
