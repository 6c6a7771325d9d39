// Package ofac reads OFAC's legacy CSV distributions into entity.Entity
// values: the Specially Designated Nationals list (SDN.CSV, ALT.CSV,
// ADD.CSV, SDN_COMMENTS.CSV; ids ofac-sdn:ENT_NUM) and the Consolidated
// Sanctions List of OFAC's non-SDN lists (CONS_PRIM.CSV, CONS_ALT.CSV,
// CONS_ADD.CSV, CONS_COMMENTS.CSV; ids ofac-cons:ENT_NUM). OFAC keeps the
// SDN column layout in the consolidated files (cons_dat_spec.txt), so one
// parser reads both, parametrised by a Set.
//
// The files have no header row, use CRLF line ends, write "-0-" for an
// empty field and may end with a 0x1A (DOS end-of-file) byte. The main
// file (sdn.csv, cons_prim.csv) is required; the other three are
// optional, and may be empty (OFAC has published an empty
// cons_comments.csv). The State Department's Foreign Terrorist
// Organization designations appear in the SDN list as program tag FTO.
//
// Parsing is strict: a row with the wrong number of columns, a non-numeric
// ent_num, a duplicate ent_num, an unknown SDN_Type or an empty list is an
// error naming the file and line, so that a truncated or corrupted download
// never replaces a good list.
package ofac

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
)

// Source is the entity id prefix and source name of the SDN list.
const Source = "ofac-sdn"

// ListName is the display name of the SDN list.
const ListName = "OFAC SDN"

// File names of the SDN set as distributed (OFAC publishes them in upper
// case; both cases are accepted).
const (
	SDNFile      = "sdn.csv"
	AltFile      = "alt.csv"
	AddFile      = "add.csv"
	CommentsFile = "sdn_comments.csv"
)

// ConsSource is the entity id prefix and source name of the Consolidated
// (non-SDN) list; the product spec names its ids ofac-cons:ENT_NUM.
const ConsSource = "ofac-cons"

// ConsListName is the display name of the Consolidated (non-SDN) list.
const ConsListName = "OFAC Consolidated (non-SDN)"

// File names of the consolidated set (CONS_PRIM.CSV etc. on OFAC's
// Sanctions List Service).
const (
	ConsPrimFile     = "cons_prim.csv"
	ConsAltFile      = "cons_alt.csv"
	ConsAddFile      = "cons_add.csv"
	ConsCommentsFile = "cons_comments.csv"
)

// Set is one of OFAC's legacy CSV sets: its source (the id prefix), its
// display name and its four canonical (lower-case) file names.
type Set struct {
	Source, List             string
	Main, Alt, Add, Comments string
}

// The two sets OFAC publishes in this layout.
var (
	SDN          = Set{Source: Source, List: ListName, Main: SDNFile, Alt: AltFile, Add: AddFile, Comments: CommentsFile}
	Consolidated = Set{Source: ConsSource, List: ConsListName, Main: ConsPrimFile, Alt: ConsAltFile, Add: ConsAddFile, Comments: ConsCommentsFile}
)

// Sets are the OFAC CSV sets, SDN first.
var Sets = []Set{SDN, Consolidated}

// Names returns the set's canonical file names, the main file first.
func (s Set) Names() []string { return []string{s.Main, s.Alt, s.Add, s.Comments} }

// Column counts of each file (the same in both sets).
const (
	sdnCols      = 12
	altCols      = 5
	addCols      = 6
	commentsCols = 2
)

// Files holds the raw content of one OFAC legacy CSV set. Main (sdn.csv
// or cons_prim.csv) is required; nil optional files are skipped, empty
// ones have no rows.
type Files struct {
	Main, Alt, Add, Comments []byte
}

// ReadDir reads the SDN set from a directory. See Set.ReadFS.
func ReadDir(dir string) ([]entity.Entity, error) { return SDN.ReadDir(dir) }

// ReadFS reads the SDN set from the root of fsys. See Set.ReadFS.
func ReadFS(fsys fs.FS) ([]entity.Entity, error) { return SDN.ReadFS(fsys) }

// Parse maps the SDN set's files to entities. See Set.Parse.
func Parse(f Files) ([]entity.Entity, error) { return SDN.Parse(f) }

// FileNames returns the actual names of the SDN set's files present at the
// root of fsys. See Set.FileNames.
func FileNames(fsys fs.FS) []string { return SDN.FileNames(fsys) }

// ReadDir reads the set from a directory. See ReadFS.
func (s Set) ReadDir(dir string) ([]entity.Entity, error) {
	return s.ReadFS(os.DirFS(dir))
}

// ReadFS reads the set from the root of fsys: the main file is required,
// the other three are optional. Names are matched in lower or upper case.
func (s Set) ReadFS(fsys fs.FS) ([]entity.Entity, error) {
	var f Files
	var err error
	if f.Main, err = readOptional(fsys, s.Main); err != nil {
		return nil, err
	}
	if f.Main == nil {
		return nil, fmt.Errorf("reading %s: %w", s.Main, fs.ErrNotExist)
	}
	if f.Alt, err = readOptional(fsys, s.Alt); err != nil {
		return nil, err
	}
	if f.Add, err = readOptional(fsys, s.Add); err != nil {
		return nil, err
	}
	if f.Comments, err = readOptional(fsys, s.Comments); err != nil {
		return nil, err
	}
	return s.Parse(f)
}

// FileNames returns the actual names of the set's files present at the
// root of fsys, the main file first; it is empty when there is no main
// file.
func (s Set) FileNames(fsys fs.FS) []string {
	var out []string
	for _, n := range s.Names() {
		for _, c := range []string{n, strings.ToUpper(n)} {
			if st, err := fs.Stat(fsys, c); err == nil && st.Mode().IsRegular() {
				out = append(out, c)
				break
			}
		}
		if len(out) == 0 {
			return nil
		}
	}
	return out
}

// readOptional reads name (or its upper-case spelling); nil if neither
// exists, a non-nil empty slice for an empty file.
func readOptional(fsys fs.FS, name string) ([]byte, error) {
	for _, n := range []string{name, strings.ToUpper(name)} {
		b, err := fs.ReadFile(fsys, n)
		if err == nil {
			if b == nil {
				b = []byte{}
			}
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading %s: %w", n, err)
		}
	}
	return nil, nil
}

// Parse maps one CSV set to entities, in main-file order. Rows of the
// optional files that refer to an ent_num missing from the main file are
// ignored (OFAC's own files are consistent; trimmed copies are not).
func (s Set) Parse(f Files) ([]entity.Entity, error) {
	ents, index, err := s.parseMain(f.Main)
	if err != nil {
		return nil, err
	}
	if f.Comments != nil {
		err := eachRow(s.Comments, f.Comments, commentsCols, func(line int, rec []string) error {
			n, err := entNum(rec[0])
			if err != nil {
				return fmt.Errorf("parsing %s line %d: %w", s.Comments, line, err)
			}
			if i, ok := index[n]; ok {
				ents[i].Remarks += field(rec[1])
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range ents {
		applyRemarks(&ents[i])
	}
	if f.Alt != nil {
		err := eachRow(s.Alt, f.Alt, altCols, func(line int, rec []string) error {
			n, err := entNum(rec[0])
			if err != nil {
				return fmt.Errorf("parsing %s line %d: %w", s.Alt, line, err)
			}
			i, ok := index[n]
			if !ok {
				return nil
			}
			name := field(rec[3])
			if name == "" {
				return fmt.Errorf("parsing %s line %d: empty alt_name", s.Alt, line)
			}
			var typ entity.NameType
			switch strings.ToLower(field(rec[2])) {
			case "aka", "":
				typ = entity.AKA
			case "fka":
				typ = entity.FKA
			case "nka":
				typ = entity.NKA
			default:
				return fmt.Errorf("parsing %s line %d: unknown alt_type %q", s.Alt, line, rec[2])
			}
			nm := makeName(ents[i].Kind, name, typ, entity.Strong)
			nm.Remark = field(rec[4])
			ents[i].Names = append(ents[i].Names, nm)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if f.Add != nil {
		err := eachRow(s.Add, f.Add, addCols, func(line int, rec []string) error {
			n, err := entNum(rec[0])
			if err != nil {
				return fmt.Errorf("parsing %s line %d: %w", s.Add, line, err)
			}
			i, ok := index[n]
			if !ok {
				return nil
			}
			a := entity.Address{
				Street:  field(rec[2]),
				City:    field(rec[3]),
				Country: field(rec[4]),
				Remark:  field(rec[5]),
			}
			if a == (entity.Address{}) {
				return nil
			}
			if a.Country != "" {
				if c, ok := country.Code(a.Country); ok {
					a.CountryCode = c
					ents[i].Countries = appendUnique(ents[i].Countries, c)
				}
			}
			ents[i].Addresses = append(ents[i].Addresses, a)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range ents {
		if len(ents[i].Countries) > 1 {
			sort.Strings(ents[i].Countries)
		}
	}
	return ents, nil
}

func (s Set) parseMain(data []byte) ([]entity.Entity, map[int]int, error) {
	var ents []entity.Entity
	index := make(map[int]int)
	err := eachRow(s.Main, data, sdnCols, func(line int, rec []string) error {
		n, err := entNum(rec[0])
		if err != nil {
			return fmt.Errorf("parsing %s line %d: %w", s.Main, line, err)
		}
		if _, dup := index[n]; dup {
			return fmt.Errorf("parsing %s line %d: duplicate ent_num %d", s.Main, line, n)
		}
		name := field(rec[1])
		if name == "" {
			return fmt.Errorf("parsing %s line %d: ent_num %d has an empty SDN_Name", s.Main, line, n)
		}
		var kind entity.Kind
		switch strings.ToLower(field(rec[2])) {
		case "individual":
			kind = entity.Person
		case "":
			kind = entity.Organization
		case "vessel":
			kind = entity.Vessel
		case "aircraft":
			kind = entity.Aircraft
		default:
			return fmt.Errorf("parsing %s line %d: ent_num %d has unknown SDN_Type %q", s.Main, line, n, rec[2])
		}
		e := entity.Entity{
			ID:       s.Source + ":" + strconv.Itoa(n),
			Source:   s.Source,
			List:     s.List,
			Kind:     kind,
			Title:    field(rec[4]),
			Programs: splitPrograms(field(rec[3])),
			Remarks:  field(rec[11]),
		}
		primary := makeName(kind, name, entity.Primary, entity.Strong)
		e.Name = name
		e.Names = []entity.Name{primary}
		if v := (entity.VesselInfo{
			CallSign: field(rec[5]),
			Type:     field(rec[6]),
			Tonnage:  field(rec[7]),
			GRT:      field(rec[8]),
			Flag:     field(rec[9]),
			Owner:    field(rec[10]),
		}); v != (entity.VesselInfo{}) || kind == entity.Vessel {
			e.Vessel = &v
			if v.CallSign != "" {
				e.Identifiers = append(e.Identifiers, entity.Identifier{Type: entity.CallSign, Value: v.CallSign, Label: "Call Sign"})
			}
			if v.Flag != "" {
				if c, ok := country.Code(v.Flag); ok {
					e.Countries = appendUnique(e.Countries, c)
				}
			}
		}
		index[n] = len(ents)
		ents = append(ents, e)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(ents) == 0 {
		return nil, nil, fmt.Errorf("parsing %s: no entries", s.Main)
	}
	return ents, index, nil
}

// eachRow calls fn for every CSV record of data, with its 1-based line
// number. The trailing 0x1A byte and blank lines are ignored; every record
// must have exactly cols fields.
func eachRow(file string, data []byte, cols int, fn func(line int, rec []string) error) error {
	data = bytes.TrimRight(data, "\x1a\r\n\t ")
	if len(data) == 0 {
		return nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parsing %s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != cols {
			return fmt.Errorf("parsing %s line %d: %d columns, want %d", file, line, len(rec), cols)
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// field trims a CSV field and maps OFAC's "-0-" to "".
func field(s string) string {
	s = strings.TrimSpace(s)
	if s == "-0-" {
		return ""
	}
	return s
}

func entNum(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("ent_num %q is not a positive number", s)
	}
	return n, nil
}

func splitPrograms(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	var out []string
	for _, p := range strings.Split(s, "] [") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// makeName builds a Name. People's "SURNAME, Given names" becomes Full
// "Given names SURNAME" with Given and Family kept.
func makeName(kind entity.Kind, raw string, typ entity.NameType, st entity.Strength) entity.Name {
	n := entity.Name{Full: raw, Type: typ, Strength: st}
	if kind != entity.Person {
		return n
	}
	fam, given, ok := strings.Cut(raw, ",")
	if !ok {
		return n
	}
	fam, given = strings.TrimSpace(fam), strings.TrimSpace(given)
	if fam == "" || given == "" {
		return n
	}
	n.Family, n.Given = fam, given
	n.Full = given + " " + fam
	return n
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
