// Package un reads the UN Security Council Consolidated List in its
// official XML format (root element CONSOLIDATED_LIST, schema
// https://www.un.org/sc/resources/sc-sanctions.xsd) into entity.Entity
// values.
//
// Each INDIVIDUAL and ENTITY becomes one entity with id
// "un:REFERENCE_NUMBER" (e.g. "un:QDi.001"). Individual aliases of quality
// "Good" are strong and "Low" are weak; entity aliases ("a.k.a.", "f.k.a.")
// are strong. NAME_ORIGINAL_SCRIPT becomes a Native name with its ISO 15924
// script. UN_LIST_TYPE (the sanctions regime: "Al-Qaida", "DPRK", ...) is
// the program.
//
// Parsing is strict: an XML syntax error, a different root element, an
// entry without reference number or name, a duplicate reference number or
// an empty list is an error naming the file, line or entry.
package un

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists/script"
)

// Source is the entity id prefix and source name of the UN list.
const Source = "un"

// ListName is the display name of the UN list.
const ListName = "UN Security Council"

// FileName is the official file name of the consolidated XML.
const FileName = "consolidated.xml"

// RootElement is the root element name of the consolidated XML.
const RootElement = "CONSOLIDATED_LIST"

type values struct {
	Values []string `xml:"VALUE"`
}

type alias struct {
	Quality        string `xml:"QUALITY"`
	Name           string `xml:"ALIAS_NAME"`
	DateOfBirth    string `xml:"DATE_OF_BIRTH"`
	CityOfBirth    string `xml:"CITY_OF_BIRTH"`
	CountryOfBirth string `xml:"COUNTRY_OF_BIRTH"`
	Note           string `xml:"NOTE"`
}

type address struct {
	Street        string `xml:"STREET"`
	City          string `xml:"CITY"`
	StateProvince string `xml:"STATE_PROVINCE"`
	ZipCode       string `xml:"ZIP_CODE"`
	Country       string `xml:"COUNTRY"`
	Note          string `xml:"NOTE"`
}

type dateOfBirth struct {
	TypeOfDate string `xml:"TYPE_OF_DATE"`
	Date       string `xml:"DATE"`
	Year       string `xml:"YEAR"`
	FromYear   string `xml:"FROM_YEAR"`
	ToYear     string `xml:"TO_YEAR"`
	Note       string `xml:"NOTE"`
}

type placeOfBirth struct {
	City          string `xml:"CITY"`
	StateProvince string `xml:"STATE_PROVINCE"`
	Country       string `xml:"COUNTRY"`
	Note          string `xml:"NOTE"`
}

type document struct {
	Type           string `xml:"TYPE_OF_DOCUMENT"`
	Type2          string `xml:"TYPE_OF_DOCUMENT2"`
	Number         string `xml:"NUMBER"`
	IssuingCountry string `xml:"ISSUING_COUNTRY"`
	CountryOfIssue string `xml:"COUNTRY_OF_ISSUE"`
	DateOfIssue    string `xml:"DATE_OF_ISSUE"`
	CityOfIssue    string `xml:"CITY_OF_ISSUE"`
	Note           string `xml:"NOTE"`
}

// record is one INDIVIDUAL or ENTITY element; the entity form simply
// leaves the individual-only fields empty.
type record struct {
	DataID             string         `xml:"DATAID"`
	FirstName          string         `xml:"FIRST_NAME"`
	SecondName         string         `xml:"SECOND_NAME"`
	ThirdName          string         `xml:"THIRD_NAME"`
	FourthName         string         `xml:"FOURTH_NAME"`
	ListType           string         `xml:"UN_LIST_TYPE"`
	Reference          string         `xml:"REFERENCE_NUMBER"`
	ListedOn           string         `xml:"LISTED_ON"`
	OriginalScript     string         `xml:"NAME_ORIGINAL_SCRIPT"`
	Gender             string         `xml:"GENDER"`
	Comments           string         `xml:"COMMENTS1"`
	Title              values         `xml:"TITLE"`
	Designation        values         `xml:"DESIGNATION"`
	Nationality        values         `xml:"NATIONALITY"`
	IndividualAliases  []alias        `xml:"INDIVIDUAL_ALIAS"`
	EntityAliases      []alias        `xml:"ENTITY_ALIAS"`
	IndividualAddress  []address      `xml:"INDIVIDUAL_ADDRESS"`
	EntityAddress      []address      `xml:"ENTITY_ADDRESS"`
	DatesOfBirth       []dateOfBirth  `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	PlacesOfBirth      []placeOfBirth `xml:"INDIVIDUAL_PLACE_OF_BIRTH"`
	IndividualDocument []document     `xml:"INDIVIDUAL_DOCUMENT"`
}

// ReadFile reads a consolidated XML file. See Parse.
func ReadFile(path string) ([]entity.Entity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	ents, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return ents, nil
}

// IsConsolidated reports whether data looks like the UN consolidated XML:
// its root element is CONSOLIDATED_LIST. Only the start of data is read.
func IsConsolidated(data []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(data))
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local == RootElement
		}
	}
	return false
}

// DateGenerated returns the dateGenerated attribute of the root element
// (when the UN generated the file, RFC 3339 with fractional seconds:
// "2026-02-27T00:00:09.554Z"); false when the root has none or it does not
// parse. Only the start of data is read.
func DateGenerated(data []byte) (time.Time, bool) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return time.Time{}, false
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != RootElement {
			return time.Time{}, false
		}
		for _, a := range se.Attr {
			if a.Name.Local == "dateGenerated" {
				t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(a.Value))
				return t, err == nil
			}
		}
		return time.Time{}, false
	}
	return time.Time{}, false
}

// Parse maps the consolidated XML to entities, individuals first, in file
// order.
func Parse(data []byte) ([]entity.Entity, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var ents []entity.Entity
	seen := map[string]bool{}
	rootSeen := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlErr(err, d)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !rootSeen {
			if se.Name.Local != RootElement {
				return nil, fmt.Errorf("parsing %s: root element is %s, want %s", FileName, se.Name.Local, RootElement)
			}
			rootSeen = true
			continue
		}
		var kind entity.Kind
		switch se.Name.Local {
		case "INDIVIDUAL":
			kind = entity.Person
		case "ENTITY":
			kind = entity.Organization
		default:
			continue
		}
		line, _ := d.InputPos()
		var r record
		if err := d.DecodeElement(&r, &se); err != nil {
			return nil, xmlErr(err, d)
		}
		e, err := r.toEntity(kind)
		if err != nil {
			return nil, fmt.Errorf("parsing %s line %d: %s: %w", FileName, line, se.Name.Local, err)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("parsing %s line %d: duplicate REFERENCE_NUMBER %s", FileName, line, strings.TrimPrefix(e.ID, Source+":"))
		}
		seen[e.ID] = true
		ents = append(ents, e)
	}
	if !rootSeen {
		return nil, fmt.Errorf("parsing %s: no %s element", FileName, RootElement)
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("parsing %s: no entries", FileName)
	}
	return ents, nil
}

func xmlErr(err error, d *xml.Decoder) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("parsing %s line %d: %w", FileName, se.Line, err)
	}
	if err == io.ErrUnexpectedEOF {
		line, _ := d.InputPos()
		return fmt.Errorf("parsing %s line %d: truncated XML: %w", FileName, line, err)
	}
	line, _ := d.InputPos()
	return fmt.Errorf("parsing %s line %d: %w", FileName, line, err)
}

func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (r *record) toEntity(kind entity.Kind) (entity.Entity, error) {
	ref := clean(r.Reference)
	if ref == "" {
		return entity.Entity{}, fmt.Errorf("DATAID %s has no REFERENCE_NUMBER", clean(r.DataID))
	}
	var parts []string
	for _, p := range []string{r.FirstName, r.SecondName, r.ThirdName, r.FourthName} {
		if p = clean(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return entity.Entity{}, fmt.Errorf("%s has no name", ref)
	}
	name := strings.Join(parts, " ")
	e := entity.Entity{
		ID:     Source + ":" + ref,
		Source: Source,
		List:   ListName,
		Kind:   kind,
		Name:   name,
		Names:  []entity.Name{{Full: name, Type: entity.Primary, Strength: entity.Strong}},
		Gender: clean(r.Gender),
		Listed: clean(r.ListedOn),
	}
	if p := clean(r.ListType); p != "" {
		e.Programs = []string{p}
	}
	var remarks []string
	if c := strings.TrimSpace(r.Comments); c != "" {
		remarks = append(remarks, c)
	}
	if d := cleanAll(r.Designation.Values); len(d) > 0 {
		remarks = append(remarks, "Designation: "+strings.Join(d, "; "))
	}
	e.Remarks = strings.Join(remarks, "\n")
	if t := cleanAll(r.Title.Values); len(t) > 0 {
		e.Title = strings.Join(t, "; ")
	}
	if os := clean(r.OriginalScript); os != "" {
		e.Names = append(e.Names, entity.Name{Full: os, Type: entity.Native, Strength: entity.Strong, Script: script.NonLatin(os)})
	}
	aliases := r.IndividualAliases
	if kind == entity.Organization {
		aliases = r.EntityAliases
	}
	for _, a := range aliases {
		n := clean(a.Name)
		if n == "" {
			continue
		}
		nm := entity.Name{Full: n, Type: entity.AKA, Strength: entity.Strong, Script: script.NonLatin(n)}
		switch strings.ToLower(clean(a.Quality)) {
		case "low":
			nm.Strength = entity.Weak
		case "f.k.a.", "fka":
			nm.Type = entity.FKA
		case "n.k.a.", "nka":
			nm.Type = entity.NKA
		}
		var rem []string
		if v := clean(a.DateOfBirth); v != "" {
			rem = append(rem, "DOB "+v)
		}
		if v := clean(a.CityOfBirth); v != "" {
			rem = append(rem, "POB "+v)
		}
		if v := clean(a.CountryOfBirth); v != "" {
			rem = append(rem, "country of birth "+v)
		}
		if v := clean(a.Note); v != "" {
			rem = append(rem, v)
		}
		nm.Remark = strings.Join(rem, "; ")
		e.Names = append(e.Names, nm)
	}
	for _, v := range cleanAll(r.Nationality.Values) {
		if c, ok := country.Code(v); ok {
			e.Nationalities = appendUnique(e.Nationalities, c)
			e.Countries = appendUnique(e.Countries, c)
		} else {
			e.Nationalities = appendUnique(e.Nationalities, v)
		}
	}
	addrs := r.IndividualAddress
	if kind == entity.Organization {
		addrs = r.EntityAddress
	}
	for _, a := range addrs {
		ad := entity.Address{
			Street:     clean(a.Street),
			City:       clean(a.City),
			Region:     clean(a.StateProvince),
			PostalCode: clean(a.ZipCode),
			Country:    clean(a.Country),
			Remark:     clean(a.Note),
		}
		if ad == (entity.Address{}) {
			continue
		}
		if c, ok := country.Code(ad.Country); ok {
			ad.CountryCode = c
			e.Countries = appendUnique(e.Countries, c)
		}
		e.Addresses = append(e.Addresses, ad)
	}
	for _, d := range r.DatesOfBirth {
		if v := dob(d); v != "" {
			e.BirthDates = appendUnique(e.BirthDates, v)
		}
	}
	for _, p := range r.PlacesOfBirth {
		var ps []string
		for _, v := range []string{p.City, p.StateProvince, p.Country} {
			if v = clean(v); v != "" {
				ps = append(ps, v)
			}
		}
		if len(ps) == 0 {
			continue
		}
		e.BirthPlaces = appendUnique(e.BirthPlaces, strings.Join(ps, ", "))
		if c, ok := country.Code(clean(p.Country)); ok {
			e.Countries = appendUnique(e.Countries, c)
		}
	}
	for _, d := range r.IndividualDocument {
		num := clean(d.Number)
		if num == "" {
			continue
		}
		label := clean(d.Type)
		id := entity.Identifier{Type: docType(label), Value: num, Label: label}
		if t2 := clean(d.Type2); t2 != "" {
			id.Label = strings.TrimSpace(label + " (" + t2 + ")")
		}
		ctry := clean(d.IssuingCountry)
		if ctry == "" {
			ctry = clean(d.CountryOfIssue)
		}
		if c, ok := country.Code(ctry); ok {
			id.Country = c
		}
		var rem []string
		if v := clean(d.DateOfIssue); v != "" {
			rem = append(rem, "issued "+v)
		}
		if v := clean(d.CityOfIssue); v != "" {
			rem = append(rem, "in "+v)
		}
		if id.Country == "" && ctry != "" {
			rem = append(rem, ctry)
		}
		if v := clean(d.Note); v != "" {
			rem = append(rem, v)
		}
		id.Remark = strings.Join(rem, "; ")
		e.Identifiers = append(e.Identifiers, id)
	}
	return e, nil
}

// docType maps the UN's TYPE_OF_DOCUMENT (English, French or Spanish) to
// an identifier type.
func docType(label string) entity.IDType {
	l := strings.ToLower(label)
	switch {
	case strings.Contains(l, "passport"), strings.Contains(l, "passeport"), strings.Contains(l, "pasaporte"):
		return entity.Passport
	case strings.Contains(l, "national identification"), strings.Contains(l, "identity"):
		return entity.NationalID
	case strings.Contains(l, "tax"):
		return entity.TaxID
	}
	return entity.OtherID
}

// dob renders one INDIVIDUAL_DATE_OF_BIRTH: "1958-02-22" or "1971" for
// EXACT, "circa 1971" for APPROXIMATELY, "1973 to 1974" for BETWEEN.
func dob(d dateOfBirth) string {
	v := clean(d.Date)
	if v == "" {
		v = clean(d.Year)
	}
	if from, to := clean(d.FromYear), clean(d.ToYear); v == "" && from != "" && to != "" {
		v = from + " to " + to
	}
	if v == "" {
		return ""
	}
	if strings.EqualFold(clean(d.TypeOfDate), "APPROXIMATELY") {
		v = "circa " + v
	}
	return v
}

func cleanAll(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = clean(v); v != "" && v != "na" {
			out = append(out, v)
		}
	}
	return out
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
