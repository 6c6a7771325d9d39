package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
)

// memLog is an in-memory audit.Log: a real, if simple, implementation.
type memLog struct {
	entries []audit.Entry
	head    audit.Head
}

func (m *memLog) Append(_ context.Context, ev audit.Event) (audit.Entry, error) {
	e, err := audit.Seal(m.head, ev, time.Now())
	if err != nil {
		return audit.Entry{}, err
	}
	m.entries = append(m.entries, e)
	m.head = audit.Head{Seq: e.Seq, Hash: e.Hash}
	return e, nil
}

func (m *memLog) Entries(_ context.Context, from int64) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		for _, e := range m.entries {
			if e.Seq >= from && !yield(e, nil) {
				return
			}
		}
	}
}

func (m *memLog) Head(context.Context) (audit.Head, error) {
	if m.head.Seq == 0 {
		return audit.Head{Hash: audit.GenesisHash}, nil
	}
	return m.head, nil
}

var _ audit.Log = (*memLog)(nil)

func newLog(t testing.TB, n int) *memLog {
	t.Helper()
	m := &memLog{}
	for i := range n {
		if _, err := m.Append(context.Background(), audit.Event{Actor: "system", Action: "test.event",
			Subject: fmt.Sprintf("n:%d", i), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestPythonVector(t *testing.T) {
	f, err := os.Open("testdata/vector.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := audit.VerifyEntries(audit.ReadJSONL(f))
	if err != nil {
		t.Fatal(err)
	}
	const head = "cfd838733d5455e5669694195d80b762c948bfe49eac7adc74317ab783ac9734"
	if !rep.OK || rep.Entries != 2 || rep.Head != head {
		t.Fatalf("Verify(vector) = %+v, want OK, 2 entries, head %s", rep, head)
	}
	// Sealing the same event from Go data gives the Python hash.
	when, _ := audit.ParseTime("2026-11-25T12:35:15.123456789Z")
	e, err := audit.Seal(audit.Head{}, audit.Event{Actor: "system", Action: "zone.create", Subject: "zone:zone_0123456789abcdef",
		Data: audit.MustData(map[string]any{"status": "active", "host": "www.example.org", "note": "café <b>\n", "n": 3})}, when)
	if err != nil {
		t.Fatal(err)
	}
	if want := "9d273cdb804b0ca70c0a12e3d217cdcbdec2af2342f40bb8f92ee4485c297a48"; e.Hash != want {
		t.Errorf("Seal hash = %s, want %s (data %s)", e.Hash, want, e.Data)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{"empty", "", "{}", false},
		{"spaces", "  ", "{}", false},
		{"sorted", `{"b": 1, "a": {"d": [1, 2], "c": null}}`, `{"a":{"c":null,"d":[1,2]},"b":1}`, false},
		{"numbers kept", `{"x": 1.50, "y": -2e3}`, `{"x":1.50,"y":-2e3}`, false},
		{"escapes", `{"s": "a\"b\\c\n\t\u0001 <&> \u00e9 \u2028"}`, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001 <&> é \u2028\"}", false},
		{"utf8 key order", `{"é": 1, "z": 2, "A": 3}`, `{"A":3,"z":2,"é":1}`, false},
		{"array", `[1]`, "", true},
		{"string", `"x"`, "", true},
		{"broken", `{"a":`, "", true},
		{"trailing", `{} {}`, "", true},
		{"invalid utf8", "{\"a\":\"\xff\"}", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audit.Canonical(json.RawMessage(tc.in))
			if tc.bad {
				if err == nil {
					t.Errorf("Canonical(%q) = %s, want an error", tc.in, got)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("Canonical(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestSealChecksEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   audit.Event
	}{
		{"no actor", audit.Event{Action: "x"}},
		{"no action", audit.Event{Actor: "x"}},
		{"control char", audit.Event{Actor: "x", Action: "a\tb"}},
		{"long subject", audit.Event{Actor: "x", Action: "y", Subject: strings.Repeat("s", 501)}},
		{"data array", audit.Event{Actor: "x", Action: "y", Data: json.RawMessage(`[]`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := audit.Seal(audit.Head{}, tc.ev, time.Now()); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestVerifyDetects(t *testing.T) {
	tests := []struct {
		name     string
		tamper   func(m *memLog)
		firstBad int64
	}{
		{"intact", func(*memLog) {}, 0},
		{"edit data", func(m *memLog) { m.entries[4].Data = json.RawMessage(`{"i":99}`) }, 5},
		{"edit action", func(m *memLog) { m.entries[0].Action = "other" }, 1},
		{"edit time", func(m *memLog) { m.entries[2].Time = m.entries[2].Time.Add(time.Nanosecond) }, 3},
		{"remove middle", func(m *memLog) { m.entries = slices.Delete(m.entries, 3, 4) }, 4},
		{"remove first", func(m *memLog) { m.entries = m.entries[1:] }, 1},
		{"remove tail", func(m *memLog) { m.entries = m.entries[:8] }, 9},
		{"reorder", func(m *memLog) { m.entries[5], m.entries[6] = m.entries[6], m.entries[5] }, 6},
		{"swap seqs", func(m *memLog) {
			m.entries[5], m.entries[6] = m.entries[6], m.entries[5]
			m.entries[5].Seq, m.entries[6].Seq = 6, 7
		}, 6},
		{"duplicate", func(m *memLog) { m.entries = slices.Insert(m.entries, 2, m.entries[1]) }, 2},
		{"replace hash", func(m *memLog) { m.entries[9].Hash = audit.GenesisHash }, 10},
		{"head moved back", func(m *memLog) { m.head = audit.Head{Seq: 8, Hash: m.entries[7].Hash} }, 9},
		{"rehash edited entry", func(m *memLog) {
			m.entries[2].Subject = "forged"
			m.entries[2].Hash = audit.Hash(m.entries[2])
		}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newLog(t, 10)
			tc.tamper(m)
			rep, err := audit.Verify(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if tc.firstBad == 0 {
				if !rep.OK || rep.Entries != 10 || rep.Head != m.head.Hash {
					t.Errorf("Verify(intact) = %+v", rep)
				}
				return
			}
			if rep.OK || rep.FirstBad != tc.firstBad || rep.Problem == "" {
				t.Errorf("Verify = %+v, want not OK at seq %d", rep, tc.firstBad)
			}
		})
	}
}

func TestExportReadRoundTrip(t *testing.T) {
	m := newLog(t, 5)
	if _, err := m.Append(context.Background(), audit.Event{Actor: "public", Action: "report.create",
		Data: json.RawMessage(`{"description":"<script> & \"quotes\"\n","urls":["https://a.example/?x=1&y=2"]}`)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := audit.Export(context.Background(), m, &buf, 0)
	if err != nil || n != 6 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`<script> & \"quotes\"\n`)) {
		t.Errorf("export escaped the data: %s", buf.Bytes())
	}
	var got []audit.Entry
	for e, err := range audit.ReadJSONL(&buf) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 6 {
		t.Fatalf("read back %d entries", len(got))
	}
	for i, e := range got {
		w := m.entries[i]
		if e.Seq != w.Seq || !e.Time.Equal(w.Time) || e.Hash != w.Hash || !bytes.Equal(e.Data, w.Data) || e.Subject != w.Subject {
			t.Errorf("entry %d = %+v, want %+v", i+1, e, w)
		}
	}
}

func TestReadJSONLErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", `{"seq":1,"time":"2026-01-01T00:00:00.000000000Z"}` + "\nnope\n", "line 2"},
		{"unknown field", `{"seq":1,"time":"2026-01-01T00:00:00.000000000Z","extra":1}`, "line 1"},
		{"bad time", `{"seq":1,"time":"2026-01-01T00:00:00Z"}`, "line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			for _, e := range audit.ReadJSONL(strings.NewReader(tc.in)) {
				if e != nil {
					err = e
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":1,"a":[true,null,"x\n"]}`, `{"n":1.0e10}`, `{"é":{"\u0000":""}}`, `[1]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := audit.Canonical(in)
		if err != nil {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("Canonical(%q) = %q is not JSON", in, c)
		}
		again, err := audit.Canonical(c)
		if err != nil || !bytes.Equal(again, c) {
			t.Fatalf("Canonical is not idempotent: %q → %q → %q, %v", in, c, again, err)
		}
	})
}

func FuzzReadJSONL(f *testing.F) {
	vec, err := os.ReadFile("testdata/vector.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vec)
	f.Add([]byte("{}\n\n{\"seq\":2}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for e, err := range audit.ReadJSONL(bytes.NewReader(in)) {
			if err != nil {
				return
			}
			b, err := e.MarshalJSON()
			if err != nil {
				continue // such as data that is not JSON text
			}
			var back audit.Entry
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("re-reading %s: %v", b, err)
			}
			if audit.Hash(back) != audit.Hash(e) {
				t.Fatalf("round trip changed the hash of %s", b)
			}
		}
	})
}

func BenchmarkVerify10k(b *testing.B) {
	m := newLog(b, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		rep, err := audit.Verify(ctx, m)
		if err != nil || !rep.OK {
			b.Fatal(rep, err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	ev := audit.Event{Actor: "system", Action: "zone.create", Subject: "zone:x", Data: json.RawMessage(`{"host":"www.example.org","aliases":["example.org"]}`)}
	h := audit.Head{}
	now := time.Now()
	for range b.N {
		e, err := audit.Seal(h, ev, now)
		if err != nil {
			b.Fatal(err)
		}
		h = audit.Head{Seq: e.Seq, Hash: e.Hash}
	}
}
