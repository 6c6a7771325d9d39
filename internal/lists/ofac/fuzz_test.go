package ofac_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/lists/ofac"
)

// FuzzOFAC feeds sdn.csv rows (seeded with real rows, including ones with
// dense remarks) to the parser. It must never panic, and whatever it
// accepts must be well formed.
func FuzzOFAC(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(realDir, "sdn.csv"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for i := 0; sc.Scan(); i++ {
		line := sc.Text()
		if i%1500 == 0 || strings.Contains(line, "Digital Currency") && i%20 == 0 ||
			strings.HasPrefix(line, "4243,") || strings.HasPrefix(line, "2676,") || strings.HasPrefix(line, "906,") {
			f.Add([]byte(line + "\r\n"))
		}
	}
	f.Add([]byte("1,\"A, B\",\"individual\",\"X] [Y\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"a.k.a. ''; DOB ; Passport (Iran) issued\"\r\n\x1a"))
	f.Fuzz(func(t *testing.T, sdn []byte) {
		ents, err := ofac.Parse(ofac.Files{Main: sdn})
		if err != nil {
			return
		}
		if len(ents) == 0 {
			t.Fatal("accepted an empty list")
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.ID, "ofac-sdn:") || e.Name == "" || len(e.Names) == 0 {
				t.Fatalf("malformed entity %+v", e)
			}
			for _, n := range e.Names {
				if n.Full == "" {
					t.Fatalf("%s: empty name %+v", e.ID, n)
				}
			}
		}
	})
}

// FuzzParseConsolidated feeds a consolidated set (cons_prim.csv,
// cons_alt.csv, cons_add.csv, cons_comments.csv) to the parser, seeded with
// testdata/fuzz/FuzzParseConsolidated (real rows of the 2018 publication:
// an entity with aliases and addresses, a vessel, a person, an empty
// cons_comments.csv, a cut row) and a few more real rows. It must never
// panic; whatever it accepts is well formed and every error names a file
// of the consolidated set.
func FuzzParseConsolidated(f *testing.F) {
	prim, err := os.ReadFile(filepath.Join(consDir, "cons_prim.csv"))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitAfter(string(prim), "\n")
	for i := 0; i < len(lines); i += 97 {
		f.Add([]byte(lines[i]), []byte{}, []byte{}, []byte{})
	}
	files := []string{"cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"}
	f.Fuzz(func(t *testing.T, prim, alt, add, comments []byte) {
		ents, err := ofac.Consolidated.Parse(ofac.Files{Main: prim, Alt: alt, Add: add, Comments: comments})
		if err != nil {
			named := false
			for _, n := range files {
				named = named || strings.Contains(err.Error(), n)
			}
			if !named {
				t.Fatalf("error %q names no file", err)
			}
			return
		}
		if len(ents) == 0 {
			t.Fatal("accepted an empty list")
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.ID, "ofac-cons:") || e.Source != "ofac-cons" || e.Name == "" || len(e.Names) == 0 {
				t.Fatalf("malformed entity %+v", e)
			}
			for _, n := range e.Names {
				if n.Full == "" {
					t.Fatalf("%s: empty name %+v", e.ID, n)
				}
			}
		}
	})
}
