package reqpath

import (
	"strings"
	"testing"
)

// originView is what an origin that decodes once and then resolves dot
// segments and merges slashes (nginx) makes of a raw path; ok is false
// where it would refuse (above the root).
func originView(raw string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) && class[raw[i+1]]&clHex != 0 && class[raw[i+2]]&clHex != 0 {
			b.WriteByte(unhex(raw[i+1])<<4 | unhex(raw[i+2]))
			i += 2
			continue
		}
		b.WriteByte(raw[i])
	}
	var segs []string
	parts := strings.Split(b.String(), "/")[1:]
	trailing := false
	for i, seg := range parts {
		last := i == len(parts)-1
		trailing = false
		switch seg {
		case "":
			trailing = last
		case ".":
			trailing = true
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
			trailing = true
		default:
			segs = append(segs, seg)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if trailing && len(segs) > 0 {
		out += "/"
	}
	return out, true
}

// FuzzNormalise feeds random paths through Normalise: an accepted path's
// normal form is normal, idempotent, free of dot segments, "//" and
// encoded unreserved characters, and decodes to exactly what an origin
// makes of the path as sent, so a rule matching the normal form matches
// what the origin serves; a refusal is stable and never of a normal path.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"/", "/a/b/../c", "//admin/", "/%2e%2e/", "/api/..;/admin", "/a%2fb", "/\xc3\xa9", "/%c0%ae", "/a\\b", "/a/./b/.", "/%41%42c", "/x%20y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out, err := Normalise(p)
		out2, err2 := Normalise(p)
		if out != out2 || (err == nil) != (err2 == nil) {
			t.Fatalf("Normalise(%q) not deterministic", p)
		}
		if err != nil {
			if IsNormal(p) {
				t.Fatalf("Normalise(%q) refused a path IsNormal accepts: %v", p, err)
			}
			if out != "" {
				t.Fatalf("Normalise(%q) refused with output %q", p, out)
			}
			return
		}
		checkNormal(t, p, out)
		if IsNormal(p) != (p == out) {
			t.Fatalf("IsNormal(%q) = %v, Normalise gives %q", p, IsNormal(p), out)
		}
		want, ok := originView(p)
		got, _ := originView(out)
		if !ok || got != want {
			t.Fatalf("Normalise(%q) = %q: an origin resolves the sent path to %q, the normal form to %q", p, out, want, got)
		}
	})
}
