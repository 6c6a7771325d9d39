package edge

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// idGenerator makes request ids: a random per-process prefix, a dash, and
// an atomic counter in base 36 ("3f9c0a71d2e8-1k"). Ids are unique within a
// process and, with overwhelming probability, across processes and
// restarts, without reading crypto/rand per request. They are not secrets:
// anyone who sees two ids can tell how many requests came between them.
type idGenerator struct {
	prefix [13]byte // 12 hex digits and '-'
	n      atomic.Uint64
}

func newIDGenerator() *idGenerator {
	var raw [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// instead); keep a fixed prefix rather than stop serving.
		copy(raw[:], "rampar")
	}
	g := &idGenerator{}
	hex.Encode(g.prefix[:12], raw[:])
	g.prefix[12] = '-'
	return g
}

// idLen bounds the length of an id: the prefix and a uint64 in base 36.
const idLen = 13 + 13

// Next returns a new request id. It allocates only the returned string.
func (g *idGenerator) Next() string {
	var buf [idLen]byte
	return string(g.append(&buf))
}

// NextIn returns a new request id whose bytes are in *buf, without an
// allocation: buf must never be written again while the id is in use.
func (g *idGenerator) NextIn(buf *[idLen]byte) string {
	b := g.append(buf)
	return unsafe.String(&b[0], len(b))
}

func (g *idGenerator) append(buf *[idLen]byte) []byte {
	b := append(buf[:0], g.prefix[:]...)
	return strconv.AppendUint(b, g.n.Add(1), 36)
}
