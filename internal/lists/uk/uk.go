// Package uk reads the UK Sanctions List (FCDO) from a pair of derived CSV
// files, subjects.csv and subject_names.csv, into entity.Entity values.
//
// This is a DERIVED format, not an official one: the two files are produced
// by the third-party covyr/uk-sanctions-list transform.py from the FCDO's
// UK-Sanctions-List.csv (duplicates removed, entity names moved into
// name_6, some "least informative" names dropped). See
// testdata/sanctions/PROVENANCE.md. Use it for name coverage; the official
// FCDO and OFSI formats need their own parsers.
//
// Entities get the id "uk:OFSI_GROUP_ID". The FCDO lists the same person
// once per regime (e.g. BEL0005 and GHR0055 share group 13923); such
// subjects are merged into one entity carrying every name and every regime
// (the three-letter prefix of the UK Sanctions List ID, e.g. "RUS"). A
// subject without a group id gets "uk:UNIQUE_ID".
//
// Parsing is strict: a wrong header, a wrong column count, an unknown
// subject_type or name_type, a name for an unknown subject, a subject
// without a primary name or an empty list is an error naming the file and
// line.
package uk

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/script"
)

// Source is the entity id prefix and source name of the UK list.
const Source = "uk"

// ListName is the display name of the UK list.
const ListName = "UK Sanctions List"

// File names of the derived set.
const (
	SubjectsFile = "subjects.csv"
	NamesFile    = "subject_names.csv"
)

var (
	subjectsHeader = []string{"unique_id", "subject_type", "un_reference_number", "ofsi_group_id", "date_designated", "last_updated"}
	namesHeader    = []string{"name_id", "unique_id", "name_type", "alias_strength", "full_name", "name_6", "name_1", "name_2", "name_3", "name_4", "name_5"}
)

// ReadDir reads subjects.csv and subject_names.csv from dir. See Parse.
func ReadDir(dir string) ([]entity.Entity, error) {
	return ReadFS(os.DirFS(dir))
}

// ReadFS reads subjects.csv and subject_names.csv from the root of fsys.
func ReadFS(fsys fs.FS) ([]entity.Entity, error) {
	subjects, err := fs.ReadFile(fsys, SubjectsFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", SubjectsFile, err)
	}
	names, err := fs.ReadFile(fsys, NamesFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", NamesFile, err)
	}
	return Parse(subjects, names)
}

type subject struct {
	id    string // entity id
	index int    // position in the output
}

// Parse maps the two files to entities, in subjects.csv order (merged
// subjects at the position of their first row).
func Parse(subjects, names []byte) ([]entity.Entity, error) {
	var ents []entity.Entity
	byGroup := map[string]int{}      // entity id -> index
	byUnique := map[string]subject{} // unique_id -> entity
	err := eachRow(SubjectsFile, subjects, subjectsHeader, func(line int, rec []string) error {
		uid := strings.TrimSpace(rec[0])
		if uid == "" {
			return fmt.Errorf("parsing %s line %d: empty unique_id", SubjectsFile, line)
		}
		if _, dup := byUnique[uid]; dup {
			return fmt.Errorf("parsing %s line %d: duplicate unique_id %s", SubjectsFile, line, uid)
		}
		var kind entity.Kind
		switch strings.TrimSpace(rec[1]) {
		case "individual":
			kind = entity.Person
		case "entity":
			kind = entity.Organization
		case "ship":
			kind = entity.Vessel
		default:
			return fmt.Errorf("parsing %s line %d: %s has unknown subject_type %q", SubjectsFile, line, uid, rec[1])
		}
		id := Source + ":" + uid
		if g := strings.TrimSpace(rec[3]); g != "" {
			id = Source + ":" + g
		}
		listed, err := date(rec[4])
		if err != nil {
			return fmt.Errorf("parsing %s line %d: %s date_designated: %w", SubjectsFile, line, uid, err)
		}
		regime := uid
		if len(uid) > 3 {
			regime = strings.TrimRight(uid, "0123456789")
		}
		i, ok := byGroup[id]
		if !ok {
			i = len(ents)
			byGroup[id] = i
			ents = append(ents, entity.Entity{ID: id, Source: Source, List: ListName, Kind: kind, Listed: listed})
		} else if ents[i].Kind != kind {
			return fmt.Errorf("parsing %s line %d: %s is a %s but shares group %s with a %s", SubjectsFile, line, uid, kind, id, ents[i].Kind)
		}
		e := &ents[i]
		if listed != "" && (e.Listed == "" || listed < e.Listed) {
			e.Listed = listed
		}
		if !slices.Contains(e.Programs, regime) {
			e.Programs = append(e.Programs, regime)
		}
		e.Identifiers = append(e.Identifiers, entity.Identifier{Type: entity.OtherID, Value: uid, Label: "UK Sanctions List ID"})
		if un := strings.TrimSpace(rec[2]); un != "" && !hasID(e.Identifiers, un) {
			e.Identifiers = append(e.Identifiers, entity.Identifier{Type: entity.OtherID, Value: un, Label: "UN Reference Number"})
		}
		byUnique[uid] = subject{id: id, index: i}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("parsing %s: no subjects", SubjectsFile)
	}
	err = eachRow(NamesFile, names, namesHeader, func(line int, rec []string) error {
		uid := strings.TrimSpace(rec[1])
		s, ok := byUnique[uid]
		if !ok {
			return fmt.Errorf("parsing %s line %d: unique_id %q is not in %s", NamesFile, line, uid, SubjectsFile)
		}
		full := clean(rec[4])
		if full == "" {
			return fmt.Errorf("parsing %s line %d: %s has an empty full_name", NamesFile, line, uid)
		}
		e := &ents[s.index]
		n := entity.Name{Full: full, Strength: entity.Strong, Script: script.NonLatin(full)}
		switch strings.TrimSpace(rec[2]) {
		case "primary":
			n.Type = entity.Primary
		case "primary_variation":
			n.Type = entity.Variant
		case "alias":
			n.Type = entity.AKA
		default:
			return fmt.Errorf("parsing %s line %d: %s has unknown name_type %q", NamesFile, line, uid, rec[2])
		}
		switch strings.TrimSpace(rec[3]) {
		case "", "good_quality_aka":
		case "low_quality_aka":
			n.Strength = entity.Weak
		default:
			return fmt.Errorf("parsing %s line %d: %s has unknown alias_strength %q", NamesFile, line, uid, rec[3])
		}
		if e.Kind == entity.Person {
			var given []string
			for _, g := range rec[6:11] {
				if g = clean(g); g != "" {
					given = append(given, g)
				}
			}
			if fam := clean(rec[5]); fam != "" && len(given) > 0 {
				n.Given, n.Family = strings.Join(given, " "), fam
			}
		}
		if n.Type == entity.Primary && e.Name != "" {
			// A second primary name (a merged subject, or the FCDO's own
			// repeat) is kept as a variant.
			if e.Name == full {
				return nil
			}
			n.Type = entity.Variant
		}
		for _, old := range e.Names {
			if old.Full == full && old.Type == n.Type && old.Strength == n.Strength {
				return nil
			}
		}
		if n.Type == entity.Primary {
			e.Name = full
			e.Names = append([]entity.Name{n}, e.Names...)
			return nil
		}
		e.Names = append(e.Names, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range ents {
		if ents[i].Name == "" {
			return nil, fmt.Errorf("parsing %s: %s has no primary name", NamesFile, ents[i].ID)
		}
	}
	return ents, nil
}

func hasID(ids []entity.Identifier, v string) bool {
	for _, id := range ids {
		if id.Value == v {
			return true
		}
	}
	return false
}

// date turns "29/06/2012" into "2012-06-29"; "" stays "".
func date(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	t, err := time.Parse("02/01/2006", s)
	if err != nil {
		return "", fmt.Errorf("date %q is not DD/MM/YYYY", s)
	}
	return t.Format("2006-01-02"), nil
}

func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// eachRow checks the header of a CSV file and calls fn for every record
// with its 1-based line number.
func eachRow(file string, data []byte, header []string, fn func(line int, rec []string) error) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			if first {
				return fmt.Errorf("parsing %s: empty file", file)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("parsing %s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			if !slices.Equal(rec, header) {
				return fmt.Errorf("parsing %s line %d: header %q, want %q", file, line, strings.Join(rec, ","), strings.Join(header, ","))
			}
			continue
		}
		if len(rec) != len(header) {
			return fmt.Errorf("parsing %s line %d: %d columns, want %d", file, line, len(rec), len(header))
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}
