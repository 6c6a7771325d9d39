package compliance

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

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

// Report field bounds.
const (
	MinDescription = 10
	MaxDescription = 5000
	MaxEvidence    = 10
	MaxEvidenceURL = 2048
)

// ValidateReport checks and normalises a report: host a known zone or a
// syntactically valid host name; category sanctions, abuse or other;
// description 10 to 5000 characters; at most 10 http(s) evidence URLs;
// reporter e-mail, when given, a bare address.
func ValidateReport(in *ReportInput) error {
	h := strings.TrimSpace(in.Host)
	if h == "" {
		return invalid("host: required")
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
		return invalid("category: %q is not sanctions, abuse or other", in.Category)
	}
	in.Description = strings.TrimSpace(in.Description)
	n := utf8.RuneCountInString(in.Description)
	if !utf8.ValidString(in.Description) || n < MinDescription || n > MaxDescription {
		return invalid("description: must be %d to %d characters of UTF-8, got %d", MinDescription, MaxDescription, n)
	}
	if len(in.EvidenceURLs) > MaxEvidence {
		return invalid("evidence_urls: at most %d", MaxEvidence)
	}
	for i, raw := range in.EvidenceURLs {
		u, err := url.Parse(raw)
		if err != nil || len(raw) > MaxEvidenceURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("evidence_urls[%d]: %q is not an http(s) URL", i, raw)
		}
	}
	in.ReporterEmail = strings.TrimSpace(in.ReporterEmail)
	if in.ReporterEmail != "" && !ValidEmail(in.ReporterEmail) {
		return invalid("reporter_email: %q is not an e-mail address", in.ReporterEmail)
	}
	return nil
}

// Report validates and files a public report: it opens a case for the
// host and category or joins the active one (counted, dated). clientIP is
// kept on the report row, never in the audit chain.
func (c *Service) Report(ctx context.Context, in ReportInput, clientIP string) (store.Case, error) {
	if err := ValidateReport(&in); err != nil {
		return store.Case{}, err
	}
	// A host that is an alias of a zone is filed under the zone's host.
	if st, ok := c.ZoneState(in.Host); ok {
		in.Host = st.Host
	}
	cs, _, err := store.RecordReport(ctx, c.s, store.ReportInput{Host: in.Host, Category: in.Category, Description: in.Description,
		EvidenceURLs: in.EvidenceURLs, ReporterEmail: in.ReporterEmail, ClientIP: clientIP})
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
	cs, d, err := c.decide(ctx, caseID, action, reason, actor)
	if err != nil {
		return store.Case{}, store.Decision{}, err
	}
	if cs.ZoneID != "" {
		c.zoneChanged(ctx, cs.ZoneID)
	}
	return cs, d, nil
}

// Timeline is a case with its reports, decisions and the screenings of
// its zone.
type Timeline struct {
	store.CaseTimeline
	Screenings []store.Screening `json:"screenings"`
	// KnownSince is when the operator first knew: the case's opening.
	KnownSince string `json:"known_since"`
	// Events are every dated step, oldest first.
	Events []TimelineEvent `json:"events"`
}

// TimelineEvent is one dated step of a case.
type TimelineEvent struct {
	Time string `json:"time"`
	Kind string `json:"kind"` // opened | report | screening | decision
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}

// CaseTimeline returns a case's full timeline.
func (c *Service) CaseTimeline(ctx context.Context, id string) (Timeline, error) {
	ct, err := store.GetCaseTimeline(ctx, c.s, id)
	if err != nil {
		return Timeline{}, fmt.Errorf("reading case %s: %w", id, err)
	}
	t := Timeline{CaseTimeline: ct, Screenings: []store.Screening{}}
	if t.Reports == nil {
		t.Reports = []store.Report{}
	}
	if t.Decisions == nil {
		t.Decisions = []store.Decision{}
	}
	const tf = "2006-01-02T15:04:05.000000Z07:00"
	t.KnownSince = ct.Case.Opened.UTC().Format(tf)
	t.Events = append(t.Events, TimelineEvent{Time: t.KnownSince, Kind: "opened", ID: ct.Case.ID,
		Text: "case opened (" + ct.Case.Origin + ", " + ct.Case.Category + ")"})
	if ct.Case.ZoneID != "" {
		scs, err := c.s.Screenings(ctx, store.SubjectZone, ct.Case.ZoneID, 50)
		if err == nil {
			t.Screenings = scs
		}
	}
	var evs []TimelineEvent
	for _, r := range t.Reports {
		evs = append(evs, TimelineEvent{Time: r.Created.UTC().Format(tf), Kind: "report", ID: r.ID, Text: r.Description})
	}
	for _, s := range t.Screenings {
		evs = append(evs, TimelineEvent{Time: s.Created.UTC().Format(tf), Kind: "screening", ID: s.ID, Text: "screening result " + s.Result})
	}
	for _, d := range t.Decisions {
		evs = append(evs, TimelineEvent{Time: d.Created.UTC().Format(tf), Kind: "decision", ID: d.ID, Text: d.Action + " by " + d.Actor + ": " + d.Reason})
	}
	sortEvents(evs)
	t.Events = append(t.Events, evs...)
	return t, nil
}

func sortEvents(evs []TimelineEvent) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time < evs[j-1].Time; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}
