package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// ErrInvalid wraps input the gate refuses (422 in the API); the message
// names the field.
var ErrInvalid = errors.New("invalid input")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// AccountInput is the body of POST /v1/accounts.
type AccountInput struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // person | organization (default organization)
	Country string `json:"country"`
	Address string `json:"address"`
	Email   string `json:"email"`
}

// AccountResult is the answer of the account gate.
type AccountResult struct {
	ID        string          `json:"id"`
	Status    string          `json:"status"`
	Screening AccountEvidence `json:"screening"`
}

// AccountEvidence is what the gate found.
type AccountEvidence struct {
	Matches []screening.Match `json:"matches"`
	Reasons []string          `json:"reasons"`
}

// Field bounds of accounts.
const (
	maxNameLen    = 300
	maxAddressLen = 1000
	maxEmailLen   = 254
)

// ValidEmail reports whether s is a bare e-mail address (local@domain).
func ValidEmail(s string) bool {
	if len(s) > maxEmailLen || strings.ContainsAny(s, " <>\"\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	_, dom, ok := strings.Cut(s, "@")
	return ok && strings.Contains(dom, ".")
}

func (in *AccountInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return invalid("name: required")
	case len(in.Name) > maxNameLen:
		return invalid("name: longer than %d bytes", maxNameLen)
	case len(in.Address) > maxAddressLen:
		return invalid("address: longer than %d bytes", maxAddressLen)
	}
	switch in.Kind {
	case "":
		in.Kind = store.KindOrganization
	case store.KindPerson, store.KindOrganization:
	default:
		return invalid("kind: %q is not person or organization", in.Kind)
	}
	if in.Country != "" {
		in.Country = strings.ToUpper(in.Country)
		if !country.Valid(in.Country) {
			return invalid("country: %q is not an ISO 3166-1 alpha-2 code", in.Country)
		}
	}
	if in.Email != "" && !ValidEmail(in.Email) {
		return invalid("email: %q is not an e-mail address", in.Email)
	}
	return nil
}

// ScreenAccount runs the account gate without storing anything: the name
// fuzzily (a match at or above the threshold is review), the e-mail as an
// identifier (a listed address is blocked), the country (embargoed is
// blocked) and the postal address (a listed street address in the same
// city is review; an address in an embargoed country is blocked).
func (c *Service) ScreenAccount(in AccountInput) (status string, ev AccountEvidence, lists json.RawMessage) {
	status = store.AccountActive
	ev.Reasons = []string{}
	q := screening.Query{Name: in.Name, Kind: entity.Kind(in.Kind), Country: in.Country}
	r := c.scr.Screen(q)
	lists = listVersions(r)
	ms := r.Matches
	if len(ms) > 0 {
		status = store.AccountReview
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("name %q is a possible match of %s (score %.2f)", in.Name, ms[0].ID, ms[0].Score))
	}
	if in.Email != "" {
		if im := c.scr.ScreenIdentifier(entity.Email, in.Email).Matches; len(im) > 0 {
			status = store.AccountBlocked
			ms = append(im, ms...)
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("e-mail %s is listed on %s", in.Email, im[0].ID))
		}
	}
	if in.Country != "" && c.embar[in.Country] {
		status = store.AccountBlocked
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("country %s is embargoed", in.Country))
	}
	if in.Address != "" {
		// A listed street address is shared by others (a building, a
		// bank branch): review, not block.
		if am := c.scr.ScreenAddress(in.Address).Matches; len(am) > 0 {
			if status == store.AccountActive {
				status = store.AccountReview
			}
			ms = append(ms, am...)
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("address matches a listed address of %s", am[0].ID))
		}
		if cc, ok := addressCountry(in.Address); ok && cc != in.Country && c.embar[cc] {
			status = store.AccountBlocked
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("address is in %s, which is embargoed", cc))
		}
	}
	ev.Matches = dedupe(ms)
	return status, ev, lists
}

// addressCountry reads the country of a free-text address from its last
// comma-separated part ("..., Tehran, Iran" is IR).
func addressCountry(addr string) (string, bool) {
	last := addr
	if i := strings.LastIndexAny(addr, ",\n"); i >= 0 {
		last = addr[i+1:]
	}
	return country.Code(strings.TrimSpace(last))
}

// CreateAccount validates, screens and stores an account with its
// screening and audit entries in one transaction. actor is the token id.
func (c *Service) CreateAccount(ctx context.Context, in AccountInput, actor string) (AccountResult, error) {
	if err := in.validate(); err != nil {
		return AccountResult{}, err
	}
	status, ev, lv := c.ScreenAccount(in)
	acc := store.Account{Name: in.Name, Kind: in.Kind, Country: in.Country, Address: in.Address, Email: in.Email, Status: status}
	sc := store.Screening{Result: status, Lists: lv, Matches: matchesJSON(ev.Matches)}
	if err := store.CreateAccountWithScreening(ctx, c.s, &acc, &sc, actor); err != nil {
		return AccountResult{}, err
	}
	if status == store.AccountReview {
		// The hold becomes work: a case in the queue (accountcases.go).
		if err := c.openAccountCase(ctx, acc, ev.Reasons, actor); err != nil {
			c.log.Error("opening the case of an account held in review", "account", acc.ID, "error", err)
		}
	}
	return AccountResult{ID: acc.ID, Status: status, Screening: ev}, nil
}

// ZoneResult is the answer of the zone gate.
type ZoneResult struct {
	ID      string   `json:"id"`
	Host    string   `json:"host"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
	// CaseID is the case opened for a zone in review: dismissing it
	// clears the zone, suspending it keeps the zone off.
	CaseID string `json:"case_id,omitempty"`
}

// ParseZone checks a zone's JSON settings ({"host", "aliases", "origins",
// ...} in the config file's field names, without account_id) through the
// config validator, so an API zone obeys exactly the rules of a config
// zone. It returns the zone with defaults applied.
func ParseZone(settings json.RawMessage) (config.Zone, error) {
	// JSON is YAML: wrap the object, compacted onto one line (so that it
	// cannot reach any other config key), in a one-zone config.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(settings, &obj); err != nil || obj == nil {
		return config.Zone{}, invalid("the zone must be a JSON object")
	}
	compact, _ := json.Marshal(obj)
	doc := append([]byte("zones:\n  - "), compact...)
	cfg, err := config.Parse("zone", doc)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "zone:2: ", "")
		msg = strings.ReplaceAll(msg, "zones[0].", "")
		return config.Zone{}, invalid("%s", strings.ReplaceAll(msg, "\n", "; "))
	}
	if len(cfg.Zones) != 1 {
		return config.Zone{}, invalid("expected one zone object")
	}
	return cfg.Zones[0], nil
}

// screenHost strips a wildcard and looks a host up as a website
// identifier.
func (c *Service) screenHost(h string) []screening.Match {
	h = strings.TrimPrefix(h, "*.")
	return c.scr.ScreenIdentifier(entity.Website, h).Matches
}

// ScreenZone runs the zone gate: the host and each alias as website
// identifiers (a listed domain or a parent of it rejects the zone), and
// the account's status (blocked rejects, review puts the zone in review).
func (c *Service) ScreenZone(z config.Zone, acc *store.Account) (status string, reasons []string, ms []screening.Match, lists json.RawMessage) {
	return c.screenZone(z, acc, nil)
}

// screenZone is ScreenZone without the matches whitelisted for the zone
// (the entity ids in skip; desk.go).
func (c *Service) screenZone(z config.Zone, acc *store.Account, skip map[string]bool) (status string, reasons []string, ms []screening.Match, lists json.RawMessage) {
	status, reasons = store.ZoneActive, []string{}
	lists = listVersions(c.scr.ScreenIdentifier(entity.Website, "example.invalid"))
	for _, h := range append([]string{z.Host}, z.Aliases...) {
		hit := c.screenHost(h)
		if len(skip) > 0 {
			hit = slices.DeleteFunc(hit, func(m screening.Match) bool { return skip[m.ID] })
		}
		if len(hit) > 0 {
			status = store.ZoneRejected
			ms = append(ms, hit...)
			reasons = append(reasons, fmt.Sprintf("host %s is listed as a website of %s (%s)", h, hit[0].ID, hit[0].Name))
		}
	}
	if acc != nil {
		switch acc.Status {
		case store.AccountBlocked:
			status = store.ZoneRejected
			reasons = append(reasons, "account "+acc.ID+" is blocked")
		case store.AccountReview:
			if status == store.ZoneActive {
				status = store.ZoneReview
			}
			reasons = append(reasons, "account "+acc.ID+" is in review")
		}
	}
	return status, reasons, dedupe(ms), lists
}

func reasonsJSON(rs []string) json.RawMessage {
	if rs == nil {
		rs = []string{}
	}
	b, _ := json.Marshal(rs)
	return b
}

// zoneBody splits account_id off a zone body.
func zoneBody(body json.RawMessage) (accountID string, settings json.RawMessage, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "", nil, invalid("decoding zone: %v", err)
	}
	if raw, ok := m["account_id"]; ok {
		if err := json.Unmarshal(raw, &accountID); err != nil {
			return "", nil, invalid("account_id: must be a string")
		}
		delete(m, "account_id")
	}
	for _, k := range []string{"id", "status", "reasons", "source", "created", "updated"} {
		if _, ok := m[k]; ok {
			return "", nil, invalid("%s: set by rampart, not by the caller", k)
		}
	}
	settings, _ = json.Marshal(m)
	return accountID, settings, nil
}

// CreateZone validates, screens and stores an API zone. body is the JSON
// object of POST /v1/zones. A host already taken is store.ErrConflict.
func (c *Service) CreateZone(ctx context.Context, body json.RawMessage, actor string) (ZoneResult, error) {
	accountID, settings, err := zoneBody(body)
	if err != nil {
		return ZoneResult{}, err
	}
	if accountID == "" {
		return ZoneResult{}, invalid("account_id: required")
	}
	zc, err := ParseZone(settings)
	if err != nil {
		return ZoneResult{}, err
	}
	acc, err := c.s.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return ZoneResult{}, invalid("account_id: no account %s", accountID)
	}
	if err != nil {
		return ZoneResult{}, err
	}
	if _, taken := c.ZoneState(zc.Host); taken {
		return ZoneResult{}, fmt.Errorf("%w: host %s is already a zone", store.ErrConflict, zc.Host)
	}
	status, reasons, ms, lv := c.ScreenZone(zc, &acc)
	// Under a suspended zone: in review, with a case a compliance user
	// clears (dismiss) or suspends it by.
	if cov := c.coveredNames(append([]string{zc.Host}, zc.Aliases...), nil); len(cov) > 0 {
		if status == store.ZoneActive {
			status = store.ZoneReview
		}
		reasons = append(reasons, cov...)
	}
	z := store.Zone{AccountID: accountID, Host: zc.Host, Aliases: mustJSON(nonNilStrings(zc.Aliases)), Origins: mustJSON(nonNilStrings(zc.Origins)),
		Settings: settings, Status: status, Reasons: reasonsJSON(reasons), Source: store.SourceAPI}
	sc := store.Screening{Result: status, Lists: lv, Matches: matchesJSON(ms)}
	caseID, err := c.createZone(ctx, &z, &sc, reasons, actor)
	if err != nil {
		return ZoneResult{}, err
	}
	c.zoneChanged(ctx, z.ID)
	return ZoneResult{ID: z.ID, Host: z.Host, Status: status, Reasons: reasons, CaseID: caseID}, nil
}

// UpdateZone replaces an API zone's settings (PATCH merges the given
// fields into the stored settings) and re-runs the gate on it. A
// suspended zone stays suspended: only a reinstate decision lifts that.
func (c *Service) UpdateZone(ctx context.Context, id string, patch json.RawMessage, actor string) (store.Zone, error) {
	z, err := c.s.GetZone(ctx, id)
	if err != nil {
		return store.Zone{}, err
	}
	if z.Source != store.SourceAPI {
		return store.Zone{}, fmt.Errorf("%w: zone %s comes from the config file; edit the file", store.ErrConflict, z.Host)
	}
	var cur, upd map[string]json.RawMessage
	if err := json.Unmarshal(z.Settings, &cur); err != nil || cur == nil {
		cur = map[string]json.RawMessage{}
	}
	if err := json.Unmarshal(patch, &upd); err != nil {
		return store.Zone{}, invalid("decoding zone patch: %v", err)
	}
	accountID := z.AccountID
	if raw, ok := upd["account_id"]; ok {
		if err := json.Unmarshal(raw, &accountID); err != nil {
			return store.Zone{}, invalid("account_id: must be a string")
		}
		delete(upd, "account_id")
	}
	for k, v := range upd {
		if k == "host" {
			var h string
			if json.Unmarshal(v, &h) != nil || h != z.Host {
				return store.Zone{}, invalid("host: cannot be changed; create a new zone")
			}
		}
		cur[k] = v
	}
	merged, _ := json.Marshal(cur)
	_, settings, err := zoneBody(merged)
	if err != nil {
		return store.Zone{}, err
	}
	zc, err := ParseZone(settings)
	if err != nil {
		return store.Zone{}, err
	}
	acc, err := c.s.GetAccount(ctx, accountID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Zone{}, invalid("account_id: no account %s", accountID)
		}
		return store.Zone{}, err
	}
	// A new alias under a suspended zone is refused (a new zone for it
	// goes through review instead).
	var old []string
	_ = json.Unmarshal(z.Aliases, &old)
	var added []string
	for _, a := range zc.Aliases {
		if !slices.Contains(old, a) {
			added = append(added, a)
		}
	}
	var curState *ZoneState
	if st, known := c.ZoneState(z.Host); known {
		curState = &st
	}
	if cov := c.coveredNames(added, curState); len(cov) > 0 {
		return store.Zone{}, invalid("aliases: %s", strings.Join(cov, "; "))
	}
	wl, err := c.loadWhitelist(ctx, store.SubjectZone, id)
	if err != nil {
		return store.Zone{}, err
	}
	status, reasons, ms, lv := c.screenZone(zc, &acc, wl[subjectKey(store.SubjectZone, id)])
	if z.Status == store.ZoneSuspended {
		status = store.ZoneSuspended
	}
	err = c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		cz, err := tx.GetZone(ctx, id)
		if err != nil {
			return err
		}
		if cz.Status == store.ZoneSuspended {
			status = store.ZoneSuspended
		}
		nz := cz
		nz.AccountID, nz.Settings, nz.Aliases, nz.Origins = accountID, settings, mustJSON(nonNilStrings(zc.Aliases)), mustJSON(nonNilStrings(zc.Origins))
		nz.Status = status
		// A suspended zone keeps its reasons, and so does an active one
		// a decision set (reinstate, clear): it marks the decision that
		// wins over a suspension above it (cover.go).
		if status != store.ZoneSuspended && !(status == store.ZoneActive && len(reasons) == 0 && stateOf(cz).Decision != "") {
			nz.Reasons = reasonsJSON(reasons)
		}
		if _, err := tx.Append(ctx, auditZone(actor, "zone.update", nz)); err != nil {
			return err
		}
		sc := store.Screening{ID: store.NewID("scr"), SubjectType: store.SubjectZone, SubjectID: id, Result: status,
			Lists: lv, Matches: matchesJSON(ms), Actor: actor, Created: store.Now()}
		if _, err := tx.Append(ctx, auditScreening(actor, &sc)); err != nil {
			return err
		}
		if err := tx.AddScreening(ctx, &sc); err != nil {
			return err
		}
		z = nz
		return tx.UpdateZone(ctx, &z)
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("updating zone %s: %w", id, err)
	}
	c.zoneChanged(ctx, id)
	return c.s.GetZone(ctx, id)
}

// DeleteZone deletes an API zone with a zone.delete audit entry.
func (c *Service) DeleteZone(ctx context.Context, id, actor string) error {
	err := c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		z, err := tx.GetZone(ctx, id)
		if err != nil {
			return err
		}
		if z.Source != store.SourceAPI {
			return fmt.Errorf("%w: zone %s comes from the config file; remove it there", store.ErrConflict, z.Host)
		}
		if _, err := tx.Append(ctx, auditZone(actor, "zone.delete", z)); err != nil {
			return err
		}
		return tx.DeleteZone(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("deleting zone %s: %w", id, err)
	}
	c.zoneChanged(ctx, id)
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
