package textnorm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"case", "AL QAIDA", "al qaida"},
		{"hyphen", "Al-Qaida", "al qaida"},
		{"apostrophe", "Sa'id 'Ali", "said ali"},
		{"curly apostrophe", "Sa\u2019id", "said"},
		{"punctuation runs", "  CO., LTD.  ", "co ltd"},
		{"diacritics", "José Muñoz Öztürk", "jose munoz ozturk"},
		{"ligature and compat", "ﬁrm Ⅻ", "firm xii"},
		{"cyrillic", "Владимир Путин", "vladimir putin"},
		{"greek", "Αλέξης", "alexes"},
		{"arabic", "محمد", "mhmd"},
		{"digits kept", "EP-CFD 12", "ep cfd 12"},
		{"empty", " - ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func texts(toks []Token, c Class) string {
	var out []string
	for _, t := range toks {
		if t.Class == c {
			out = append(out, t.Key)
		}
	}
	return strings.Join(out, "|")
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name, in             string
		words, legal, titles string // keys by class, "|"-separated
	}{
		{"person", "Vladimir PUTIN", "vladimir|putin", "", ""},
		{"honorific dropped", "Dr. Vladimir Putin", "vladimir|putin", "", "dr"},
		{"two honorifics", "H.E. Sheikh Ahmed Ali", "ahmed|ali", "", "he|sheih"},
		{"honorific alone is a word", "General", "general", "", ""},
		{"honorific only leading", "Ali General", "ali|general", "", ""},
		{"llc", "Golden Star LLC", "golden|star", "llc", ""},
		{"llc dotted", "Golden Star L.L.C.", "golden|star", "llc", ""},
		{"llc written out", "Limited Liability Company Golden Star", "golden|star", "llc", ""},
		{"ooo", "OOO Golden Star", "golden|star", "llc", ""},
		{"jsc", "JSC Post Bank", "post|bank", "jsc", ""},
		{"ao", "AO Post Bank", "post|bank", "jsc", ""},
		{"joint stock shuffled", "Stock Joint Post Bank Company", "post|bank", "jsc", ""},
		{"co ltd", "Dandong Trading Co., Ltd.", "dandong|trading", "ltd", ""},
		{"company limited", "Dandong Trading Company Limited", "dandong|trading", "ltd", ""},
		{"sa de cv", "Grupo Zait, S.A. de C.V.", "grupo|zait", "sa", ""},
		{"gmbh", "Ozean GmbH", "ozean", "gmbh", ""},
		{"typo in legal form", "Hara Compnay", "hara", "co", ""},
		{"typo in short legal form", "Fentex Properties Lyd.", "fenteks|properties", "ltd", ""},
		{"legal form missing a word", "Limited Liability Russul", "rusul", "llc", ""},
		{"ambiguous form at both ends", "Sa Bank Sa", "bank", "sa", ""},
		{"ambiguous form mid-name is a word", "Bank Sa Finance", "bank|sa|finanke", "", ""},
		{"only legal words", "Company Limited", "kompani|limited", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks := Analyze(tt.in)
			if got := texts(toks, Word); got != tt.words {
				t.Errorf("words of %q = %q, want %q (%v)", tt.in, got, tt.words, toks)
			}
			if got := texts(toks, LegalForm); got != tt.legal {
				t.Errorf("legal forms of %q = %q, want %q (%v)", tt.in, got, tt.legal, toks)
			}
			if got := texts(toks, Honorific); got != tt.titles {
				t.Errorf("titles of %q = %q, want %q (%v)", tt.in, got, tt.titles, toks)
			}
		})
	}
}

func TestParticles(t *testing.T) {
	toks := Analyze("Osama bin Laden al-Qaida de la Cruz")
	var ps []string
	for _, t := range toks {
		if t.Class == Particle {
			ps = append(ps, t.Text)
		}
	}
	if got := strings.Join(ps, " "); got != "bin al de la" {
		t.Errorf("particles = %q", got)
	}
}

func TestCanon(t *testing.T) {
	same := [][2]string{
		{"sergei", "sergey"}, {"yuriy", "iurii"}, {"yuri", "yuriy"}, {"mohammed", "mohamed"}, {"nikolaj", "nikolay"},
		{"viktor", "victor"}, {"kyriakou", "kyriaku"}, {"valerii", "valeriy"}, {"tamimiy", "tamimi"}, {"faisal", "faysal"},
		{"khalid", "halid"}, {"qassim", "kassim"}, {"abdelrahman", "abdulrahman"}, {"samodjko", "samojko"},
		{"djorda", "jorda"}, {"philip", "filip"}, {"wladimir", "vladimir"},
	}
	for _, p := range same {
		if Canon(p[0]) != Canon(p[1]) {
			t.Errorf("Canon(%q) = %q, Canon(%q) = %q; want equal", p[0], Canon(p[0]), p[1], Canon(p[1]))
		}
	}
	differ := [][2]string{{"jun", "yun"}, {"jan", "yan"}, {"mohammed", "mahmud"}, {"ali", "alia"}}
	for _, p := range differ {
		if Canon(p[0]) == Canon(p[1]) {
			t.Errorf("Canon(%q) == Canon(%q) = %q; want different", p[0], p[1], Canon(p[0]))
		}
	}
}

func TestSkeleton(t *testing.T) {
	tests := []struct{ a, b string }{{"hizbalah", "hezbolah"}, {"muhamad", "mohamed"}, {"kaida", "kaeda"}}
	for _, tt := range tests {
		ka, kb := Canon(tt.a), Canon(tt.b)
		if Skeleton(ka) != Skeleton(kb) {
			t.Errorf("Skeleton(%q)=%q, Skeleton(%q)=%q", ka, Skeleton(ka), kb, Skeleton(kb))
		}
		if got, want := sameSkeleton(ka, kb), len(Skeleton(ka)) >= 3; got != want {
			t.Errorf("sameSkeleton(%q, %q) = %v, want %v", ka, kb, got, want)
		}
	}
	if sameSkeleton("mahmud", "ahmad") {
		t.Error("different first letters share a skeleton")
	}
	if sameSkeleton("putin", "potanin") {
		t.Error("putin and potanin share a skeleton")
	}
}

func sim(a, b string) float64 { return Similarity(a, Canon(a), b, Canon(b)) }

func TestSimilarity(t *testing.T) {
	tests := []struct {
		name   string
		a, b   string
		lo, hi float64
	}{
		{"equal", "putin", "putin", 1, 1},
		{"transliteration key", "sergei", "sergey", 0.98, 0.98},
		{"one typo long", "champion", "campion", 0.92, 0.95},
		{"transposition", "javier", "javeir", 0.95, 0.97}, // a typing error costs half an edit
		{"keyboard neighbour", "saud", "saus", 0.9, 0.95},
		{"consonant typed beside its key", "agor", "agotr", 0.9, 0.95},
		{"short token typing error", "yan", "yam", 0.9, 0.95},
		{"short token vowel change", "jun", "jin", 0, 0.86},
		{"not a neighbouring key", "wei", "wen", 0, 0.86},
		{"vowel change", "hizballah", "hezbollah", 0.85, 0.97},
		{"first letter differs", "jun", "yun", 0, 0.8},
		{"prefix of short", "mei", "mejia", 0, 0.86},
		{"different surnames", "kowalski", "kovacevic", 0, 0.8},
		{"korean g/k", "gim", "kim", 0.8, 0.9},
		{"unrelated", "smith", "garcia", 0, 0.6},
		{"longer name", "putin", "potanin", 0, 0.8},
		{"ukrainian h", "serhiy", "sergei", 0.84, 0.92},
		{"polish io", "piotr", "petr", 0.85, 0.92},
		{"close first sound costs fully", "thomas", "dimas", 0, 0.85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sim(tt.a, tt.b)
			if got < tt.lo || got > tt.hi {
				t.Errorf("Similarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.lo, tt.hi)
			}
			if back := sim(tt.b, tt.a); back != got {
				t.Errorf("not symmetric: %.3f vs %.3f", got, back)
			}
		})
	}
}

func TestJaroWinklerAndOSA(t *testing.T) {
	if got := JaroWinkler("martha", "marhta"); got < 0.961 || got > 0.962 {
		t.Errorf("JW(martha, marhta) = %.4f, want 0.9611", got)
	}
	if got := JaroWinkler("dixon", "dicksonx"); got < 0.813 || got > 0.814 {
		t.Errorf("JW(dixon, dicksonx) = %.4f, want 0.8133", got)
	}
	tests := []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}}
	for _, tt := range tests {
		if got := OSADistance(tt.a, tt.b); got != tt.d {
			t.Errorf("OSADistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
	long := strings.Repeat("ab", 40)
	if OSADistance(long, long+"c") != 1 || JaroWinkler(long, long) != 1 {
		t.Error("long strings")
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"AL-QA'IDA", "Dr. Vladimir PUTIN", "S.A. de C.V.", "Владимир", "金正恩", "محمد بن سلمان", "\xff\xfe", "L L C", "H.E."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded := Fold(s)
		if !utf8.ValidString(folded) {
			t.Fatalf("Fold(%q) = %q is not UTF-8", s, folded)
		}
		for i := 0; i < len(folded); i++ {
			c := folded[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ') {
				t.Fatalf("Fold(%q) = %q has byte %q", s, folded, c)
			}
		}
		if Fold(folded) != folded {
			t.Fatalf("Fold not idempotent on %q", s)
		}
		toks := AnalyzeFolded(folded)
		if folded != "" && len(toks) == 0 {
			t.Fatalf("Analyze(%q) lost every token", s)
		}
		words := 0
		for _, tk := range toks {
			if tk.Text == "" || tk.Key == "" {
				t.Fatalf("empty token in %v", toks)
			}
			if tk.Class == Word {
				words++
			}
			if s := Similarity(tk.Text, tk.Key, tk.Text, tk.Key); s != 1 {
				t.Fatalf("self-similarity %v", s)
			}
		}
		if len(toks) > 0 && words == 0 && toks[len(toks)-1].Class != Honorific {
			t.Fatalf("Analyze(%q) kept no word: %v", s, toks)
		}
	})
}

// FuzzSimilarity checks that Similarity never panics, stays in [0, 1] and
// gives 1 for equal tokens, on folded tokens and their canonical keys.
func FuzzSimilarity(f *testing.F) {
	for _, s := range [][2]string{{"yan", "yam"}, {"saud", "saus"}, {"agor", "agotr"}, {"javier", "javeir"}, {"a", "ab"}, {"", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		a, b = Fold(a), Fold(b)
		ka, kb := Canon(a), Canon(b)
		s := Similarity(a, ka, b, kb)
		if s < 0 || s > 1 {
			t.Fatalf("Similarity(%q, %q) = %v, out of [0, 1]", a, b, s)
		}
		if a == b && s != 1 {
			t.Fatalf("Similarity(%q, %q) = %v for equal tokens", a, b, s)
		}
	})
}
