package screeneval_test

import (
	"path/filepath"
	"testing"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screening"
)

// mappedIndex builds the index over ents, writes it to a file and
// returns the index mapped from that file (the heap copy is dropped).
func mappedIndex(t testing.TB, ents []entity.Entity) *screening.Index {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.rsix")
	if err := screening.WriteFile(path, screening.NewIndex(ents), screening.FileMeta{Key: "test"}); err != nil {
		t.Fatal(err)
	}
	ix, _, err := screening.OpenFile(path, "test")
	if err != nil {
		t.Fatal(err)
	}
	return ix
}
