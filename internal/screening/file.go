package screening

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The index file. An Index is written once per list version into an
// immutable file and memory-mapped read-only, so that it lives in the page
// cache (shared by every process that maps it, paged in as searches touch
// it) instead of the Go heap. Layout, little-endian as in memory:
//
//	0   magic "RSIX\x00\x01\r\n"
//	8   format version (uint32), byte-order mark 0x01020304 (uint32)
//	16  meta length (uint32), number of sections (uint32)
//	24  CRC-32C (Castagnoli) of the whole file with these 4 bytes as zero
//	28  zero (uint32), file size (uint64), zeros up to 64
//	64  meta: JSON (FileMeta: the key, the list versions, counts)
//	    section table, 8-aligned: offset and length (uint64 each) per section
//	    sections, 64-aligned: the Index's slices as they are in memory
//
// OpenFile refuses a file whose header, size, key (the list versions and
// the code it was built from) or checksum is not what it expects; the
// caller then builds it again (Service does). A file is written to a
// temporary name, synced and renamed, so that a crash never leaves a half
// file under the real name.

const (
	fileMagic   = "RSIX\x00\x01\r\n"
	fileVersion = 1
	headerSize  = 64
	byteOrder   = 0x01020304
)

// FileMeta describes an index file.
type FileMeta struct {
	// Key identifies what the file was built from (IndexKey); a file
	// with another key is stale.
	Key string `json:"key"`
	// Lists maps each list source to the version hash the file was
	// built from.
	Lists map[string]string `json:"lists"`
	Built time.Time         `json:"built"`

	Entities  int  `json:"entities"`
	NbrShift  uint `json:"nbr_shift"`
	SkelShift uint `json:"skel_shift"`
	IDShift   uint `json:"id_shift"`
}

// ErrStale reports an index file built from other lists or another
// version of rampart.
var ErrStale = errors.New("index file is stale")

// section is one slice of an Index as bytes.
type section interface {
	bytes() []byte
	set(b []byte) error
}

type sectionOf[T any] struct{ p *[]T }

func (s sectionOf[T]) bytes() []byte {
	if len(*s.p) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(*s.p))), len(*s.p)*int(unsafe.Sizeof(z)))
}

func (s sectionOf[T]) set(b []byte) error {
	var z T
	size := int(unsafe.Sizeof(z))
	if len(b)%size != 0 {
		return fmt.Errorf("section of %d bytes is not a whole number of %d-byte records", len(b), size)
	}
	if len(b) == 0 {
		*s.p = nil
		return nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%unsafe.Alignof(z) != 0 {
		return errors.New("section is not aligned")
	}
	*s.p = unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
	return nil
}

// sections lists the slices of ix in file order.
func (ix *Index) sections() []section {
	return []section{
		sectionOf[vocabRec]{&ix.vocab}, sectionOf[byte]{&ix.strs}, sectionOf[uint32]{&ix.textTab},
		sectionOf[uint32]{&ix.nbr.dir}, sectionOf[uint64]{&ix.nbr.keys}, sectionOf[uint32]{&ix.nbr.vals}, sectionOf[int32]{&ix.nbr.over},
		sectionOf[uint32]{&ix.skel.dir}, sectionOf[uint64]{&ix.skel.keys}, sectionOf[uint32]{&ix.skel.vals}, sectionOf[int32]{&ix.skel.over},
		sectionOf[uint32]{&ix.postOff}, sectionOf[int32]{&ix.postIDs},
		sectionOf[nameHdr]{&ix.names}, sectionOf[nameTok]{&ix.toks},
		sectionOf[uint32]{&ix.entOff}, sectionOf[byte]{&ix.entBlob}, sectionOf[uint32]{&ix.jsonOff}, sectionOf[byte]{&ix.jsonBlob},
		sectionOf[uint32]{&ix.idTab},
		sectionOf[uint32]{&ix.idents.dir}, sectionOf[uint64]{&ix.idents.keys}, sectionOf[uint32]{&ix.idents.vals}, sectionOf[int32]{&ix.idents.over},
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func align(n, a int64) int64 { return (n + a - 1) / a * a }

// WriteFile writes ix to path: to a temporary file in the same folder,
// synced, then renamed over path, and the folder synced. meta.Entities
// and the table shapes are filled in.
func WriteFile(path string, ix *Index, meta FileMeta) (err error) {
	meta.Entities = ix.nEnts
	meta.NbrShift, meta.SkelShift, meta.IDShift = ix.nbr.shift, ix.skel.shift, ix.idents.shift
	if meta.Built.IsZero() {
		meta.Built = time.Now().UTC()
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	secs := ix.sections()
	tableOff := align(headerSize+int64(len(mj)), 8)
	off := align(tableOff+16*int64(len(secs)), 64)
	table := make([]byte, 16*len(secs))
	offs := make([]int64, len(secs))
	for i, s := range secs {
		n := int64(len(s.bytes()))
		offs[i] = off
		binary.LittleEndian.PutUint64(table[16*i:], uint64(off))
		binary.LittleEndian.PutUint64(table[16*i+8:], uint64(n))
		off = align(off+n, 64)
	}
	size := off
	var hdr [headerSize]byte
	copy(hdr[:], fileMagic)
	binary.LittleEndian.PutUint32(hdr[8:], fileVersion)
	binary.LittleEndian.PutUint32(hdr[12:], byteOrder)
	binary.LittleEndian.PutUint32(hdr[16:], uint32(len(mj)))
	binary.LittleEndian.PutUint32(hdr[20:], uint32(len(secs)))
	binary.LittleEndian.PutUint64(hdr[32:], uint64(size))

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".index-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	pos := int64(0)
	put := func(b []byte) {
		if err == nil {
			_, err = w.Write(b)
			pos += int64(len(b))
		}
	}
	pad := func(to int64) {
		var zero [64]byte
		for pos < to && err == nil {
			put(zero[:min(int64(len(zero)), to-pos)])
		}
	}
	put(hdr[:])
	put(mj)
	pad(tableOff)
	put(table)
	for i, s := range secs {
		pad(offs[i])
		put(s.bytes())
	}
	pad(size)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err = f.WriteAt(sum[:], 24); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// mapping is a read-only memory map of an index file.
type mapping struct {
	data []byte
	path string
}

// OpenFile maps the index file at path, after checking its header, its
// key (it must be wantKey, unless wantKey is "") and its checksum. The
// mapping is released when the Index is no longer reachable. An error
// wrapping ErrStale means the file was built from other lists or code;
// any other error, that it is missing, truncated or corrupt.
func OpenFile(path, wantKey string) (*Index, FileMeta, error) {
	var meta FileMeta
	f, err := os.Open(path)
	if err != nil {
		return nil, meta, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, meta, err
	}
	size := st.Size()
	var hdr [headerSize]byte
	if size < headerSize {
		return nil, meta, fmt.Errorf("%s: truncated (%d bytes)", path, size)
	}
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case string(hdr[:8]) != fileMagic:
		return nil, meta, fmt.Errorf("%s: not a screening index file", path)
	case binary.LittleEndian.Uint32(hdr[8:]) != fileVersion:
		return nil, meta, fmt.Errorf("%s: format version %d, want %d: %w", path, binary.LittleEndian.Uint32(hdr[8:]), fileVersion, ErrStale)
	case *(*uint32)(unsafe.Pointer(&hdr[12])) != byteOrder:
		return nil, meta, fmt.Errorf("%s: written on a machine of another byte order: %w", path, ErrStale)
	case int64(binary.LittleEndian.Uint64(hdr[32:])) != size:
		return nil, meta, fmt.Errorf("%s: %d bytes, header says %d: truncated or corrupt", path, size, binary.LittleEndian.Uint64(hdr[32:]))
	}
	metaLen := int64(binary.LittleEndian.Uint32(hdr[16:]))
	nsec := int64(binary.LittleEndian.Uint32(hdr[20:]))
	var ix Index
	secs := ix.sections()
	if nsec != int64(len(secs)) {
		return nil, meta, fmt.Errorf("%s: %d sections, want %d: corrupt", path, nsec, len(secs))
	}
	tableOff := align(headerSize+metaLen, 8)
	if metaLen > 1<<20 || tableOff+16*nsec > size {
		return nil, meta, fmt.Errorf("%s: meta of %d bytes out of bounds: corrupt", path, metaLen)
	}
	head := make([]byte, tableOff+16*nsec)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	// The checksum, read with pread rather than through the mapping, so
	// that checking it does not make every page resident in this process.
	crc := crc32.Update(0, castagnoli, hdr[:24])
	crc = crc32.Update(crc, castagnoli, make([]byte, 4))
	crc = crc32.Update(crc, castagnoli, hdr[28:])
	buf := make([]byte, 1<<20)
	for pos := int64(headerSize); pos < size; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return nil, meta, fmt.Errorf("%s: %w", path, err)
		}
		crc = crc32.Update(crc, castagnoli, buf[:n])
		pos += int64(n)
	}
	if want := binary.LittleEndian.Uint32(hdr[24:]); crc != want {
		return nil, meta, fmt.Errorf("%s: checksum %08x, header says %08x: corrupt", path, crc, want)
	}
	if err := json.Unmarshal(head[headerSize:headerSize+metaLen], &meta); err != nil {
		return nil, meta, fmt.Errorf("%s: meta: %v: corrupt", path, err)
	}
	if wantKey != "" && meta.Key != wantKey {
		return nil, meta, fmt.Errorf("%s: built for %.12s: %w", path, meta.Key, ErrStale)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, meta, fmt.Errorf("mapping %s: %w", path, err)
	}
	// Searches touch the file at random; read-ahead would only make
	// pages resident that no search needs.
	_ = unix.Madvise(data, unix.MADV_RANDOM)
	m := &mapping{data: data, path: path}
	fail := func(err error) (*Index, FileMeta, error) {
		unix.Munmap(data)
		return nil, meta, fmt.Errorf("%s: %w: corrupt", path, err)
	}
	table := head[tableOff:]
	for i, s := range secs {
		off := binary.LittleEndian.Uint64(table[16*i:])
		n := binary.LittleEndian.Uint64(table[16*i+8:])
		if off > uint64(size) || n > uint64(size)-off {
			return fail(fmt.Errorf("section %d out of bounds", i))
		}
		if err := s.set(data[off : off+n : off+n]); err != nil {
			return fail(fmt.Errorf("section %d: %v", i, err))
		}
	}
	ix.nEnts = meta.Entities
	ix.nbr.shift, ix.skel.shift, ix.idents.shift = meta.NbrShift, meta.SkelShift, meta.IDShift
	if err := ix.check(); err != nil {
		return fail(err)
	}
	ix.file = m
	out := &ix
	runtime.AddCleanup(out, func(m *mapping) { unix.Munmap(m.data) }, m)
	return out, meta, nil
}

// check verifies the shapes of a mapped index: the lengths that tie its
// slices together and the bounds of the last offsets. The checksum
// guards the contents.
func (ix *Index) check() error {
	nv := len(ix.vocab)
	switch {
	case ix.nEnts < 0 || len(ix.entOff) != ix.nEnts+1 || len(ix.jsonOff) != ix.nEnts+1:
		return errors.New("entity offsets do not match the entity count")
	case len(ix.postOff) != nv+1 || int(ix.postOff[nv]) != len(ix.postIDs):
		return errors.New("postings do not match the vocabulary")
	case int(ix.entOff[ix.nEnts]) != len(ix.entBlob) || int(ix.jsonOff[ix.nEnts]) != len(ix.jsonBlob):
		return errors.New("entity records do not match their offsets")
	case len(ix.textTab)&(len(ix.textTab)-1) != 0 || len(ix.idTab)&(len(ix.idTab)-1) != 0:
		return errors.New("look-up tables are not a power of two")
	}
	for _, t := range []*hashTable{&ix.nbr, &ix.skel, &ix.idents} {
		if t.shift > 64 || len(t.dir) != (1<<(64-t.shift))+1 || len(t.vals) != len(t.keys) {
			return errors.New("hash table shape")
		}
	}
	return nil
}
