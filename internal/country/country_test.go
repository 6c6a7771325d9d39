package country_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/country"
)

var sanctions = filepath.Join("..", "..", "testdata", "sanctions")

func TestCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Iran", "IR"},
		{"Korea, North", "KP"},
		{"Korea, South", "KR"},
		{"Burma", "MM"},
		{"Russia", "RU"},
		{"Syria", "SY"},
		{"West Bank", "PS"},
		{"Congo, Democratic Republic of the", "CD"},
		{"Congo, Republic of the", "CG"},
		{"Kosovo", "XK"},
		{"Democratic People's Republic of Korea", "KP"},
		{"Iran (Islamic Republic of)", "IR"},
		{"Curaçao", "CW"},
		{"Cote d'Ivoire", "CI"},
		{"Man, Isle of", "IM"},
		{"Virgin Islands, British", "VG"},
		{"United Kingdom", "GB"},
		{"  germany ", "DE"},
		{"de", "DE"},
		{"Tehran, Iran", "IR"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := country.Code(tc.in)
			if !ok || got != tc.want {
				t.Errorf("Code(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "Atlantis", "-0-"} {
		if c, ok := country.Code(bad); ok {
			t.Errorf("Code(%q) = %q, want unknown", bad, c)
		}
	}
	if n := country.Name("ir"); n != "Iran" {
		t.Errorf("Name(ir) = %q", n)
	}
}

// TestRealListCountries checks that every country string in the real OFAC
// add.csv and the UN XML resolves.
func TestRealListCountries(t *testing.T) {
	names := map[string]string{}
	data, err := os.ReadFile(filepath.Join(sanctions, "ofac", "add.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimRight(data, "\x1a\r\n")))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if c := strings.TrimSpace(rec[4]); c != "-0-" && c != "" {
			names[c] = "ofac add.csv"
		}
	}
	xml, err := os.ReadFile(filepath.Join(sanctions, "un", "consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`<(COUNTRY|ISSUING_COUNTRY|COUNTRY_OF_ISSUE|COUNTRY_OF_BIRTH)>([^<]+)<`)
	for _, m := range re.FindAllSubmatch(xml, -1) {
		names[strings.TrimSpace(string(m[2]))] = "un " + string(m[1])
	}
	nat := regexp.MustCompile(`(?s)<NATIONALITY>(.*?)</NATIONALITY>`)
	val := regexp.MustCompile(`<VALUE>([^<]+)<`)
	for _, m := range nat.FindAllSubmatch(xml, -1) {
		for _, v := range val.FindAllSubmatch(m[1], -1) {
			names[strings.TrimSpace(string(v[1]))] = "un NATIONALITY"
		}
	}
	if len(names) < 150 {
		t.Fatalf("only %d distinct country strings found", len(names))
	}
	// Deliberately unresolved: not one country.
	unresolved := map[string]bool{
		"undetermined": true,
		"Region: Commonwealth of Independent States": true,
		"Region: Kafia Kingi":                        true,
	}
	var missing []string
	for n, src := range names {
		if unresolved[n] {
			if c, ok := country.Code(n); ok {
				t.Errorf("%s resolved to %s, want unresolved", n, c)
			}
			continue
		}
		if _, ok := country.Code(n); !ok {
			missing = append(missing, src+": "+n)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("unresolved %s", m)
	}
}

func TestConcurrent(t *testing.T) {
	done := make(chan bool)
	for range 4 {
		go func() {
			for range 2000 {
				if c, _ := country.Code("Curaçao"); c != "CW" {
					t.Error("Curaçao did not resolve")
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}
