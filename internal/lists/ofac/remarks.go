package ofac

import (
	"sort"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
)

// remarkKind says what a labelled remark part holds.
type remarkKind int

const (
	rkID remarkKind = iota
	rkDOB
	rkPOB
	rkNationality
	rkGender
	rkCountry
)

type remarkRule struct {
	label string
	kind  remarkKind
	id    entity.IDType
}

// remarkRules maps the labels OFAC writes in Remarks to what they hold.
// Longer labels are tried first (see init).
var remarkRules = []remarkRule{
	{"DOB", rkDOB, ""},
	{"POB", rkPOB, ""},
	{"nationality", rkNationality, ""},
	{"Nationality", rkNationality, ""},
	{"citizen", rkNationality, ""},
	{"Gender", rkGender, ""},
	{"Nationality of Registration", rkCountry, ""},
	{"Other Vessel Flag", rkCountry, ""},

	{"Website", rkID, entity.Website},
	{"Email Address", rkID, entity.Email},
	{"Email", rkID, entity.Email},
	{"EMAIL", rkID, entity.Email},
	{"Digital Currency Address", rkID, entity.DigitalCurrency},
	{"Vessel Registration Identification IMO", rkID, entity.IMO},
	{"Vessel Registration Identification", rkID, entity.Registration},
	{"MMSI", rkID, entity.MMSI},
	{"Other Vessel Call Sign", rkID, entity.CallSign},
	{"SWIFT/BIC", rkID, entity.SWIFT},
	{"Phone", rkID, entity.Phone},
	{"Phone No.", rkID, entity.Phone},
	{"Phone Number", rkID, entity.Phone},
	{"PHONE", rkID, entity.Phone},
	{"Telephone", rkID, entity.Phone},
	{"Telephone No.", rkID, entity.Phone},
	{"Telephone Number", rkID, entity.Phone},
	{"Fax", rkID, entity.Phone},
	{"Fax No.", rkID, entity.Phone},

	{"Passport", rkID, entity.Passport},
	{"Diplomatic Passport", rkID, entity.Passport},
	{"Travel Document Number", rkID, entity.Passport},
	{"National ID No.", rkID, entity.NationalID},
	{"Identification Number", rkID, entity.NationalID},
	{"Personal ID Card", rkID, entity.NationalID},
	{"Cedula No.", rkID, entity.NationalID},
	{"D.N.I.", rkID, entity.NationalID},
	{"C.U.R.P.", rkID, entity.NationalID},
	{"C.U.I.", rkID, entity.NationalID},
	{"SSN", rkID, entity.NationalID},
	{"Turkish Identification Number", rkID, entity.NationalID},
	{"Citizen's Card Number", rkID, entity.NationalID},
	{"Birth Certificate Number", rkID, entity.NationalID},
	{"Residency Number", rkID, entity.NationalID},
	{"Numero de Identidad", rkID, entity.NationalID},
	{"Electoral Registry No.", rkID, entity.NationalID},
	{"Credencial electoral", rkID, entity.NationalID},
	{"I.F.E.", rkID, entity.NationalID},
	{"Driver's License No.", rkID, entity.NationalID},
	{"Tax ID No.", rkID, entity.TaxID},
	{"R.F.C.", rkID, entity.TaxID},
	{"RFC", rkID, entity.TaxID},
	{"V.A.T. Number", rkID, entity.TaxID},
	{"US FEIN", rkID, entity.TaxID},
	{"Italian Fiscal Code", rkID, entity.TaxID},
	{"C.U.I.T.", rkID, entity.TaxID},
	{"RTN", rkID, entity.TaxID},
	{"Registration ID", rkID, entity.Registration},
	{"Registration Number", rkID, entity.Registration},
	{"Company Number", rkID, entity.Registration},
	{"UK Company Number", rkID, entity.Registration},
	{"Business Registration Document #", rkID, entity.Registration},
	{"Commercial Registry Number", rkID, entity.Registration},
	{"Certificate of Incorporation Number", rkID, entity.Registration},
	{"Chamber of Commerce Number", rkID, entity.Registration},
	{"Legal Entity Number", rkID, entity.Registration},
	{"Unified Social Credit Code (USCC)", rkID, entity.Registration},
	{"United Social Credit Code Certificate (USCCC)", rkID, entity.Registration},
	{"Government Gazette Number", rkID, entity.Registration},
	{"Trade License No.", rkID, entity.Registration},
	{"Economic Register Number (CBLS)", rkID, entity.Registration},
	{"Enterprise Number", rkID, entity.Registration},
	{"Branch Unit Number", rkID, entity.Registration},
	{"Folio Mercantil No.", rkID, entity.Registration},
	{"Matricula Mercantil No", rkID, entity.Registration},
	{"Registered Charity No.", rkID, entity.Registration},
	{"D-U-N-S Number", rkID, entity.Registration},
	{"Central Registration System Number", rkID, entity.Registration},
	{"C.R. No.", rkID, entity.Registration},
	{"License", rkID, entity.Registration},
	{"Permit Number", rkID, entity.Registration},
	{"BIK (RU)", rkID, entity.Registration},
	{"Istanbul Chamber of Comm. No.", rkID, entity.Registration},
	{"Dubai Chamber of Commerce Membership No.", rkID, entity.Registration},

	{"Aircraft Manufacturer's Serial Number (MSN)", rkID, entity.AircraftSerial},
	{"Aircraft Construction Number (also called L/N or S/N or F/N)", rkID, entity.AircraftSerial},
	{"Aircraft Serial Identification", rkID, entity.AircraftSerial},
	{"Aircraft Tail Number", rkID, entity.AircraftTail},
	{"Previous Aircraft Tail Number", rkID, entity.AircraftTail},
	{"Aircraft Mode S Transponder Code", rkID, entity.OtherID},
	{"Aircraft Model", rkID, entity.OtherID},
	{"Aircraft Operator", rkID, entity.OtherID},
	{"Aircraft Manufacture Date", rkID, entity.OtherID},
	{"Linked To", rkID, entity.OtherID},
}

func init() {
	sort.SliceStable(remarkRules, func(i, j int) bool {
		return len(remarkRules[i].label) > len(remarkRules[j].label)
	})
}

// applyRemarks parses e.Remarks into structured fields. The remarks
// themselves are kept unchanged.
func applyRemarks(e *entity.Entity) {
	if e.Remarks == "" {
		return
	}
	for _, part := range strings.Split(e.Remarks, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if weakAlias(e, part) {
			continue
		}
		part = strings.TrimSpace(strings.TrimSuffix(part, "."))
		if p, ok := strings.CutPrefix(part, "alt. "); ok {
			part = p
		} else if p, ok := strings.CutPrefix(part, "Alt. "); ok {
			part = p
		}
		rule, value, ok := matchRule(part)
		if !ok || value == "" {
			continue
		}
		switch rule.kind {
		case rkDOB:
			e.BirthDates = appendUnique(e.BirthDates, normaliseDate(value))
		case rkPOB:
			e.BirthPlaces = appendUnique(e.BirthPlaces, value)
			if c, ok := country.Code(value); ok {
				e.Countries = appendUnique(e.Countries, c)
			}
		case rkNationality:
			if c, ok := country.Code(value); ok {
				e.Nationalities = appendUnique(e.Nationalities, c)
				e.Countries = appendUnique(e.Countries, c)
			} else {
				e.Nationalities = appendUnique(e.Nationalities, value)
			}
		case rkGender:
			if e.Gender == "" {
				e.Gender = value
			}
		case rkCountry:
			if c, ok := country.Code(value); ok {
				e.Countries = appendUnique(e.Countries, c)
			}
		case rkID:
			id := parseID(rule, part, value)
			if id.Value != "" {
				e.Identifiers = append(e.Identifiers, id)
			}
		}
	}
}

// matchRule finds the longest label that starts part and is followed by a
// space, a colon or "#"; value is the rest.
func matchRule(part string) (remarkRule, string, bool) {
	for _, r := range remarkRules {
		rest, ok := strings.CutPrefix(part, r.label)
		if !ok {
			continue
		}
		if rest != "" && rest[0] != ' ' && rest[0] != ':' && !strings.HasSuffix(r.label, ".") && !strings.HasSuffix(r.label, ")") {
			continue
		}
		if r.id == entity.DigitalCurrency {
			// "Digital Currency Address - XBT 1abc": the label keeps the coin.
			rest = strings.TrimSpace(rest)
			coin, addr, ok := strings.Cut(strings.TrimPrefix(rest, "- "), " ")
			if !ok {
				return r, "", true
			}
			r.label = r.label + " - " + coin
			rest = addr
		}
		rest = strings.TrimSpace(strings.TrimLeft(rest, ": "))
		return r, rest, true
	}
	return remarkRule{}, "", false
}

// parseID splits "VALUE (Country) issued 2001 expires 2010" into an
// identifier.
func parseID(r remarkRule, part, value string) entity.Identifier {
	id := entity.Identifier{Type: r.id, Label: r.label}
	switch r.id {
	case entity.Website, entity.Email, entity.DigitalCurrency:
		// These hold no spaces; OFAC sometimes runs a sentence on after
		// them ("www.alturath.org. Revival of ... Offices Worldwide").
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return id
		}
		id.Value = strings.TrimRight(fields[0], ".,")
		if len(fields) > 1 {
			id.Remark = strings.Join(fields[1:], " ")
		}
		return id
	case entity.OtherID:
		id.Value = strings.TrimSpace(value)
		return id
	}
	for _, kw := range []string{" issued ", " expires ", " Issue Date ", " Expire Date "} {
		if i := strings.Index(value, kw); i >= 0 {
			id.Remark = strings.TrimSpace(value[i:])
			value = value[:i]
			break
		}
	}
	value = strings.TrimSpace(value)
	if strings.HasSuffix(value, ")") {
		if i := strings.LastIndex(value, " ("); i >= 0 {
			inner := value[i+2 : len(value)-1]
			if c, ok := country.Code(inner); ok {
				id.Country = c
				value = strings.TrimSpace(value[:i])
			}
		}
	}
	id.Value = value
	return id
}

// weakAlias handles "a.k.a. 'NAME'" (and f.k.a., n.k.a.): OFAC's weak
// aliases, which appear only in the remarks.
func weakAlias(e *entity.Entity, part string) bool {
	var typ entity.NameType
	var rest string
	switch {
	case strings.HasPrefix(part, "a.k.a. "):
		typ, rest = entity.AKA, part[len("a.k.a. "):]
	case strings.HasPrefix(part, "f.k.a. "):
		typ, rest = entity.FKA, part[len("f.k.a. "):]
	case strings.HasPrefix(part, "n.k.a. "):
		typ, rest = entity.NKA, part[len("n.k.a. "):]
	default:
		return false
	}
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "."))
	rest = strings.Trim(rest, "'\"")
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return true
	}
	for _, n := range e.Names {
		if n.Full == rest && n.Type == typ {
			return true
		}
	}
	e.Names = append(e.Names, makeName(e.Kind, rest, typ, entity.Weak))
	return true
}

// normaliseDate turns OFAC's "02 Jan 1960", "Jan 1960" and "1960" into
// "1960-01-02", "1960-01" and "1960"; anything else ("circa 1951",
// "1960 to 1962") is kept as written.
func normaliseDate(s string) string {
	for _, l := range []struct{ in, out string }{
		{"02 Jan 2006", "2006-01-02"},
		{"2 Jan 2006", "2006-01-02"},
		{"Jan 2006", "2006-01"},
		{"2006", "2006"},
	} {
		if t, err := time.Parse(l.in, s); err == nil {
			return t.Format(l.out)
		}
	}
	return s
}
