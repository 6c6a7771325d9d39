// Package store is rampart's control-plane store: accounts, zones,
// screenings, cases with their reports and decisions, admin API tokens and
// the hash-chained audit log. It defines one repository interface, Store,
// implemented by internal/store/sqlite (the embedded default, a file
// DataDir/rampart.db) and internal/store/postgres (a shared PostgreSQL for
// several edge nodes); internal/store/storetest is the conformance suite
// both pass.
//
// Transactions. Every Store method runs in its own transaction. Writes that
// belong together go through Store.Tx, which runs a function in one
// transaction (committed when it returns nil, rolled back otherwise), or
// through the composite functions of this package (CreateAccountWithScreening,
// CreateZoneWithScreening, RecordReport; the decision and status workflows
// are compliance.RecordDecision and compliance.ApplyStatuses),
// which use Tx and also append the matching audit entries in the same
// transaction, so a crash leaves all of a change or none of it.
//
// Audit. Store implements audit.Writer and audit.Source: Append seals an
// event onto the chain while holding the log's append lock (the SQLite
// write lock, or a row lock on the audit_head row in PostgreSQL), so the
// chain never forks, even with several nodes on one PostgreSQL.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
)

// Errors returned by stores; test with errors.Is.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a write broke a uniqueness rule (such as a zone
	// host already taken) or a state rule (such as reinstating a case that
	// is not suspended).
	ErrConflict = errors.New("conflict")
	// ErrInvalid means a record failed validation before it was written.
	ErrInvalid = errors.New("invalid record")
	// ErrUnavailable means the database did not answer before the call's
	// deadline (the caller's, or the store's timeouts.store): it is slow,
	// hung or unreachable. A transaction cut off before its commit was
	// rolled back; try again later.
	ErrUnavailable = errors.New("store unavailable")
)

// Account kinds.
const (
	KindPerson       = "person"
	KindOrganization = "organization"
)

// Account statuses: active serves; review waits for a compliance user;
// blocked never serves.
const (
	AccountActive  = "active"
	AccountReview  = "review"
	AccountBlocked = "blocked"
)

// Zone statuses: only active zones are served by the edge.
const (
	ZoneActive    = "active"
	ZoneReview    = "review"
	ZoneRejected  = "rejected"
	ZoneSuspended = "suspended"
)

// Zone sources.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Subject types of screenings and status updates.
const (
	SubjectAccount = "account"
	SubjectZone    = "zone"
)

// Case categories.
const (
	CategorySanctions = "sanctions"
	CategoryAbuse     = "abuse"
	CategoryOther     = "other"
)

// Case statuses. A case is open until decided; dismissed and reinstated
// are closed, suspended is in force (the zone does not serve).
const (
	CaseOpen       = "open"
	CaseDismissed  = "dismissed"
	CaseSuspended  = "suspended"
	CaseReinstated = "reinstated"
)

// Case origins: how the case was opened.
const (
	OriginReport    = "report"
	OriginScreening = "screening"
)

// Decision actions.
const (
	ActionDismiss   = "dismiss"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
)

// Account is a customer that owns zones.
type Account struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // person | organization
	Country string `json:"country,omitempty"`
	Address string `json:"address,omitempty"`
	Email   string `json:"email,omitempty"`
	Status  string `json:"status"` // active | review | blocked
	// Screening is the summary of the last screening (JSON object), such
	// as {"screening_id": ..., "result": ..., "matches": N}; {} if never.
	Screening json.RawMessage `json:"screening"`
	Created   time.Time       `json:"created"`
	Updated   time.Time       `json:"updated"`
}

// Zone is one site served by the edge.
type Zone struct {
	ID        string          `json:"id"`
	AccountID string          `json:"account_id,omitempty"` // "" for config zones without an account
	Host      string          `json:"host"`                 // canonical, unique
	Aliases   json.RawMessage `json:"aliases"`              // JSON array of hosts
	Origins   json.RawMessage `json:"origins"`              // JSON array of URLs
	Settings  json.RawMessage `json:"settings"`             // JSON object: the zone config
	Status    string          `json:"status"`               // active | review | rejected | suspended
	Reasons   json.RawMessage `json:"reasons"`              // JSON array explaining the status
	Source    string          `json:"source"`               // config | api
	Created   time.Time       `json:"created"`
	Updated   time.Time       `json:"updated"`
}

// Screening is one run of the screening gate on an account or zone, kept
// forever as evidence of what was known when.
type Screening struct {
	ID          string          `json:"id"`
	SubjectType string          `json:"subject_type"` // account | zone
	SubjectID   string          `json:"subject_id"`
	Lists       json.RawMessage `json:"lists"`   // JSON object: source → version
	Matches     json.RawMessage `json:"matches"` // JSON array of matches
	// Result is the gate's outcome for the subject, such as "active",
	// "review", "blocked" or "rejected".
	Result  string    `json:"result"`
	Actor   string    `json:"actor"`
	Created time.Time `json:"created"`
}

// Case gathers the reports and screening hits about one host and the
// decisions taken on them.
type Case struct {
	ID          string    `json:"id"`
	ZoneID      string    `json:"zone_id,omitempty"` // "" if the host is not (or no longer) a zone
	Host        string    `json:"host"`
	Category    string    `json:"category"` // sanctions | abuse | other
	Status      string    `json:"status"`   // open | dismissed | suspended | reinstated
	Origin      string    `json:"origin"`   // report | screening
	Summary     string    `json:"summary,omitempty"`
	Opened      time.Time `json:"opened"`      // first report or detection: since when the operator knows
	LastReport  time.Time `json:"last_report"` // latest report (= Opened if none came later)
	ReportCount int       `json:"report_count"`
	// The last decision, if any.
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	DecisionAction string    `json:"decision_action,omitempty"`
	DecisionReason string    `json:"decision_reason,omitempty"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	// Assignee is the person working the case (free text, such as a
	// token's name); "" when unassigned.
	Assignee string    `json:"assignee,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Report is one public report about a host.
type Report struct {
	ID            string          `json:"id"`
	CaseID        string          `json:"case_id"`
	ReporterEmail string          `json:"reporter_email,omitempty"`
	Description   string          `json:"description"`
	EvidenceURLs  json.RawMessage `json:"evidence_urls"` // JSON array of URLs
	ClientIP      string          `json:"client_ip,omitempty"`
	Created       time.Time       `json:"created"`
	// Fingerprint identifies identical reports (compliance's dedupe);
	// Repeats counts the identical reports folded into this one.
	Fingerprint string `json:"-"`
	Repeats     int    `json:"repeats,omitempty"`
}

// Decision is one compliance decision on a case.
type Decision struct {
	ID      string    `json:"id"`
	CaseID  string    `json:"case_id"`
	Action  string    `json:"action"` // dismiss | suspend | reinstate
	Reason  string    `json:"reason"` // mandatory
	Actor   string    `json:"actor"`  // token id
	Created time.Time `json:"created"`
}

// TokenRecord is an admin API token as stored: what internal/token keeps in
// tokens.json. Hash is the hex SHA-256 of the secret; the secret itself is
// never stored.
type TokenRecord struct {
	ID      string
	Scope   string
	Note    string
	Created time.Time
	Revoked time.Time // zero while valid
	Hash    string
}

// StateChannel is the PostgreSQL NOTIFY channel of desired-state changes.
const StateChannel = "rampart_state"

// ListVersion is one version of a sanctions list kept in the store
// (package lists describes the fields).
type ListVersion struct {
	Source string `json:"source"`
	List   string `json:"list"`
	Hash   string `json:"hash"`
	// Files maps each canonical file name to the SHA-256 (hex) of its
	// content, the key of ListFile.
	Files     map[string]string `json:"files"`
	Entities  int               `json:"entities"`
	Published time.Time         `json:"published,omitzero"`
	Imported  time.Time         `json:"imported"`
	Origin    string            `json:"origin"`
	Actor     string            `json:"actor"`
	Forced    bool              `json:"forced"`
	Reason    string            `json:"reason"`
	// Seq is the activation sequence: higher was activated later.
	Seq int64 `json:"seq"`
}

// Node is one edge node sharing the store, as it last reported itself.
type Node struct {
	ID      string `json:"id"`
	Address string `json:"address"` // the node's admin listener (or public_url)
	Version string `json:"version"` // build version
	// StateVersion is the desired-state version the node has applied.
	StateVersion int64 `json:"state_version"`
	// Lists are the list versions the node screens with (source →
	// version).
	Lists map[string]string `json:"lists"`
	// Healthy is false while the node cannot apply the current state;
	// Problem says why.
	Healthy  bool      `json:"healthy"`
	Problem  string    `json:"problem,omitempty"`
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"last_seen"`
}

// TicketKey is a TLS session ticket key shared by the nodes. Its Secret
// is never marshalled, formatted or logged: JSON omits it, and fmt and
// slog print the id and times only.
type TicketKey struct {
	ID      string
	Secret  [32]byte
	Created time.Time
	Expires time.Time
}

// MarshalJSON writes the id and times only.
func (k TicketKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
		Expires time.Time `json:"expires"`
	}{k.ID, k.Created, k.Expires})
}

// Format prints the id and times only, whatever the verb.
func (k TicketKey) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "ticket key %s (created %s, expires %s)", k.ID, k.Created.Format(time.RFC3339), k.Expires.Format(time.RFC3339))
}

// LogValue logs the id and times only.
func (k TicketKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.Time("created", k.Created), slog.Time("expires", k.Expires))
}

// CaseFilter selects cases; empty fields match everything. Limit 0 means
// 100; cases come newest-opened first.
type CaseFilter struct {
	Status   string
	Category string
	Host     string
	ZoneID   string
	Limit    int
	Offset   int
	// Oldest lists the oldest-opened first (the dashboard's queue).
	Oldest bool
	// Assignee selects the cases assigned to this name; Unassigned the
	// cases assigned to nobody.
	Assignee   string
	Unassigned bool
}

// AccountFilter selects accounts; empty fields match everything. Limit 0
// means 100; accounts come by name, then id.
type AccountFilter struct {
	Status string
	Kind   string
	Limit  int
	Offset int
}

// ZoneFilter selects zones; empty fields match everything. Limit 0 means
// 100; zones come by host.
type ZoneFilter struct {
	AccountID string
	Status    string
	Source    string
	Limit     int
	Offset    int
}

// StatusUpdate sets the status of one account or zone in a batch. Reasons
// (zones only) replaces the zone's reasons when not nil.
type StatusUpdate struct {
	ID      string
	Status  string
	Reasons json.RawMessage
}

// Tx is the set of reads and writes a transaction offers. Inside
// Store.Tx every call joins the same transaction; on the Store itself each
// call is its own transaction.
type Tx interface {
	// CreateAccount inserts a; an empty ID is filled in, zero times are
	// set to now, and a.Status defaults to active.
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, id string) (Account, error)
	// UpdateAccount replaces every field but ID and Created, and sets
	// Updated to now.
	UpdateAccount(ctx context.Context, a *Account) error
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)

	// CreateZone inserts z; a host already taken is ErrConflict.
	CreateZone(ctx context.Context, z *Zone) error
	GetZone(ctx context.Context, id string) (Zone, error)
	// GetZoneByHost finds a zone by its canonical host (not its aliases).
	GetZoneByHost(ctx context.Context, host string) (Zone, error)
	UpdateZone(ctx context.Context, z *Zone) error
	// DeleteZone removes a zone; its cases keep the host and lose the
	// zone id. Screenings are kept as evidence.
	DeleteZone(ctx context.Context, id string) error
	ListZones(ctx context.Context, f ZoneFilter) ([]Zone, error)

	// SetStatuses sets the status of many accounts (subject "account") or
	// zones ("zone") at once; unknown ids are skipped. It returns how many
	// rows changed.
	SetStatuses(ctx context.Context, subject string, updates []StatusUpdate) (int, error)

	AddScreening(ctx context.Context, s *Screening) error
	// Screenings lists the screenings of one subject, newest first.
	Screenings(ctx context.Context, subjectType, subjectID string, limit int) ([]Screening, error)

	CreateCase(ctx context.Context, c *Case) error
	GetCase(ctx context.Context, id string) (Case, error)
	UpdateCase(ctx context.Context, c *Case) error
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	// FindActiveCase returns the newest case for host and category that is
	// open or suspended, or ErrNotFound.
	FindActiveCase(ctx context.Context, host, category string) (Case, error)
	AddReport(ctx context.Context, r *Report) error
	// RepeatReport counts one more identical report (Repeats + 1) on the
	// case's newest report with fingerprint filed at or after since, and
	// returns it; ErrNotFound if there is none.
	RepeatReport(ctx context.Context, caseID, fingerprint string, since time.Time) (Report, error)
	Reports(ctx context.Context, caseID string) ([]Report, error)
	AddDecision(ctx context.Context, d *Decision) error
	Decisions(ctx context.Context, caseID string) ([]Decision, error)

	// AddMatchReview records a verdict on a match of a case and keeps
	// the whitelist with it: a whitelisted verdict puts the pair
	// (subject, match id) on it, any other verdict takes the pair off.
	AddMatchReview(ctx context.Context, r *MatchReview) error
	// MatchReviews lists a case's match reviews, oldest first.
	MatchReviews(ctx context.Context, caseID string) ([]MatchReview, error)
	// Whitelist returns the reviews that whitelist a pair now (the
	// latest review of the pair), of one subject, or of every subject
	// when subjectType and subjectID are "".
	Whitelist(ctx context.Context, subjectType, subjectID string) ([]MatchReview, error)
	// AddComment adds a comment to a case.
	AddComment(ctx context.Context, c *Comment) error
	// Comments lists a case's comments, oldest first.
	Comments(ctx context.Context, caseID string) ([]Comment, error)

	PutToken(ctx context.Context, t TokenRecord) error
	GetToken(ctx context.Context, id string) (TokenRecord, error)
	ListTokens(ctx context.Context) ([]TokenRecord, error)
	// RevokeToken sets Revoked to at if it is not set yet.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// ScreenedVersions returns the list versions (source → version hash)
	// the accounts and zones were last re-screened against; empty if none
	// was recorded yet.
	ScreenedVersions(ctx context.Context) (map[string]string, error)
	// SetScreenedVersions records the versions of the given sources (other
	// sources keep theirs). A re-screening calls it in the transaction
	// that stores its results, so that a re-screening lost to a crash is
	// seen at the next start (compliance.Service.CatchUp).
	SetScreenedVersions(ctx context.Context, versions map[string]string) error

	// Append seals ev onto the audit chain (see audit.Writer).
	Append(ctx context.Context, ev audit.Event) (audit.Entry, error)

	// LockWrites takes the store's write lock for the rest of the
	// transaction: the audit head row lock on PostgreSQL, a no-op on
	// SQLite (whose transactions hold the write lock from their first
	// statement). Writes that read, decide and then write (such as "find
	// the open case or open one") call it first, so that two of them
	// cannot both decide on the same old state. On the Store itself
	// (outside Tx) it is pointless and returns nil.
	LockWrites(ctx context.Context) error
}

// Store is the control-plane store. It is safe for concurrent use.
type Store interface {
	Tx
	// Tx runs fn in one transaction: committed if fn returns nil, rolled
	// back otherwise. fn may run more than once when the database asks
	// for a retry (a PostgreSQL serialization failure or deadlock), so it
	// must not have side effects outside tx. Calls on the Store (not on
	// tx) inside fn run outside the transaction; on SQLite a write there
	// waits for this transaction's lock until the busy timeout, so do not.
	Tx(ctx context.Context, fn func(tx Tx) error) error

	// Accounts streams every account by id without loading them all; the
	// rows are read from one open cursor, so keep the loop body short or
	// collect the updates for SetStatuses.
	Accounts(ctx context.Context) iter.Seq2[Account, error]
	// Zones streams every zone by id like Accounts.
	Zones(ctx context.Context) iter.Seq2[Zone, error]
	// InsertAccounts inserts many accounts in one transaction with
	// multi-row statements (bulk onboarding, benchmarks).
	InsertAccounts(ctx context.Context, as []Account) error

	// Entries and Head make the store an audit.Source.
	Entries(ctx context.Context, from int64) iter.Seq2[audit.Entry, error]
	Head(ctx context.Context) (audit.Head, error)
	// AuditBySubjects returns the newest limit audit entries whose
	// subject is one of subjects (such as "case:ID", "zone:ID",
	// "account:ID"), oldest first. Limit 0 means 200.
	AuditBySubjects(ctx context.Context, subjects []string, limit int) ([]audit.Entry, error)

	// StateVersion is the desired-state version: a counter bumped in the
	// transaction of every write the nodes apply (zones, accounts,
	// statuses, cases and decisions, tokens). On PostgreSQL each bump also
	// notifies StateChannel when its transaction commits.
	StateVersion(ctx context.Context) (int64, error)
	// PutNode records a node's heartbeat (insert or replace by id).
	PutNode(ctx context.Context, n Node) error
	// ListNodes lists the nodes that ever registered, by id.
	ListNodes(ctx context.Context) ([]Node, error)

	// TicketKeys returns the TLS session ticket keys not expired at now,
	// newest first (by Created, then ID): the first encrypts new tickets,
	// all of them decrypt. Nodes on one PostgreSQL store share them.
	TicketKeys(ctx context.Context, now time.Time) ([]TicketKey, error)
	// RotateTicketKeys, in one transaction holding a lock that another
	// node's call waits for, deletes the keys expired at now, adds a new
	// random key (Created now, Expires now+lifetime) when there is none
	// or the newest is at least rotation old, and returns the keys as
	// TicketKeys does. Two nodes calling it at once add one key.
	RotateTicketKeys(ctx context.Context, now time.Time, rotation, lifetime time.Duration) ([]TicketKey, error)
	// ActivateListVersions stores files (content-addressed by their
	// SHA-256; files already stored are kept) and makes each of vs the
	// active version of its source, in one transaction that bumps the
	// state version, so that every node loads them. Every file a version
	// names must be among files or already stored. With onlyIfEmpty it
	// does nothing and returns false when any version is active already
	// (the first node on an empty store publishing its lists).
	ActivateListVersions(ctx context.Context, vs []ListVersion, files [][]byte, onlyIfEmpty bool) (bool, error)
	// ActiveListVersions returns the active version of each source, by
	// source.
	ActiveListVersions(ctx context.Context) ([]ListVersion, error)
	// ListFile returns the content of the list file with the given
	// SHA-256 (hex); ErrNotFound if none.
	ListFile(ctx context.Context, hash string) ([]byte, error)
	// TakeLease takes or renews the lease name for holder until now+ttl:
	// true when holder has it (it was free, expired, or already its own).
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Dashboard holds the dashboard's traffic rollups and sessions
	// (dashboard.go).
	Dashboard

	// Dialect names the database: "sqlite" or "postgres".
	Dialect() string
	Close() error
}

// NewID returns a fresh random id with the given prefix, such as
// "acc_9f86d081884c7d65". Ids are 64 random bits from crypto/rand in hex.
func NewID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("store.NewID: reading random bytes: %v", err))
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

// Now is the store's clock: UTC, truncated to microseconds (what
// PostgreSQL keeps), so that times round-trip exactly on both stores.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
