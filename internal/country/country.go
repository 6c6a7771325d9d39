// Package country resolves the country names that sanctions lists use
// ("Iran", "Korea, North", "Burma", "Congo, Democratic Republic of the") to
// ISO 3166-1 alpha-2 codes.
//
// The table is built once from the English region names of
// golang.org/x/text/language/display plus an explicit alias table for the
// spellings the OFAC, UN and UK lists use. Kosovo resolves to the
// user-assigned code XK, as the lists and the European Commission use it.
// Names that are not countries (e.g. "undetermined", "West Bank" is a
// territory and resolves to PS) follow the alias table.
package country

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/unicode/norm"
)

// aliases maps normalised list spellings to codes. Keys are normalised by
// key(); they are written here in plain lower case without punctuation.
var aliases = map[string]string{
	// OFAC spellings.
	"korea north":                      "KP",
	"north korea":                      "KP",
	"korea south":                      "KR",
	"south korea":                      "KR",
	"burma":                            "MM",
	"russia":                           "RU",
	"syria":                            "SY",
	"iran":                             "IR",
	"west bank":                        "PS",
	"gaza":                             "PS",
	"gaza strip":                       "PS",
	"palestinian":                      "PS",
	"palestinian territories":          "PS",
	"palestinian territory":            "PS",
	"palestine":                        "PS",
	"state of palestine":               "PS",
	"congo democratic republic of the": "CD",
	"democratic republic of the congo": "CD",
	"congo republic of the":            "CG",
	"republic of the congo":            "CG",
	"congo":                            "CG",
	"kosovo":                           "XK",
	"cote d ivoire":                    "CI",
	"ivory coast":                      "CI",
	"man isle of":                      "IM",
	"virgin islands british":           "VG",
	"virgin islands us":                "VI",
	"virgin islands u s":               "VI",
	"british virgin islands":           "VG",
	"macau":                            "MO",
	"macao":                            "MO",
	"hong kong":                        "HK",
	"china":                            "CN",
	"taiwan":                           "TW",
	"vietnam":                          "VN",
	"viet nam":                         "VN",
	"laos":                             "LA",
	"micronesia federated states of":   "FM",
	"micronesia":                       "FM",
	"bahamas the":                      "BS",
	"the bahamas":                      "BS",
	"gambia the":                       "GM",
	"the gambia":                       "GM",
	"netherlands antilles":             "AN",
	"curacao":                          "CW",
	"sint maarten":                     "SX",
	"saint kitts and nevis":            "KN",
	"st kitts and nevis":               "KN",
	"saint vincent and the grenadines": "VC",
	"st vincent and the grenadines":    "VC",
	"saint lucia":                      "LC",
	"st lucia":                         "LC",
	"turkey":                           "TR",
	"turkiye":                          "TR",
	"czech republic":                   "CZ",
	"czechia":                          "CZ",
	"macedonia":                        "MK",
	"macedonia the former yugoslav republic of": "MK",
	"the former yugoslav republic of macedonia": "MK",
	"north macedonia":                 "MK",
	"north macedonia the republic of": "MK",
	"republic of north macedonia":     "MK",
	"swaziland":                       "SZ",
	"eswatini":                        "SZ",
	"cape verde":                      "CV",
	"cabo verde":                      "CV",
	"timor leste":                     "TL",
	"east timor":                      "TL",
	"brunei":                          "BN",
	"brunei darussalam":               "BN",
	"bosnia and herzegovina":          "BA",
	"bosnia herzegovina":              "BA",
	"holy see":                        "VA",
	"vatican city":                    "VA",
	"united states":                   "US",
	"united states of america":        "US",
	"usa":                             "US",
	"united kingdom":                  "GB",
	"united kingdom of great britain and northern ireland": "GB",
	"great britain": "GB",
	"uk":            "GB",
	"region crimea": "UA",
	// OFAC "Region:" entries that lie within one country. "Region:
	// Commonwealth of Independent States", "Region: Kafia Kingi" (disputed)
	// and "undetermined" deliberately resolve to nothing; Crimea is left
	// unresolved so that it is never confused with the rest of Ukraine.
	"region gaza":          "PS",
	"region west bank":     "PS",
	"region northern mali": "ML",
	// Demonyms OFAC writes after "nationality".
	"eritrean": "ER",
	// UN spellings (official UN country names).
	"china hong kong special administrative region": "HK",
	"china macao special administrative region":     "MO",
	"iran islamic republic of":                      "IR",
	"iran (islamic republic of)":                    "IR",
	"democratic people s republic of korea":         "KP",
	"republic of korea":                             "KR",
	"russian federation":                            "RU",
	"syrian arab republic":                          "SY",
	"united republic of tanzania":                   "TZ",
	"tanzania":                                      "TZ",
	"tanzania united republic of":                   "TZ",
	"bolivia plurinational state of":                "BO",
	"venezuela bolivarian republic of":              "VE",
	"lao people s democratic republic":              "LA",
	"republic of moldova":                           "MD",
	"moldova":                                       "MD",
	"moldova republic of":                           "MD",
	"libyan arab jamahiriya":                        "LY",
	"libya":                                         "LY",
	"state of libya":                                "LY",
	"sudan the":                                     "SD",
	"the sudan":                                     "SD",
	"netherlands the":                               "NL",
	"the netherlands":                               "NL",
	"netherlands kingdom of the":                    "NL",
	"kingdom of the netherlands":                    "NL",
	"philippines the":                               "PH",
	"the philippines":                               "PH",
	"niger the":                                     "NE",
	"the niger":                                     "NE",
	"united arab emirates the":                      "AE",
	"the united arab emirates":                      "AE",
	"comoros the":                                   "KM",
	"dominican republic the":                        "DO",
	"central african republic the":                  "CF",
	"the central african republic":                  "CF",
	"saudi arabia":                                  "SA",
	"kingdom of saudi arabia":                       "SA",
	"yemen":                                         "YE",
	"republic of yemen":                             "YE",
	"iraq":                                          "IQ",
	"republic of iraq":                              "IQ",
	"south sudan":                                   "SS",
	"republic of south sudan":                       "SS",
	"palestine state of":                            "PS",
	"occupied palestinian territory":                "PS",
	"serbia and montenegro":                         "CS",
	"yugoslavia":                                    "YU",
	"federal republic of yugoslavia":                "YU",
	"ussr":                                          "SU",
	"soviet union":                                  "SU",
	"former soviet union":                           "SU",
	"czechoslovakia":                                "CS",
	"zaire":                                         "CD",
	"kyrgyz republic":                               "KG",
	"slovak republic":                               "SK",
	"myanmar":                                       "MM",
	"myanmar burma":                                 "MM",
	"st helena":                                     "SH",
	"saint helena":                                  "SH",
	"saint martin":                                  "MF",
	"st barthelemy":                                 "BL",
	"saint barthelemy":                              "BL",
	"reunion":                                       "RE",
	"falkland islands":                              "FK",
	"heard island and mcdonald islands":             "HM",
	"svalbard":                                      "SJ",
	"wallis and futuna":                             "WF",
	"pitcairn islands":                              "PN",
	"sao tome and principe":                         "ST",
	"antigua and barbuda":                           "AG",
	"trinidad and tobago":                           "TT",
	"turks and caicos islands":                      "TC",
	"korea democratic people s republic of":         "KP",
	"korea republic of":                             "KR",
	"dprk":                                          "KP",
	"belarus":                                       "BY",
	"byelorussia":                                   "BY",
	"germany":                                       "DE",
	"federal republic of germany":                   "DE",
}

var (
	once  sync.Once
	table map[string]string
	// names holds the English display name of each code.
	names map[string]string
)

func build() {
	table = make(map[string]string, 600)
	names = make(map[string]string, 300)
	en := display.English.Regions()
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code {
				continue
			}
			if r.Canonicalize().String() != code {
				continue
			}
			n := en.Name(r)
			if n == "" {
				continue
			}
			names[code] = n
			table[key(n)] = code
			table[key(code)] = code
		}
	}
	// Kosovo is user-assigned in ISO 3166 but universal in the lists.
	names["XK"] = "Kosovo"
	for k, v := range aliases {
		table[key(k)] = v
	}
}

// key normalises a country name for look-up: accents are removed, letters
// are lower-cased, "&" becomes "and", and every other run of non-letters
// becomes one space.
func key(s string) string {
	// NFKD splits accented letters; the marks are then skipped below. It is
	// stateless, so key is safe for concurrent use.
	s = norm.NFKD.String(s)
	s = strings.ReplaceAll(s, "&", " and ")
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

// Code returns the ISO 3166-1 alpha-2 code for a country name as a
// sanctions list writes it, or for an alpha-2 code itself. It reports false
// when the name is unknown; callers keep the name as written then.
func Code(name string) (string, bool) {
	once.Do(build)
	k := key(name)
	if k == "" {
		return "", false
	}
	if c, ok := table[k]; ok {
		return c, true
	}
	// "Tehran, Iran" style: the last comma-separated part.
	if i := strings.LastIndexByte(name, ','); i >= 0 {
		if c, ok := table[key(name[i+1:])]; ok {
			return c, true
		}
	}
	return "", false
}

// Name returns the English name of an alpha-2 code, or "" when unknown.
func Name(code string) string {
	once.Do(build)
	return names[strings.ToUpper(code)]
}

// Valid reports whether code is an ISO 3166-1 alpha-2 country code (or XK),
// written in upper case.
func Valid(code string) bool {
	once.Do(build)
	return len(code) == 2 && names[code] != ""
}
