package namequery

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/textnorm"
)

func TestReadParts(t *testing.T) {
	tests := []struct {
		name string
		want []string // Parts' texts, whole first
	}{
		{"Kurdistan Workers Party (PKK)", []string{"Kurdistan Workers Party PKK", "Kurdistan Workers Party", "PKK"}},
		{"HAMAS - Islamic Resistance Movement", []string{"HAMAS Islamic Resistance Movement", "HAMAS", "Islamic Resistance Movement"}},
		{"Hamas / Harakat al-Muqawama", []string{"Hamas Harakat al-Muqawama", "Hamas", "Harakat al-Muqawama"}},
		{"Hamas/Hizballah", []string{"Hamas Hizballah", "Hamas", "Hizballah"}},
		{"Hamas/Harakat", []string{"Hamas Harakat"}}, // a descriptor alone is not screened
		{"Taliban, also known as Islamic Emirate of Afghanistan", []string{"Taliban Islamic Emirate of Afghanistan", "Taliban", "Islamic Emirate of Afghanistan"}},
		{"Taliban a.k.a. Islamic Emirate", []string{"Taliban Islamic Emirate", "Taliban", "Islamic Emirate"}},
		{"Al-Shabaab", []string{"Al-Shabaab"}},                     // a hyphen inside a word does not split
		{"ISIS-Sinai Province", []string{"ISIS-Sinai Province"}},   // nor here
		{"Maersk A/S", []string{"Maersk A/S"}},                     // a legal form with a slash
		{"Acme Trading (UK)", []string{"Acme Trading UK"}},         // "UK" alone is no name
		{"Acme Holdings (Group)", []string{"Acme Holdings Group"}}, // nor a descriptor alone
		{"Red Eagle — Roofing", []string{"Red Eagle Roofing", "Red Eagle", "Roofing"}},
		{"AQ-S / Hurras al-Din", []string{"AQ-S Hurras al-Din", "AQ-S", "Hurras al-Din"}}, // two short words are a part beside a name
		{"Beirut Gem SAL - Beirut Gm SAL", []string{"Beirut Gem SAL Beirut Gm SAL", "Beirut Gem SAL", "Beirut Gm SAL"}},
		{"XY / Global Trading", []string{"XY Global Trading", "Global Trading"}}, // one name beside a piece that is none
		{"  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Read(tt.name)
			var got []string
			for _, p := range r.Parts {
				got = append(got, p.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("parts %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadRoles(t *testing.T) {
	tests := []struct {
		name string
		want string // Part.String of the whole
	}{
		{"The Taliban", "the(article) taliban"},
		{"Hamas Movement", "hamas movement(descriptor)"},
		{"Islamic Jihad Movement in Palestine", "islamic jihad movement(descriptor) in(function word) palestine(place)"},
		{"Al-Shabaab Somalia", "al(article) shabaab somalia(place)"},
		{"Hezbollah Lebanon", "hezbollah lebanon(place)"},
		{"Abu al-Hasan", "abu al hasan"}, // "al" inside a name is no article
		{"Harakat al-Shabaab al-Mujahideen", "harakat(descriptor) al(function word) shabaab al mujahideen"},
		{"Jama'at Nusrat al-Islam", "jamaat(descriptor) nusrat al islam"},
		{"Tehreek-e-Taliban Pakistan", "tehreek(descriptor) e(function word) taliban pakistan(place)"},
		{"Partiya Karkeren Kurdistane", "partiya(descriptor) karkeren kurdistane"},
		{"Xarakada Al-Shabaab", "xarakada(descriptor) al(function word) shabaab"},
		{"Red Eagle Roofing LLC", "red eagle roofing llc(legal form llc)"},
		{"Dr John Smith", "dr(title) john smith"},
		{"ISIS Sinai Province", "isis sinai(place) province(place)"},
		{"Sazman-e Mujahedin", "sazman(descriptor) e(function word) mujahedin"},
		{"Hesong Trading Company Group DPRK", "hesong trading company(legal form co) group(descriptor) dprk(place)"},
		{"Amroggang Development Bank North Korea", "amroggang development bank north(place) korea(place)"},
		{"Avia Trust Fze in Dubai", "avia trust(descriptor) fze in(function word) dubai(place)"},
		{"Casa Apollo in New Town", "casa apollo in(function word) new(place) town(place)"},
		{"Casa Apollo e.V.", "casa apollo ev(legal form ev)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Read(tt.name)
			if len(r.Parts) == 0 {
				t.Fatal("no parts")
			}
			if got := r.Parts[0].String(); got != tt.want {
				t.Fatalf("read as %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplitCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Joint Stock CompanyRussian Copper Company", "Joint Stock Company Russian Copper Company"},
		{"Limited LiabilityCompany", "Limited Liability Company"},
		{"Vaniya Ship ManagementPrivate Limited", "Vaniya Ship Management Private Limited"},
		{"FORENT TECHNIK GmbH", "FORENT TECHNIK GmbH"}, // a capital ending a word stays
		{"S.a. DeC.v.", "S.a. DeC.v."},
		{"McDonald", "Mc Donald"}, // screening looks up "mc donald" joined too
		{"ÉcoleÉtoile Société", "École Étoile Société"},
		{"HAMAS", "HAMAS"},
		{"hamas", "hamas"},
		{"", ""},
		{"a\xffBc", "a\xffBc"}, // invalid UTF-8 is no lower-case letter
	}
	for _, tt := range tests {
		if got := splitCase(tt.in); got != tt.want {
			t.Errorf("splitCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Read screens the words split apart.
	p := Read("Ocean Electronics Limited LiabilityCompany").Parts[0]
	var texts []string
	for _, tok := range p.Tokens {
		texts = append(texts, tok.Text)
	}
	if got := strings.Join(texts, "|"); got != "ocean|electronics|limited liability company" {
		t.Errorf("tokens %s", got)
	}
}

// FuzzSplitCase: splitCase only inserts spaces, and splitting twice is
// splitting once.
func FuzzSplitCase(f *testing.F) {
	for _, s := range []string{"CompanyRussian", "GmbH", "ÉcoleÉtoile", "a\xffBc", "aB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := splitCase(s)
		if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(s, " ", "") {
			t.Fatalf("splitCase(%q) = %q changed more than spaces", s, got)
		}
		if again := splitCase(got); again != got {
			t.Fatalf("splitCase not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{"Kurdistan Workers Party (PKK)", "HAMAS - Islamic Resistance Movement", "a/b/c", "((", "X, also known as Y, aka Z", "—", "d/b/a", "Al-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Read(s)
		if len(r.Parts) == 1 || len(r.Parts) > MaxParts+1 {
			if len(r.Parts) > MaxParts+1 {
				t.Fatalf("%d parts", len(r.Parts))
			}
		}
		for i, p := range r.Parts {
			if len(p.Roles) != len(p.Tokens) {
				t.Fatalf("part %d: %d roles for %d tokens", i, len(p.Roles), len(p.Tokens))
			}
			if len(p.Tokens) == 0 {
				t.Fatalf("part %d %q has no tokens", i, p.Text)
			}
			if i > 0 && !partScreenable(p) {
				t.Fatalf("part %d %q is not screenable", i, p.Text)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p.Text) {
				t.Fatalf("part %q of valid input is invalid UTF-8", p.Text)
			}
			for k, role := range p.Roles {
				if role != textnorm.None && p.Tokens[k].Class != textnorm.Word && p.Tokens[k].Class != textnorm.Particle {
					t.Fatalf("role %s on a %s", role, p.Tokens[k].Class)
				}
			}
		}
		if len(r.Parts) == 2 {
			t.Fatalf("one separate part is never kept alone: %q", s)
		}
	})
}
