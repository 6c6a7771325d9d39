// Package entity is the one model every sanctions list is mapped onto: a
// listed person, organisation, vessel or aircraft with its names,
// addresses, dates, programs and identifiers.
package entity

// Kind is what a listed entity is.
type Kind string

// The kinds of listed entities.
const (
	Person       Kind = "person"
	Organization Kind = "organization"
	Vessel       Kind = "vessel"
	Aircraft     Kind = "aircraft"
)

// NameType says how a list labels a name.
type NameType string

// Name types as the lists label them.
const (
	Primary NameType = "primary" // the entry's primary name
	AKA     NameType = "aka"     // also known as
	FKA     NameType = "fka"     // formerly known as
	NKA     NameType = "nka"     // now known as
	Variant NameType = "variant" // a spelling variant of the primary name
	Native  NameType = "native"  // the name in its original script
)

// Strength is how much a list trusts an alias. OFAC's "weak" a.k.a.s
// (kept only in the remarks) are broad and often generic.
type Strength string

// Alias strengths.
const (
	Strong Strength = "strong"
	Weak   Strength = "weak"
)

// Name is one name of an entity. For people, Full is in natural order
// ("Given SURNAME") when the list allows it; Given and Family keep the parts
// when the list separates them.
type Name struct {
	Full     string   `json:"full"`
	Type     NameType `json:"type"`
	Strength Strength `json:"strength"`
	Given    string   `json:"given,omitempty"`
	Family   string   `json:"family,omitempty"`
	// Script is the ISO 15924 code of a non-Latin name ("Arab", "Cyrl").
	Script string `json:"script,omitempty"`
	Remark string `json:"remark,omitempty"`
}

// IDType names a kind of identifier.
type IDType string

// Identifier types. Website, Email and DigitalCurrency are matched exactly
// by screening; the rest are carried for display and exact look-up.
const (
	Website         IDType = "website"
	Email           IDType = "email"
	DigitalCurrency IDType = "digital_currency_address"
	Phone           IDType = "phone"
	IMO             IDType = "imo"
	MMSI            IDType = "mmsi"
	CallSign        IDType = "call_sign"
	Passport        IDType = "passport"
	NationalID      IDType = "national_id"
	TaxID           IDType = "tax_id"
	Registration    IDType = "registration"
	SWIFT           IDType = "swift_bic"
	AircraftSerial  IDType = "aircraft_serial"
	AircraftTail    IDType = "aircraft_tail"
	OtherID         IDType = "other"
)

// Identifier is one document, number or address that identifies an entity.
type Identifier struct {
	Type  IDType `json:"type"`
	Value string `json:"value"`
	// Label is the list's own name for the identifier ("Digital Currency
	// Address - XBT", "Passport").
	Label   string `json:"label,omitempty"`
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2 when known
	Remark  string `json:"remark,omitempty"`
}

// Address is a postal address as listed.
type Address struct {
	Street      string `json:"street,omitempty"`
	City        string `json:"city,omitempty"`
	Region      string `json:"region,omitempty"`
	PostalCode  string `json:"postal_code,omitempty"`
	Country     string `json:"country,omitempty"`      // as written by the list
	CountryCode string `json:"country_code,omitempty"` // ISO 3166-1 alpha-2 when known
	Remark      string `json:"remark,omitempty"`
}

// VesselInfo holds what the lists record of a ship.
type VesselInfo struct {
	CallSign string `json:"call_sign,omitempty"`
	Type     string `json:"type,omitempty"`
	Tonnage  string `json:"tonnage,omitempty"`
	GRT      string `json:"grt,omitempty"`
	Flag     string `json:"flag,omitempty"`
	Owner    string `json:"owner,omitempty"`
}

// Entity is one listed party.
type Entity struct {
	// ID is SOURCE:NATIVE_ID, e.g. "ofac-sdn:12345", "un:QDi.001".
	ID string `json:"id"`
	// Source is the id prefix: ofac-sdn, ofac-cons, un, eu, uk, us-fto.
	Source string `json:"source"`
	// List is the display name of the list: "OFAC SDN", "UN Security Council".
	List string `json:"list"`
	Kind Kind   `json:"kind"`
	// Name is the primary name as listed; Names holds every name, the
	// primary first.
	Name          string       `json:"name"`
	Names         []Name       `json:"names"`
	Title         string       `json:"title,omitempty"`
	Gender        string       `json:"gender,omitempty"`
	Addresses     []Address    `json:"addresses,omitempty"`
	Countries     []string     `json:"countries,omitempty"` // ISO alpha-2, any relation
	BirthDates    []string     `json:"birth_dates,omitempty"`
	BirthPlaces   []string     `json:"birth_places,omitempty"`
	Nationalities []string     `json:"nationalities,omitempty"` // ISO alpha-2 when known
	Programs      []string     `json:"programs,omitempty"`
	Identifiers   []Identifier `json:"identifiers,omitempty"`
	Vessel        *VesselInfo  `json:"vessel,omitempty"`
	Listed        string       `json:"listed,omitempty"` // designation date, YYYY-MM-DD when known
	Remarks       string       `json:"remarks,omitempty"`
}
