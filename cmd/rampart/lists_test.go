package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var sanctionsDir = filepath.Join("..", "..", "testdata", "sanctions")

func runRampart(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestListsImportAndStatus(t *testing.T) {
	data := t.TempDir()
	out, err := runRampart(t, "lists", "import", "--data-dir", data, filepath.Join(sanctionsDir, "un"), filepath.Join(sanctionsDir, "uk-derived"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"un", "UN Security Council", "1003 entities", "+1003 -0 ~0", "new", "uk", "6035 entities"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, err = runRampart(t, "lists", "import", "--data-dir", data, filepath.Join(sanctionsDir, "un"))
	if err != nil || !strings.Contains(out, "unchanged") {
		t.Errorf("re-import: %v\n%s", err, out)
	}

	// status with a config: data_dir comes from it, and the config's
	// compliance.lists fill in the OFAC list that is not stored yet.
	cfg := filepath.Join(t.TempDir(), "rampart.yaml")
	ofac, err := filepath.Abs(filepath.Join(sanctionsDir, "ofac"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("data_dir: "+data+"\ncompliance:\n  lists: ["+ofac+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runRampart(t, "lists", "status", "--config", cfg, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var st struct {
		Versions []struct {
			Source   string
			Entities int
		}
		Entities int
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(st.Versions) != 3 || st.Entities != 13821+1003+6035 || st.Versions[0].Source != "ofac-sdn" {
		t.Errorf("status %+v", st)
	}
	out, err = runRampart(t, "lists", "status", "--data-dir", data)
	if err != nil || !strings.Contains(out, "SOURCE") || !strings.Contains(out, "13821") {
		t.Errorf("status: %v\n%s", err, out)
	}
}

func TestListsImportRefusesBadFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "sdn.csv")
	if err := os.WriteFile(bad, []byte("1,\"X\"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runRampart(t, "lists", "import", "--data-dir", t.TempDir(), bad)
	if err == nil || !strings.Contains(err.Error(), "sdn.csv line 1: 2 columns, want 12") {
		t.Fatalf("error %v\n%s", err, out)
	}
}

// TestListsConsolidated: the consolidated folder imports as ofac-cons,
// shows in lists status next to the other lists, and rampart screen finds
// its entries with their ofac-cons ids.
func TestListsConsolidated(t *testing.T) {
	data := t.TempDir()
	cons := filepath.Join(sanctionsDir, "ofac-consolidated")
	out, err := runRampart(t, "lists", "import", "--data-dir", data, cons, filepath.Join(sanctionsDir, "un"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"ofac-cons", "OFAC Consolidated (non-SDN)", "639 entities", "+639 -0 ~0"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, err = runRampart(t, "lists", "status", "--data-dir", data, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var st struct {
		Versions []struct {
			Source   string
			Entities int
			Files    []string
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The bundled lists fill in the sources not stored (SDN, UK); the
	// consolidated list is not bundled.
	if len(st.Versions) != 4 || st.Versions[0].Source != "ofac-cons" || st.Versions[0].Entities != 639 || len(st.Versions[0].Files) != 4 || st.Versions[1].Source != "ofac-sdn" {
		t.Errorf("status %+v", st)
	}
	out, err = runRampart(t, "screen", "--json", "--lists", cons, "--kind", "organization", "Central Bank of Iran")
	if err != nil || !strings.Contains(out, `"id":"ofac-cons:4632"`) {
		t.Errorf("screen: %v\n%s", err, out)
	}
}
