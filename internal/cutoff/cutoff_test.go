package cutoff

import (
	"sync"
	"sync/atomic"
	"testing"
)

type counter struct{ n atomic.Int32 }

func (c *counter) EndExchange() { c.n.Add(1) }

func TestSet(t *testing.T) {
	type step struct {
		op      string // add, remove, cut, retire, deny, allow
		i       int    // exchange index for add/remove
		wantOK  bool   // add's result
		wantCut int    // cut/retire's result
	}
	tests := []struct {
		name     string
		steps    []step
		wantEnds []int32 // EndExchange calls per exchange at the end
		wantLen  int
		refused  []bool // Ended without an EndExchange call (Add said false)
	}{
		{"cut ends the live ones only",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "add", i: 1, wantOK: true}, {op: "remove", i: 0}, {op: "cut", wantCut: 1}},
			[]int32{0, 1, 0}, 1, nil},
		{"cut twice ends once",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "cut", wantCut: 1}, {op: "cut", wantCut: 0}},
			[]int32{1, 0, 0}, 1, nil},
		{"after a cut new exchanges run",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "cut", wantCut: 1}, {op: "add", i: 1, wantOK: true}},
			[]int32{1, 0, 0}, 2, nil},
		{"retire ends later ones at once",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "retire", wantCut: 1}, {op: "add", i: 1, wantOK: false}},
			[]int32{1, 0, 0}, 1, []bool{false, true, false}},
		{"a zone no longer served admits nothing",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "deny"}, {op: "add", i: 1, wantOK: false}, {op: "allow"}, {op: "add", i: 2, wantOK: true}},
			[]int32{0, 0, 0}, 2, []bool{false, true, false}},
		{"remove then cut ends nothing",
			[]step{{op: "add", i: 0, wantOK: true}, {op: "add", i: 1, wantOK: true}, {op: "remove", i: 1}, {op: "remove", i: 0}, {op: "cut", wantCut: 0}},
			[]int32{0, 0, 0}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served atomic.Bool
			served.Store(true)
			s := New(served.Load)
			xs := make([]Exchange, 3)
			es := make([]counter, 3)
			for _, st := range tt.steps {
				switch st.op {
				case "add":
					if ok := s.Add(&xs[st.i], &es[st.i]); ok != st.wantOK {
						t.Fatalf("Add(%d) = %v, want %v", st.i, ok, st.wantOK)
					}
				case "remove":
					s.Remove(&xs[st.i])
				case "cut":
					if n := s.Cut(); n != st.wantCut {
						t.Fatalf("Cut = %d, want %d", n, st.wantCut)
					}
				case "retire":
					if n := s.Retire(); n != st.wantCut {
						t.Fatalf("Retire = %d, want %d", n, st.wantCut)
					}
				case "deny":
					served.Store(false)
				case "allow":
					served.Store(true)
				}
			}
			for i := range es {
				if got := es[i].n.Load(); got != tt.wantEnds[i] {
					t.Errorf("exchange %d ended %d times, want %d", i, got, tt.wantEnds[i])
				}
				refused := tt.refused != nil && tt.refused[i]
				if (es[i].n.Load() > 0 || refused) != xs[i].Ended() {
					t.Errorf("exchange %d: Ended() = %v after %d ends", i, xs[i].Ended(), es[i].n.Load())
				}
			}
			if n := s.Len(); n != tt.wantLen {
				t.Errorf("Len = %d, want %d", n, tt.wantLen)
			}
		})
	}
}

// TestConcurrent adds, removes and cuts from many goroutines: every
// exchange registered when a cut ran is ended exactly once (run with
// -race).
func TestConcurrent(t *testing.T) {
	s := New(nil)
	const workers, rounds = 8, 2000
	var wg sync.WaitGroup
	var ended, added atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var x Exchange
			var e counter
			for range rounds {
				if s.Add(&x, &e) {
					added.Add(1)
					s.Remove(&x)
				}
			}
			ended.Add(int64(e.n.Load()))
		}()
	}
	cuts := 0
	for range 200 {
		cuts += s.Cut()
	}
	wg.Wait()
	if s.Len() != 0 {
		t.Errorf("Len = %d after every exchange was removed", s.Len())
	}
	if int64(cuts) != ended.Load() || s.Ended() != ended.Load() {
		t.Errorf("Cut reported %d, Ended %d, enders ran %d times", cuts, s.Ended(), ended.Load())
	}
	if added.Load() != workers*rounds {
		t.Errorf("added %d, want %d (no admit function: everything is admitted)", added.Load(), workers*rounds)
	}
}

// BenchmarkAddRemove is what a streaming response pays to be cut off
// later: one Add and one Remove.
func BenchmarkAddRemove(b *testing.B) {
	s := New(func() bool { return true })
	b.RunParallel(func(pb *testing.PB) {
		var x Exchange
		var e counter
		for pb.Next() {
			s.Add(&x, &e)
			s.Remove(&x)
		}
	})
}
