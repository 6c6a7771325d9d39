package un

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDateGenerated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "sanctions", "un", "consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := DateGenerated(b)
	want := time.Date(2026, 2, 27, 0, 0, 9, 554_000_000, time.UTC)
	if !ok || !got.Equal(want) {
		t.Errorf("DateGenerated = %v %v, want %v", got, ok, want)
	}
	for _, bad := range []string{
		``,
		`<CONSOLIDATED_LIST>`,
		`<CONSOLIDATED_LIST dateGenerated="27 Feb 2026">`,
		`<OTHER dateGenerated="2026-02-27T00:00:09.554Z">`,
	} {
		if _, ok := DateGenerated([]byte(bad)); ok {
			t.Errorf("DateGenerated(%q) ok", bad)
		}
	}
}

// FuzzDateGenerated: never panics, and a date is found only in what
// IsConsolidated accepts. Seeds: testdata/fuzz/FuzzDateGenerated (the real
// file's opening, and variants).
func FuzzDateGenerated(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" dateGenerated="2026-02-27T00:00:09.554Z"><INDIVIDUALS/></CONSOLIDATED_LIST>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, ok := DateGenerated(data)
		if !ok {
			return
		}
		if !IsConsolidated(data) {
			t.Fatalf("date %v found in a file IsConsolidated refuses", d)
		}
	})
}
