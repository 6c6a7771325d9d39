package textnorm

// Canon returns the canonical key of a folded token: a spelling in which
// common romanisation variants of the same name coincide. The rules are
// generic, applied in order:
//
//   - digraphs: tch→ch, dzh/dj/zh-before-vowel stay distinct except dzh→j
//     and dj→j; kh→h, gh→g, ph→f, th→t, dh→d, sch→sh, ck→k;
//   - letters: q→k, c→k (not in ch), w→v, x→ks, j→i except at the start;
//   - vowels: y→i, ou/oo→u, ee→i; doubled letters collapse (mm→m, ii→i);
//   - Arabic "abd al"-style prefixes: abdal, abdel, abdol, abdil → abdul.
//
// So Sergei and Sergey, Yuriy and Iurii, Mohammed and Mohamed, Nikolaj and
// Nikolay, Viktor and Victor, Kyriakou and Kyriaku share a key. Digits are
// kept as they are.
func Canon(tok string) string {
	b := make([]byte, 0, len(tok)+2)
	n := len(tok)
	for i := 0; i < n; i++ {
		c := tok[i]
		next := byte(0)
		if i+1 < n {
			next = tok[i+1]
		}
		switch c {
		case 't':
			if next == 'c' && i+2 < n && tok[i+2] == 'h' { // tch -> ch
				continue
			}
			if next == 'h' { // th -> t
				b = append(b, 't')
				i++
				continue
			}
		case 'd':
			if next == 'z' && i+2 < n && tok[i+2] == 'h' { // dzh -> j
				b = append(b, jOrI(i))
				i += 2
				continue
			}
			if next == 'j' { // dj -> j
				b = append(b, jOrI(i))
				i++
				continue
			}
			if next == 'h' { // dh -> d
				b = append(b, 'd')
				i++
				continue
			}
		case 'k':
			if next == 'h' { // kh -> h
				b = append(b, 'h')
				i++
				continue
			}
		case 'g':
			if next == 'h' { // gh -> g
				b = append(b, 'g')
				i++
				continue
			}
		case 'p':
			if next == 'h' { // ph -> f
				b = append(b, 'f')
				i++
				continue
			}
		case 's':
			if next == 'c' && i+2 < n && tok[i+2] == 'h' { // sch -> sh
				b = append(b, 's', 'h')
				i += 2
				continue
			}
		case 'c':
			if next == 'h' {
				b = append(b, 'c', 'h')
				i++
				continue
			}
			if next == 'k' { // ck -> k
				continue
			}
			c = 'k'
		case 'q':
			c = 'k'
		case 'w':
			c = 'v'
		case 'x':
			b = append(b, 'k')
			c = 's'
		case 'j':
			c = jOrI(i)
		case 'y':
			c = 'i'
		case 'o':
			if next == 'u' || next == 'o' { // ou, oo -> u
				c = 'u'
				i++
			}
		case 'e':
			if next == 'e' { // ee -> i
				c = 'i'
				i++
			}
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue // doubled letter
		}
		b = append(b, c)
	}
	if len(b) > 5 && b[0] == 'a' && b[1] == 'b' && b[2] == 'd' && b[4] == 'l' && isVowel(b[3]) && b[3] != 'u' {
		b[3] = 'u'
	}
	return string(b)
}

// Skeleton returns the consonant skeleton of a canonical key: its first
// letter, then its consonants, with a consonant repeated only after
// vowels kept once ("muhamad" → "mhmd", "hizbalah" → "hzblh", but
// "potanin" → "ptnn"). It is a coarse phonetic key: equal skeletons
// suggest, but do not prove, the same name.
func Skeleton(key string) string {
	var buf [64]byte
	return string(appendSkeleton(buf[:0], key))
}

func appendSkeleton(b []byte, key string) []byte {
	if key == "" {
		return b
	}
	b = append(b, key[0])
	prev := key[0]
	for i := 1; i < len(key); i++ {
		c := key[i]
		if !isVowel(c) && c != prev {
			b = append(b, c)
		}
		prev = c
	}
	return b
}

// jOrI returns the key letter for a j sound at position i: a leading j
// stays j (Jun and Yun are different names), elsewhere it is the y glide
// (Nikolaj, Samojko) and becomes i.
func jOrI(i int) byte {
	if i == 0 {
		return 'j'
	}
	return 'i'
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}
