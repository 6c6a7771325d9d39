package lists

import (
	"strings"

	"github.com/rampart-edge/rampart/internal/entity"
)

// compact re-homes the parsed entities of one list version so that they
// hold only what they show, in a few large blocks (issue 16: the parsed
// lists were most of a screening node's live heap):
//
//   - the parsers' strings are substrings of what they read (each
//     encoding/csv record is one string its fields point into, so an
//     OFAC entity kept its whole sdn.csv line, remarks and all, plus the
//     alt.csv and add.csv lines of its aliases and addresses); every
//     distinct text is copied once into one string per version and the
//     entities point into it. Repeated texts (program codes, countries,
//     name types, list names, cities, ...) are stored once.
//   - the slices (names, addresses, identifiers, the string lists) were
//     grown by append with spare capacity, one allocation each; they are
//     cut from one exactly sized array per element type.
//
// Entity ids are not put in the shared text: an id kept after its version
// is replaced (a case, a diff) holds a copy of its own, not the version's
// whole text. The entities keep their values: nil slices stay nil and
// empty ones empty, so their JSON, their digests and the screening
// answers are the same (TestCompactKeepsEntities).
func compact(ents []entity.Entity) {
	// Pass 1: the distinct texts and the slice sizes.
	// Each text's offset in the block, in the order eachText visits them,
	// so that pass 2 looks nothing up.
	offsets := make(map[string]int, len(ents)*4)
	var visits []int
	var distinct []string
	size := 0
	var nNames, nAddrs, nIDs, nStrs, nVessels int
	addText := func(p *string) {
		if *p == "" {
			return
		}
		o, ok := offsets[*p]
		if !ok {
			o = size
			offsets[*p] = o
			distinct = append(distinct, *p)
			size += len(*p)
		}
		visits = append(visits, o)
	}
	for i := range ents {
		e := &ents[i]
		nNames += len(e.Names)
		nAddrs += len(e.Addresses)
		nIDs += len(e.Identifiers)
		nStrs += len(e.Countries) + len(e.BirthDates) + len(e.BirthPlaces) + len(e.Nationalities) + len(e.Programs)
		if e.Vessel != nil {
			nVessels++
		}
		eachText(e, addText)
	}
	var text strings.Builder
	text.Grow(size)
	for _, t := range distinct {
		text.WriteString(t)
	}
	all := text.String()
	distinct, offsets = nil, nil
	next := 0
	rehome := func(p *string) {
		if *p == "" {
			return
		}
		o := visits[next]
		next++
		*p = all[o : o+len(*p)]
	}

	// Pass 2: point every text into all and cut the slices from shared
	// arrays (allocated only when some entity has elements of the type).
	names := make([]entity.Name, 0, nNames)
	addrs := make([]entity.Address, 0, nAddrs)
	ids := make([]entity.Identifier, 0, nIDs)
	strs := make([]string, 0, nStrs)
	vessels := make([]entity.VesselInfo, 0, nVessels)
	for i := range ents {
		e := &ents[i]
		e.ID = strings.Clone(e.ID)
		e.Names = cut(&names, e.Names)
		e.Addresses = cut(&addrs, e.Addresses)
		e.Identifiers = cut(&ids, e.Identifiers)
		e.Countries = cut(&strs, e.Countries)
		e.BirthDates = cut(&strs, e.BirthDates)
		e.BirthPlaces = cut(&strs, e.BirthPlaces)
		e.Nationalities = cut(&strs, e.Nationalities)
		e.Programs = cut(&strs, e.Programs)
		if e.Vessel != nil {
			vessels = append(vessels, *e.Vessel)
			e.Vessel = &vessels[len(vessels)-1]
		}
		eachText(e, rehome)
	}
}

// cut appends src to *pool, which has room for it (compact sized it), and
// returns the appended part with no spare capacity; nil stays nil and an
// empty slice stays empty and non-nil.
func cut[T any](pool *[]T, src []T) []T {
	if src == nil {
		return nil
	}
	if len(src) == 0 {
		return []T{}
	}
	start := len(*pool)
	*pool = append(*pool, src...)
	return (*pool)[start:len(*pool):len(*pool)]
}

// eachText calls fn with a pointer to every string of e but its id.
func eachText(e *entity.Entity, fn func(*string)) {
	fn(&e.Source)
	fn(&e.List)
	fn((*string)(&e.Kind))
	fn(&e.Name)
	fn(&e.Title)
	fn(&e.Gender)
	fn(&e.Listed)
	fn(&e.Remarks)
	for i := range e.Names {
		n := &e.Names[i]
		fn(&n.Full)
		fn((*string)(&n.Type))
		fn((*string)(&n.Strength))
		fn(&n.Given)
		fn(&n.Family)
		fn(&n.Script)
		fn(&n.Remark)
	}
	for i := range e.Addresses {
		a := &e.Addresses[i]
		fn(&a.Street)
		fn(&a.City)
		fn(&a.Region)
		fn(&a.PostalCode)
		fn(&a.Country)
		fn(&a.CountryCode)
		fn(&a.Remark)
	}
	for i := range e.Identifiers {
		d := &e.Identifiers[i]
		fn((*string)(&d.Type))
		fn(&d.Value)
		fn(&d.Label)
		fn(&d.Country)
		fn(&d.Remark)
	}
	for _, ss := range [][]string{e.Countries, e.BirthDates, e.BirthPlaces, e.Nationalities, e.Programs} {
		for i := range ss {
			fn(&ss[i])
		}
	}
	if v := e.Vessel; v != nil {
		fn(&v.CallSign)
		fn(&v.Type)
		fn(&v.Tonnage)
		fn(&v.GRT)
		fn(&v.Flag)
		fn(&v.Owner)
	}
}
