package compliance

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

// ReportInput is the body of POST /v1/reports (and the public form).
type ReportInput struct {
	Host          string   `json:"host"`
	Category      string   `json:"category"`
	Description   string   `json:"description"`
	EvidenceURLs  []string `json:"evidence_urls"`
	ReporterEmail string   `json:"reporter_email"`
}

// Report field bounds. A field over its bound is ErrTooLarge (413).
const (
	MinDescription = 10
	MaxDescription = 5000 // characters (at most 20,000 bytes of UTF-8)
	MaxEvidence    = 10
	MaxEvidenceURL = 2048 // bytes
	MaxHost        = 253  // bytes
)

// ErrTooLarge wraps a report field over its size bound (413 in the API
// and the form); the message names the field.
var ErrTooLarge = errors.New("too large")

func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTooLarge, fmt.Sprintf(format, args...))
}

// ValidateReport checks and normalises a report: host a syntactically
// valid host name (Service.Report also requires a zone serving it);
// category sanctions, abuse or other; description 10 to 5000 characters;
// at most 10 http(s) evidence URLs of at most 2048 bytes; reporter e-mail,
// when given, a bare address of at most 254 bytes. Sizes over a bound are
// ErrTooLarge, other faults ErrInvalid; both name the field.
func ValidateReport(in *ReportInput) error {
	h := strings.TrimSpace(in.Host)
	switch {
	case h == "":
		return invalid("host: required")
	case len(h) > MaxHost:
		return tooLarge("host: longer than %d bytes", MaxHost)
	}
	canon, err := config.CanonicalHost(h)
	if err != nil || strings.HasPrefix(canon, "*.") {
		return invalid("host: %q is not a host name", h)
	}
	in.Host = canon
	switch in.Category {
	case store.CategorySanctions, store.CategoryAbuse, store.CategoryOther:
	case "":
		return invalid("category: required (sanctions, abuse or other)")
	default:
		if len(in.Category) > 20 {
			return invalid("category: not sanctions, abuse or other")
		}
		return invalid("category: %q is not sanctions, abuse or other", in.Category)
	}
	in.Description = strings.TrimSpace(in.Description)
	if !utf8.ValidString(in.Description) {
		return invalid("description: not valid UTF-8")
	}
	switch n := utf8.RuneCountInString(in.Description); {
	case n > MaxDescription:
		return tooLarge("description: longer than %d characters (%d)", MaxDescription, n)
	case n < MinDescription:
		return invalid("description: must be %d to %d characters, got %d", MinDescription, MaxDescription, n)
	}
	if len(in.EvidenceURLs) > MaxEvidence {
		return tooLarge("evidence_urls: more than %d URLs (%d)", MaxEvidence, len(in.EvidenceURLs))
	}
	for i, raw := range in.EvidenceURLs {
		if len(raw) > MaxEvidenceURL {
			return tooLarge("evidence_urls[%d]: longer than %d bytes", i, MaxEvidenceURL)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("evidence_urls[%d]: %q is not an http(s) URL", i, raw)
		}
	}
	in.ReporterEmail = strings.TrimSpace(in.ReporterEmail)
	if len(in.ReporterEmail) > maxEmailLen {
		return tooLarge("reporter_email: longer than %d bytes", maxEmailLen)
	}
	if in.ReporterEmail != "" && !ValidEmail(in.ReporterEmail) {
		return invalid("reporter_email: %q is not an e-mail address", in.ReporterEmail)
	}
	return nil
}

// ReportFingerprint identifies identical reports: the hex SHA-256 of the
// host, the category, the description with case folded and white space
// collapsed, the evidence URLs (in order) and the reporter's network
// (/24 for IPv4, /64 for IPv6). The e-mail is left out, so a flood
// varying only the address still folds into one report.
func ReportFingerprint(in ReportInput, client netip.Addr) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(in.Host)
	field(in.Category)
	field(strings.Join(strings.Fields(strings.ToLower(in.Description)), " "))
	field(strconv.Itoa(len(in.EvidenceURLs)))
	for _, u := range in.EvidenceURLs {
		field(u)
	}
	field(Network(client).String())
	return hex.EncodeToString(h.Sum(nil))
}

// Network is the reporter network of a client address: its /24 (IPv4)
// or /64 (IPv6); the zero prefix for an invalid address.
func Network(ip netip.Addr) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	ip = ip.Unmap().WithZone("")
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

// ServedZone returns the state of the zone that serves host, as the edge
// routes it: an exact host or alias first, then the wildcard with the
// longest suffix ("*.example.org" serves every name below example.org).
// false: no zone (config or API, whatever its status) serves the host.
func (c *Service) ServedZone(host string) (ZoneState, bool) {
	m := *c.states.Load()
	if st, ok := m[host]; ok {
		return st, true
	}
	for i := strings.IndexByte(host, '.'); i > 0 && i < len(host)-1; i = nextDot(host, i) {
		if st, ok := m["*"+host[i:]]; ok {
			return st, true
		}
	}
	return ZoneState{}, false
}

// nextDot is the index of the next '.' in host after i, or -1.
func nextDot(host string, i int) int {
	j := strings.IndexByte(host[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// Report validates and files a public report from client: it opens a
// case for the host and category or joins the active one (counted,
// dated). A host no zone serves is refused (ErrInvalid): reports are
// about sites this edge serves. An identical report (ReportFingerprint)
// filed within the dedupe window is counted on the stored one instead of
// being stored again (window 0: config.DefaultReportsDedupeWindow). The client address is kept on the report row,
// never in the audit chain.
func (c *Service) Report(ctx context.Context, in ReportInput, client netip.Addr, window time.Duration) (store.Case, error) {
	if err := ValidateReport(&in); err != nil {
		return store.Case{}, err
	}
	st, ok := c.ServedZone(in.Host)
	if !ok {
		return store.Case{}, invalid("host: %s is not a site served by this edge", in.Host)
	}
	// A host that is an alias of a zone, or a name below a wildcard zone
	// without a zone of its own, is filed under the zone's host, so that
	// a decision on the case acts on that zone.
	in.Host = st.Host
	if window <= 0 {
		window = config.DefaultReportsDedupeWindow
	}
	ip := ""
	if client.IsValid() {
		ip = client.Unmap().String()
	}
	cs, _, err := store.RecordReport(ctx, c.s, store.ReportInput{Host: in.Host, Category: in.Category, Description: in.Description,
		EvidenceURLs: in.EvidenceURLs, ReporterEmail: in.ReporterEmail, ClientIP: ip,
		Fingerprint: ReportFingerprint(in, client), DedupeSince: store.Now().Add(-window)})
	if err != nil {
		return store.Case{}, err
	}
	return cs, nil
}

// Decide records a decision (dismiss, suspend, reinstate) on a case with
// its mandatory reason; suspend and reinstate change the zone's status,
// and dismissing the case of a zone the gate holds in review clears it.
// Changes take effect at the edge at once (the zone's state is refreshed
// before Decide returns).
func (c *Service) Decide(ctx context.Context, caseID, action, reason, actor string) (store.Case, store.Decision, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Case{}, store.Decision{}, invalid("reason: required")
	}
	switch action {
	case store.ActionDismiss, store.ActionSuspend, store.ActionReinstate:
	default:
		return store.Case{}, store.Decision{}, invalid("action: %q is not dismiss, suspend or reinstate", action)
	}
	if cur, err := c.s.GetCase(ctx, caseID); err == nil {
		if accID, ok := AccountOfCase(cur); ok {
			return c.decideAccountCase(ctx, cur, accID, action, reason, actor)
		}
	}
	cs, d, err := c.decide(ctx, caseID, action, reason, actor)
	if err != nil {
		return store.Case{}, store.Decision{}, err
	}
	if cs.ZoneID != "" {
		c.zoneChanged(ctx, cs.ZoneID)
	}
	return cs, d, nil
}

// Timeline is a case with its reports, decisions, match reviews,
// comments, the screenings of its zone, and its timeline read from the
// audit log.
type Timeline struct {
	store.CaseTimeline
	Screenings []store.Screening `json:"screenings"`
	// Reviews are the verdicts on the case's matches, oldest first (the
	// latest of a match is its verdict).
	Reviews []store.MatchReview `json:"match_reviews"`
	// Comments are the case's comments, oldest first.
	Comments []store.Comment `json:"comments"`
	// KnownSince is when the operator first knew: the case's opening.
	KnownSince string `json:"known_since"`
	// Events are the audit log's entries about the case, its zone and
	// its account (reports, screenings, reviews, comments, assignments,
	// decisions, status changes), oldest first; the newest
	// TimelineMax are kept.
	Events []TimelineEvent `json:"events"`
}

// TimelineMax bounds the audit entries of a case's timeline.
const TimelineMax = 200

// TimelineEvent is one audit entry of a case's timeline.
type TimelineEvent struct {
	// Seq is the entry's number in the audit log.
	Seq  int64  `json:"seq"`
	Time string `json:"time"`
	// Kind is the audit action, such as case.open, report.create,
	// screening.run, case.review, case.comment, case.assign,
	// case.decision, zone.update.
	Kind    string `json:"kind"`
	Actor   string `json:"actor"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// CaseTimeline returns a case's full timeline.
func (c *Service) CaseTimeline(ctx context.Context, id string) (Timeline, error) {
	ct, err := store.GetCaseTimeline(ctx, c.s, id)
	if err != nil {
		return Timeline{}, fmt.Errorf("reading case %s: %w", id, err)
	}
	t := Timeline{CaseTimeline: ct, Screenings: []store.Screening{}, Events: []TimelineEvent{}}
	if t.Reports == nil {
		t.Reports = []store.Report{}
	}
	if t.Decisions == nil {
		t.Decisions = []store.Decision{}
	}
	const tf = "2006-01-02T15:04:05.000000Z07:00"
	t.KnownSince = ct.Case.Opened.UTC().Format(tf)
	if ct.Case.ZoneID != "" {
		scs, err := c.s.Screenings(ctx, store.SubjectZone, ct.Case.ZoneID, 50)
		if err == nil {
			t.Screenings = scs
		}
	}
	if t.Reviews, err = c.s.MatchReviews(ctx, id); err != nil {
		return Timeline{}, fmt.Errorf("reading the reviews of case %s: %w", id, err)
	}
	if t.Comments, err = c.s.Comments(ctx, id); err != nil {
		return Timeline{}, fmt.Errorf("reading the comments of case %s: %w", id, err)
	}
	if t.Reviews == nil {
		t.Reviews = []store.MatchReview{}
	}
	if t.Comments == nil {
		t.Comments = []store.Comment{}
	}
	sub, err := caseSubjects(ctx, c.s, ct.Case)
	if err != nil {
		return Timeline{}, fmt.Errorf("reading the subjects of case %s: %w", id, err)
	}
	es, err := c.s.AuditBySubjects(ctx, sub.auditSubjects(id), TimelineMax)
	if err != nil {
		return Timeline{}, fmt.Errorf("reading the audit entries of case %s: %w", id, err)
	}
	for _, e := range es {
		t.Events = append(t.Events, TimelineEvent{Seq: e.Seq, Time: e.Time.UTC().Format(tf), Kind: e.Action, Actor: e.Actor,
			Subject: e.Subject, Text: eventText(e)})
	}
	return t, nil
}

// eventText is a one-line account of an audit entry for a timeline.
func eventText(e audit.Entry) string {
	var d map[string]any
	_ = json.Unmarshal(e.Data, &d)
	str := func(k string) string {
		switch v := d[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			return ""
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	var out string
	switch e.Action {
	case audit.ActionCaseOpen:
		out = "case opened (" + str("origin") + ", " + str("category") + ")"
		if s := str("summary"); s != "" {
			out += ": " + s
		}
	case audit.ActionReportCreate:
		out = "public report (" + str("category") + "): " + str("description")
	case audit.ActionScreeningRun:
		n := 0
		if ms, ok := d["matches"].([]any); ok {
			n = len(ms)
		}
		out = fmt.Sprintf("screening of %s: %s, %d match(es)", e.Subject, str("result"), n)
	case audit.ActionCaseDecision:
		out = "decision " + str("action") + ": " + str("reason")
	case ActionCaseReview:
		out = "match " + str("match_id") + " of " + str("subject_type") + " " + str("subject_id") + " reviewed: " + str("verdict")
		if r := str("reason"); r != "" {
			out += " (" + r + ")"
		}
	case ActionCaseComment:
		who := str("author_name")
		if who == "" {
			who = e.Actor
		}
		out = "comment by " + who + ": " + str("body")
	case ActionCaseAssign:
		if a := str("assignee"); a != "" {
			out = "assigned to " + a
		} else {
			out = "unassigned"
		}
	case audit.ActionZoneCreate, audit.ActionZoneUpdate, audit.ActionZoneDelete:
		out = e.Action + " " + str("host") + ": status " + str("status")
	case audit.ActionAccountCreate, audit.ActionAccountUpdate:
		out = e.Action + ": status " + str("status")
		if a := str("decision"); a != "" {
			out += ", decision " + a
		}
		if r := str("reason"); r != "" {
			out += " (" + r + ")"
		}
	default:
		out = e.Action
	}
	const maxText = 400
	if len(out) > maxText {
		out = strings.ToValidUTF8(out[:maxText], "") + "…"
	}
	return out
}
