//go:build ignore

// gen builds lists.tar.zst from the repository's testdata/sanctions: the
// folders ofac/ (sdn.csv, alt.csv, add.csv, sdn_comments.csv), un/ and
// uk-derived/ plus PROVENANCE.md, unchanged. The archive is deterministic
// (sorted names, fixed times and owners), so regenerating it from the
// same files gives the same bytes. Run it with go generate.
package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/klauspost/compress/zstd"
)

const src = "../../../testdata/sanctions"

var include = []string{"PROVENANCE.md", "ofac", "un", "uk-derived"}

func main() {
	var names []string
	for _, inc := range include {
		err := filepath.WalkDir(filepath.Join(src, inc), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				rel, err := filepath.Rel(src, p)
				if err != nil {
					return err
				}
				names = append(names, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			log.Fatalf("walking %s: %v", inc, err)
		}
	}
	sort.Strings(names)
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	epoch := time.Unix(0, 0).UTC()
	dirs := map[string]bool{}
	for _, n := range names {
		if d := path.Dir(n); d != "." && !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				log.Fatal(err)
			}
		}
		data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(n)))
		if err != nil {
			log.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			log.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			log.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		log.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		log.Fatal(err)
	}
	out := enc.EncodeAll(tarBuf.Bytes(), nil)
	if err := os.WriteFile("lists.tar.zst.tmp", out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename("lists.tar.zst.tmp", "lists.tar.zst"); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("lists.tar.zst: %d files, %d bytes tar, %d bytes zstd\n", len(names), tarBuf.Len(), len(out))
}
