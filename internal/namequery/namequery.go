// Package namequery reads a name as a customer types it into structure
// before it is screened: the parts it is made of ("X (Y)", "X - Y", "X /
// Y", "X, also known as Y", "X a.k.a. Y"), and in each part the tokens of
// package textnorm with the role each word plays (textnorm.WordRole):
// articles and function words ("the", a leading "al-"), descriptors that
// organisations add ("movement", "group", "harakat", "jamaat", "hizb",
// "tehreek", "partiya", "xarakat" ...), places ("Lebanon", "Sinai") and
// legal forms ("LLC"). Two words typed without a space between them
// ("CompanyRussian") are read apart. Screening treats the words with a role as optional
// and screens every part on its own as well as the whole name.
package namequery

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/textnorm"
)

// MaxParts bounds the parts screened separately (besides the whole).
const MaxParts = 4

// Part is one part of a name: its text as typed, its tokens and the role
// of each token (textnorm.None for ordinary words, titles and legal
// forms, whose class says what they are).
type Part struct {
	Text   string
	Tokens []textnorm.Token
	Roles  []textnorm.Role
	// Generic marks the words read as descriptors or places, also
	// when a name made only of them had those roles cleared: they never
	// identify a body on their own.
	Generic []bool
	// named: an ordinary word of three letters or more, before a name
	// made only of optional words had its roles cleared.
	named bool
	// core: an ordinary word of any length, before roles were cleared.
	core bool
}

// Reading is a name read into structure. Parts[0] is the whole name (its
// separators dropped); the others, present only when the name has two or
// more, are the parts screened separately.
type Reading struct {
	Name  string
	Parts []Part
}

// Read reads name. A blank name gives a Reading without parts.
func Read(name string) Reading {
	r := Reading{Name: name}
	pieces := split(name)
	whole := readPart(strings.Join(pieces, " "))
	if len(whole.Tokens) == 0 {
		return r
	}
	r.Parts = append(r.Parts, whole)
	if len(pieces) < 2 {
		return r
	}
	// A piece that is no name on its own ("Tehran", "Group", "UK") goes
	// with the piece before it: "X - Tehran" is "X Tehran".
	var texts []string
	for _, p := range pieces {
		if len(texts) > 0 && !readPart(p).core {
			texts[len(texts)-1] += " " + p
			continue
		}
		texts = append(texts, p)
	}
	var parts []Part
	for _, t := range texts {
		pt := readPart(t)
		if !partScreenable(pt) {
			continue
		}
		parts = append(parts, pt)
		if len(parts) == MaxParts {
			break
		}
	}
	// One part that is a name beside pieces that are not ("AQ-S / Hurras
	// al-Din") is screened on its own too.
	if len(parts) >= 2 || len(parts) == 1 && len(texts) >= 2 {
		r.Parts = append(r.Parts, parts...)
	}
	return r
}

// partScreenable reports whether a part of a name is screened on its
// own: it is Screenable, or it holds two or more words of which one is
// an ordinary word of two letters ("Beirut Gm Sal").
func partScreenable(p Part) bool {
	if Screenable(p) {
		return true
	}
	return len(p.Tokens) >= 2 && p.core
}

// Screenable reports whether a part can be screened on its own: it holds
// an ordinary word of three letters or more that is no article, function
// word, descriptor or place ("UK" or "Group" alone is not a name).
func Screenable(p Part) bool { return p.named }

func readPart(text string) Part {
	text = strings.TrimSpace(text)
	toks := textnorm.Analyze(splitCase(text))
	p := Part{Text: text, Tokens: toks, Roles: make([]textnorm.Role, len(toks))}
	for i, t := range toks {
		if t.Class == textnorm.Word || t.Class == textnorm.Particle {
			p.Roles[i] = textnorm.WordRole(t.Text, i)
		}
	}
	// A leading descriptor's link ("Sazman-e X", "Harakat al-X").
	if len(toks) > 2 && p.Roles[0] == textnorm.Descriptor && textnorm.Ezafe(toks[1].Text) {
		p.Roles[1] = textnorm.Function
	}
	// Places of several words ("North Korea", "Middle East").
	for i := 0; i < len(toks); i++ {
		var words []string
		for k := i; k < len(toks) && k < i+3 && toks[k].Class != textnorm.LegalForm && toks[k].Class != textnorm.Honorific; k++ {
			words = append(words, toks[k].Text)
		}
		if n := textnorm.PlacePhrase(words); n > 0 {
			for k := i; k < i+n; k++ {
				p.Roles[k] = textnorm.Place
			}
			i += n - 1
		}
	}
	for i, t := range p.Tokens {
		p.named = p.named || (t.Class == textnorm.Word && p.Roles[i] == textnorm.None && len(t.Text) >= 3)
	}
	p.core = hasCore(p)
	// A name made only of optional words ("Palestinian Association in
	// Austria", "International Battalion") is made of them: its
	// descriptors are its words, and if that is not enough, its places.
	p.Generic = make([]bool, len(toks))
	for i, r := range p.Roles {
		p.Generic[i] = r == textnorm.Descriptor || r == textnorm.Place
	}
	for _, clear := range []textnorm.Role{textnorm.Descriptor, textnorm.Place} {
		if hasCore(p) {
			break
		}
		for i, r := range p.Roles {
			if r == clear {
				p.Roles[i] = textnorm.None
			}
		}
	}
	// A name ending "in" and one to three words ("... in Dubai", "... in
	// South Lebanon") ends with a place.
	for i := len(toks) - 2; i >= 1 && i >= len(toks)-4; i-- {
		if toks[i].Text != "in" {
			continue
		}
		rest := toks[i+1:]
		ok := true
		for _, t := range rest {
			ok = ok && t.Class == textnorm.Word
		}
		if ok {
			for k := i + 1; k < len(toks); k++ {
				p.Roles[k] = textnorm.Place
			}
		}
		break
	}
	return p
}

// aliasMarkers introduce another name of the same body.
var aliasMarkers = []string{
	", also known as ", " also known as ", ", formerly known as ", " formerly known as ", ", formerly ",
	", aka ", " aka ", " a.k.a. ", " a.k.a ", ", a.k.a. ", " f.k.a. ", " fka ", ", doing business as ",
	" doing business as ", " d/b/a ", " dba ", ", previously ",
}

// split cuts a name into its parts at parentheses and brackets, dashes
// set off by spaces, slashes between words of three letters or more (not
// "A/S", "d/b/a") and alias markers. Hyphens inside words ("Al-Shabaab",
// "ISIS-Sinai") do not split.
func split(name string) []string {
	s := name
	lower := asciiLower(s) // same byte offsets as s
	for _, m := range aliasMarkers {
		for {
			i := strings.Index(lower, m)
			if i < 0 {
				break
			}
			s = s[:i] + "\x00" + s[i+len(m):]
			lower = lower[:i] + "\x00" + lower[i+len(m):]
		}
	}
	var b strings.Builder
	rs := []rune(s)
	for i, c := range rs {
		switch c {
		case '(', ')', '[', ']', '{', '}', '|', ';':
			b.WriteRune(0)
		case '-', '–', '—', '‒', '―':
			if (i > 0 && rs[i-1] == ' ') || (i+1 < len(rs) && rs[i+1] == ' ') || c != '-' && c != '–' {
				b.WriteRune(0)
			} else {
				b.WriteRune(c)
			}
		case '/':
			if runBefore(rs, i) >= 3 && runAfter(rs, i) >= 3 || (i > 0 && rs[i-1] == ' ') && (i+1 < len(rs) && rs[i+1] == ' ') {
				b.WriteRune(0)
			} else {
				b.WriteRune(c)
			}
		default:
			b.WriteRune(c)
		}
	}
	var out []string
	for _, p := range strings.Split(b.String(), "\x00") {
		p = strings.Trim(p, " ,.:")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runBefore(rs []rune, i int) int {
	n := 0
	for j := i - 1; j >= 0 && rs[j] != ' ' && rs[j] != '/'; j-- {
		n++
	}
	return n
}

func runAfter(rs []rune, i int) int {
	n := 0
	for j := i + 1; j < len(rs) && rs[j] != ' ' && rs[j] != '/'; j++ {
		n++
	}
	return n
}

// Optional reports whether token i of the part is an optional word: an
// article, function word, descriptor or place.
func (p Part) Optional(i int) bool { return p.Roles[i] != textnorm.None }

// String describes the part: each token with its class or role.
func (p Part) String() string {
	var b strings.Builder
	for i, t := range p.Tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
		switch {
		case t.Class == textnorm.LegalForm:
			fmt.Fprintf(&b, "(legal form %s)", t.Key)
		case t.Class == textnorm.Honorific:
			b.WriteString("(title)")
		case p.Roles[i] != textnorm.None:
			fmt.Fprintf(&b, "(%s)", p.Roles[i])
		}
	}
	return b.String()
}

// asciiLower lowers ASCII letters only, keeping every byte offset
// (strings.ToLower may not, on invalid UTF-8 or some capitals).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hasCore reports whether a part holds an ordinary word.
func hasCore(p Part) bool {
	for i, t := range p.Tokens {
		if t.Class == textnorm.Word && p.Roles[i] == textnorm.None {
			return true
		}
	}
	return false
}

// splitCase puts a space where a lower-case letter is followed by a
// capital and another lower-case letter ("Joint Stock CompanyRussian
// Copper", "Limited LiabilityCompany"): two words typed without the space
// between them. A capital ending a word stays ("GmbH").
// Names written that way as one word ("McDonald", "MsKonsult") are still
// found, since screening also looks up adjacent words joined.
func splitCase(s string) string {
	var b strings.Builder
	prevLower := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if prevLower && unicode.IsUpper(r) && startsWord(s[i+n:]) {
			if b.Len() == 0 {
				b.Grow(len(s) + 4)
				b.WriteString(s[:i])
			}
			b.WriteByte(' ')
		}
		if b.Len() > 0 {
			b.WriteString(s[i : i+n])
		}
		prevLower = unicode.IsLower(r)
		i += n
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// startsWord reports whether s begins with a lower-case letter.
func startsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}
