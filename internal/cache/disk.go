package cache

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The disk tier keeps one file per entry, named by the SHA-256 of its key:
// the body first, then the entry's metadata as JSON, then the metadata's
// length (4 bytes, big endian) and diskMagic. Putting the metadata last
// lets a body streamed to a temp file become an entry without copying.
// Files are written under a temp name and renamed, so a crash leaves the
// old file or the new one; a file whose lengths do not add up is removed
// when the index is rebuilt at start.
const (
	diskMagic   = "RMPCACH1"
	diskTrailer = 4 + len(diskMagic)
	diskSuffix  = ".rc"
	maxMetaSize = 1 << 20
)

type diskItem struct {
	meta *Entry // without Body
	size int64  // file size
	elem *list.Element
}

type disk struct {
	dir    string
	budget int64
	log    *slog.Logger

	mu    sync.Mutex
	items map[string]*diskItem // by key
	lru   *list.List           // of keys, most recent at the front
	used  int64

	// gen counts purges: a queued write from before a purge is dropped,
	// so a purge cannot be undone by a write that was still queued.
	gen     uint64
	queue   chan queued
	pending sync.WaitGroup
	wg      sync.WaitGroup
	once    sync.Once
}

type queued struct {
	e   *Entry
	gen uint64
}

func openDisk(dir string, budget int64, log *slog.Logger) (*disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening the disk cache: %w", err)
	}
	d := &disk{dir: dir, budget: budget, log: log, items: map[string]*diskItem{}, lru: list.New(),
		queue: make(chan queued, 1024)}
	if err := d.rebuild(); err != nil {
		return nil, err
	}
	d.wg.Add(1)
	go d.writer()
	return d, nil
}

// rebuild reads the metadata of every file in dir into the index and
// removes temp files and files that are torn or not ours.
func (d *disk) rebuild() error {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("reading the disk cache %s: %w", d.dir, err)
	}
	for _, de := range ents {
		name := de.Name()
		path := filepath.Join(d.dir, name)
		if strings.HasPrefix(name, "tmp-") {
			os.Remove(path)
			continue
		}
		if !strings.HasSuffix(name, diskSuffix) || !de.Type().IsRegular() {
			continue
		}
		meta, size, err := readMeta(path)
		if err != nil || fileName(meta.Key) != name {
			d.log.Warn("removing unreadable disk cache file", "file", path, "error", err)
			os.Remove(path)
			continue
		}
		meta.file = path
		d.items[meta.Key] = &diskItem{meta: meta, size: size, elem: d.lru.PushBack(meta.Key)}
		d.used += size
	}
	d.mu.Lock()
	d.evictLocked()
	d.mu.Unlock()
	return nil
}

func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + diskSuffix
}

// readMeta reads a file's trailer and metadata and checks that the
// lengths add up to the file's size.
func readMeta(path string) (*Entry, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := fi.Size()
	if size < int64(diskTrailer) {
		return nil, 0, errors.New("file too short")
	}
	var tr [diskTrailer]byte
	if _, err := f.ReadAt(tr[:], size-int64(diskTrailer)); err != nil {
		return nil, 0, fmt.Errorf("reading trailer: %w", err)
	}
	if string(tr[4:]) != diskMagic {
		return nil, 0, errors.New("bad magic")
	}
	mlen := int64(binary.BigEndian.Uint32(tr[:4]))
	if mlen > maxMetaSize || mlen > size-int64(diskTrailer) {
		return nil, 0, errors.New("bad metadata length")
	}
	buf := make([]byte, mlen)
	if _, err := f.ReadAt(buf, size-int64(diskTrailer)-mlen); err != nil {
		return nil, 0, fmt.Errorf("reading metadata: %w", err)
	}
	e := &Entry{}
	if err := json.Unmarshal(buf, e); err != nil {
		return nil, 0, fmt.Errorf("decoding metadata: %w", err)
	}
	if e.Size+mlen+int64(diskTrailer) != size || e.Key == "" {
		return nil, 0, errors.New("lengths do not add up (torn write)")
	}
	return e, size, nil
}

// get returns a copy of the entry's metadata; its body is read into
// memory when it is at most maxMem bytes, else left in the file.
func (d *disk) get(key string, maxMem int64) (*Entry, bool) {
	d.mu.Lock()
	it, ok := d.items[key]
	if ok {
		d.lru.MoveToFront(it.elem)
	}
	d.mu.Unlock()
	if !ok {
		return nil, false
	}
	e := *it.meta
	if e.Size <= maxMem && e.Status != 0 {
		f, err := os.Open(e.file)
		if err != nil {
			d.remove(key)
			return nil, false
		}
		defer f.Close()
		e.Body = make([]byte, e.Size)
		if _, err := io.ReadFull(f, e.Body); err != nil {
			d.log.Warn("reading disk cache file", "file", e.file, "error", err)
			d.remove(key)
			return nil, false
		}
	}
	return &e, true
}

// put queues an entry whose body is in memory for the writer, or, for an
// entry whose body was streamed to a temp file (e.file), appends the
// metadata and renames it into place now.
func (d *disk) put(e *Entry) {
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	if e.Body == nil && e.file != "" && e.Status != 0 {
		commit := d.commit
		if !strings.HasPrefix(filepath.Base(e.file), "tmp-") {
			// A revalidated entry whose body is already the key's file:
			// new metadata means a new file with a copy of the body.
			commit = d.rewrite
		}
		if err := commit(e, gen); err != nil {
			d.log.Warn("storing in the disk cache", "error", err)
		}
		return
	}
	d.pending.Add(1)
	select {
	case d.queue <- queued{e, gen}:
	default:
		d.pending.Done()
		// The disk is slower than the traffic: this entry stays in memory
		// only rather than holding up requests.
	}
}

func (d *disk) writer() {
	defer d.wg.Done()
	for q := range d.queue {
		if err := d.write(q.e, q.gen); err != nil {
			d.log.Warn("storing in the disk cache", "error", err)
		}
		d.pending.Done()
	}
}

func (d *disk) write(e *Entry, gen uint64) error {
	f, err := os.CreateTemp(d.dir, "tmp-*")
	if err != nil {
		return fmt.Errorf("creating a disk cache file: %w", err)
	}
	if _, err := f.Write(e.Body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	c := *e
	c.Body = nil
	c.file = f.Name()
	return d.finish(f, &c, gen)
}

// newTemp creates a temp file for a body being streamed to disk.
func (d *disk) newTemp() (*os.File, error) {
	f, err := os.CreateTemp(d.dir, "tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating a disk cache file: %w", err)
	}
	return f, nil
}

// rewrite writes e, whose body is in the file of a stored entry, to a new
// file with e's metadata, leaving the old file to readers until the rename.
func (d *disk) rewrite(e *Entry, gen uint64) error {
	old, err := os.Open(e.file)
	if err != nil {
		return fmt.Errorf("reopening %s: %w", e.file, err)
	}
	defer old.Close()
	f, err := d.newTemp()
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.NewSectionReader(old, 0, e.Size)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("copying %s: %w", e.file, err)
	}
	c := *e
	c.file = f.Name()
	return d.finish(f, &c, gen)
}

// commit appends e's metadata to its temp body file and renames it.
func (d *disk) commit(e *Entry, gen uint64) error {
	f, err := os.OpenFile(e.file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("reopening %s: %w", e.file, err)
	}
	return d.finish(f, e, gen)
}

// finish writes the metadata and trailer after the body already in f,
// closes it and renames it to the key's file, then indexes it.
func (d *disk) finish(f *os.File, e *Entry, gen uint64) error {
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return fail(fmt.Errorf("encoding metadata: %w", err))
	}
	var tr [diskTrailer]byte
	binary.BigEndian.PutUint32(tr[:4], uint32(len(meta)))
	copy(tr[4:], diskMagic)
	if _, err := f.Write(append(meta, tr[:]...)); err != nil {
		return fail(fmt.Errorf("writing %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	final := filepath.Join(d.dir, fileName(e.Key))
	size := e.Size + int64(len(meta)) + int64(diskTrailer)
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen {
		// Purged while it was being written.
		os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	m := *e
	m.Body = nil
	m.file = final
	if old, ok := d.items[e.Key]; ok {
		d.used -= old.size
		d.lru.Remove(old.elem)
	}
	d.items[e.Key] = &diskItem{meta: &m, size: size, elem: d.lru.PushFront(e.Key)}
	d.used += size
	d.evictLocked()
	return nil
}

// evictLocked removes least recently used files until the budget holds.
func (d *disk) evictLocked() {
	for d.used > d.budget && d.lru.Len() > 0 {
		key := d.lru.Remove(d.lru.Back()).(string)
		it := d.items[key]
		delete(d.items, key)
		d.used -= it.size
		os.Remove(it.meta.file)
	}
}

func (d *disk) remove(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if it, ok := d.items[key]; ok {
		delete(d.items, key)
		d.lru.Remove(it.elem)
		d.used -= it.size
		os.Remove(it.meta.file)
	}
}

func (d *disk) purge(m *matcher, also func(key string)) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	n := 0
	for key, it := range d.items {
		if m.match(it.meta) {
			also(key)
			delete(d.items, key)
			d.lru.Remove(it.elem)
			d.used -= it.size
			os.Remove(it.meta.file)
			n++
		}
	}
	return n
}

// usedBytes returns the bytes the disk tier's files take.
func (d *disk) usedBytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used
}

// close stops the writer after it has written what is queued.
func (d *disk) close() {
	d.once.Do(func() {
		close(d.queue)
		d.wg.Wait()
	})
}

// flush waits until the writer has written every queued entry.
func (d *disk) flush() { d.pending.Wait() }
