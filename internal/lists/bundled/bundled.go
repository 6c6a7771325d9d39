// Package bundled embeds a snapshot of the official sanctions lists in the
// binary, so that rampart screens against real lists even before any list
// is imported: OFAC SDN (legacy CSV set, 2023-12-28), the UN Security
// Council consolidated XML (2026-02-27) and the derived UK CSVs
// (~2026-04-29), with their PROVENANCE.md.
//
// The bundled lists are old by design; operators must import current
// lists (rampart lists import) for real screening. The archive
// lists.tar.zst is generated from testdata/sanctions by gen.go
// (go generate) and committed.
package bundled

import (
	"archive/tar"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"testing/fstest"
	"time"

	"github.com/klauspost/compress/zstd"
)

//go:generate go run gen.go

//go:embed lists.tar.zst
var archive []byte

// maxSize bounds the unpacked archive (64 MiB) as a guard against a
// corrupted build.
const maxSize = 64 << 20

// FS returns the bundled files as a read-only file system: ofac/sdn.csv,
// ofac/alt.csv, ofac/add.csv, ofac/sdn_comments.csv, un/consolidated.xml,
// uk-derived/subjects.csv, uk-derived/subject_names.csv and PROVENANCE.md.
// Each call unpacks the archive afresh (about 9 MiB, 20 ms) and keeps
// nothing, so the memory goes once the caller has imported the lists.
func FS() (fs.FS, error) {
	files, err := unpack(archive)
	if err != nil {
		return nil, err
	}
	return files, nil
}

func unpack(data []byte) (fstest.MapFS, error) {
	dec, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSize))
	if err != nil {
		return nil, fmt.Errorf("opening bundled lists: %w", err)
	}
	defer dec.Close()
	out := fstest.MapFS{}
	tr := tar.NewReader(io.LimitReader(dec, maxSize))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading bundled lists: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(h.Name)
		if !fs.ValidPath(name) {
			return nil, fmt.Errorf("reading bundled lists: invalid name %q", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading bundled lists: %s: %w", name, err)
		}
		out[name] = &fstest.MapFile{Data: b, Mode: 0o444, ModTime: time.Unix(0, 0)}
	}
	if len(out) == 0 {
		return nil, errors.New("reading bundled lists: archive is empty")
	}
	return out, nil
}
