// Package geoip maps client addresses to their country (ISO 3166-1 alpha-2)
// and autonomous system number, from MaxMind-format (.mmdb) databases: a
// country (or city) database, an ASN database, or one combined database
// holding both.
//
// The databases are read into memory (not mapped), so a file replaced on
// disk never changes under a running lookup. Reload re-reads the files
// whose size or modification time changed; Watch calls it periodically. A
// file that cannot be read or parsed at reload keeps the previous database
// in service and the error is returned (and logged by Watch).
package geoip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Info is what the databases know about one address. Zero fields mean
// unknown.
type Info struct {
	// Country is the ISO 3166-1 alpha-2 code, upper case ("FR").
	Country string
	// ASN is the autonomous system number.
	ASN uint32
}

// record is the part of a database record rampart reads; it covers the
// GeoIP2/GeoLite2 Country, City and ASN layouts and combined databases.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	ASN uint32 `maxminddb:"autonomous_system_number"`
}

// file is one database file and what was loaded from it.
type file struct {
	path    string
	reader  *maxminddb.Reader
	size    int64
	modTime time.Time

	// decoded caches the records already decoded, by data offset: a
	// database holds far fewer distinct records than networks (about 250
	// countries, some 80,000 ASNs), so after warm-up a lookup is a tree
	// walk and a map read, without allocating.
	mu      sync.RWMutex
	decoded map[uintptr]record
}

// maxDecoded bounds each file's cache of decoded records.
const maxDecoded = 1 << 18

// get returns the decoded record at res.
func (f *file) get(res maxminddb.Result) (record, bool) {
	off := res.Offset()
	f.mu.RLock()
	rec, ok := f.decoded[off]
	f.mu.RUnlock()
	if ok {
		return rec, true
	}
	return f.decode(res)
}

// decode decodes and caches the record at res (kept apart from get so that
// the record escapes to the heap only on a cache miss).
func (f *file) decode(res maxminddb.Result) (record, bool) {
	var rec record
	if err := res.Decode(&rec); err != nil {
		return record{}, false
	}
	off := res.Offset()
	f.mu.Lock()
	if len(f.decoded) < maxDecoded {
		f.decoded[off] = rec
	}
	f.mu.Unlock()
	return rec, true
}

// readers is the set of databases in service, swapped as a whole.
type readers struct {
	files []*file // one or two; the country database first
}

// DB looks up addresses in the configured databases. It is safe for
// concurrent use; a nil *DB knows nothing.
type DB struct {
	paths []string
	cur   atomic.Pointer[readers]
	mu    sync.Mutex // serialises Reload
}

// Open reads the databases at countryPath and asnPath (either may be ""; the
// same path twice is read once). It fails when a file cannot be read or is
// not an .mmdb database, naming the file.
func Open(countryPath, asnPath string) (*DB, error) {
	d := &DB{}
	for _, p := range []string{countryPath, asnPath} {
		if p != "" && (len(d.paths) == 0 || d.paths[0] != p) {
			d.paths = append(d.paths, p)
		}
	}
	if len(d.paths) == 0 {
		return nil, errors.New("opening geoip databases: no file configured")
	}
	rs := &readers{}
	for _, p := range d.paths {
		f, err := load(p)
		if err != nil {
			return nil, err
		}
		rs.files = append(rs.files, f)
	}
	d.cur.Store(rs)
	return d, nil
}

func load(path string) (*file, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening geoip database %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading geoip database %s: %w", path, err)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("parsing geoip database %s: %w", path, err)
	}
	return &file{path: path, reader: r, size: fi.Size(), modTime: fi.ModTime(), decoded: map[uintptr]record{}}, nil
}

// Paths returns the database files in service, the country database first.
func (d *DB) Paths() []string {
	if d == nil {
		return nil
	}
	return append([]string(nil), d.paths...)
}

// Lookup returns what the databases know about ip (IPv4-mapped IPv6
// addresses are unmapped first). An address in no database, an invalid
// address or a nil DB give a zero Info. Once a record has been seen it
// does not allocate.
func (d *DB) Lookup(ip netip.Addr) Info {
	var info Info
	if d == nil || !ip.IsValid() {
		return info
	}
	ip = ip.Unmap()
	for _, f := range d.cur.Load().files {
		res := f.reader.Lookup(ip)
		if !res.Found() {
			continue
		}
		rec, ok := f.get(res)
		if !ok {
			continue
		}
		if info.Country == "" && len(rec.Country.ISOCode) == 2 {
			info.Country = upper2(rec.Country.ISOCode)
		}
		if info.ASN == 0 {
			info.ASN = rec.ASN
		}
	}
	return info
}

// upper2 upper-cases a two-letter code without allocating when it is
// already upper case (as MaxMind's are).
func upper2(s string) string {
	if s[0] >= 'a' && s[0] <= 'z' || s[1] >= 'a' && s[1] <= 'z' {
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		return string(b)
	}
	return s
}

// Reload re-reads every database file whose size or modification time
// changed since it was loaded, and reports whether any did. On error the
// databases in service stay as they were and the error names the file.
func (d *DB) Reload() (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.cur.Load()
	next := &readers{files: make([]*file, len(old.files))}
	changed := false
	for i, f := range old.files {
		next.files[i] = f
		fi, err := os.Stat(f.path)
		if err != nil {
			return false, fmt.Errorf("checking geoip database %s: %w", f.path, err)
		}
		if fi.Size() == f.size && fi.ModTime().Equal(f.modTime) {
			continue
		}
		nf, err := load(f.path)
		if err != nil {
			return false, err
		}
		next.files[i] = nf
		changed = true
	}
	if changed {
		d.cur.Store(next)
	}
	return changed, nil
}

// Watch calls Reload every interval (30s when interval is 0 or less) until
// ctx is done, logging each reload and each failure to log (nil: none).
func (d *DB) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := d.Reload()
			if err != nil {
				log.Error("reloading geoip database, keeping the previous one", "error", err)
			} else if changed {
				log.Info("geoip database reloaded", "files", d.paths)
			}
		}
	}
}
