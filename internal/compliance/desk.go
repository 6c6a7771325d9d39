package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// The case desk (issue 15): per-match review, assignee and comments, each
// stored with its audit entry in one transaction. A match is the pair
// (subject, listed entity) of a screening of the case's zone or account;
// its id is the listed entity's id. A whitelisted match is not held again:
// a re-screening (rescreen.go) and the zone gate on a zone update drop a
// whitelisted entity from the subject's matches, so only a new, different
// match holds the subject.

// Audit actions of the case desk.
const (
	ActionCaseReview  = "case.review"
	ActionCaseComment = "case.comment"
	ActionCaseAssign  = "case.assign"
)

// reviewScreenings is how many of a subject's newest screenings a review
// looks in for the match.
const reviewScreenings = 50

// CaseSubjects are the subjects of a case: its zone and the zone's
// account, or the account of an account's case.
type CaseSubjects struct {
	ZoneID    string
	AccountID string
}

// caseSubjects finds the subjects of cs.
func caseSubjects(ctx context.Context, tx store.Tx, cs store.Case) (CaseSubjects, error) {
	var sub CaseSubjects
	if id, ok := AccountOfCase(cs); ok {
		sub.AccountID = id
		return sub, nil
	}
	if cs.ZoneID == "" {
		return sub, nil
	}
	sub.ZoneID = cs.ZoneID
	z, err := tx.GetZone(ctx, cs.ZoneID)
	switch {
	case err == nil:
		sub.AccountID = z.AccountID
	case !errors.Is(err, store.ErrNotFound):
		return sub, err
	}
	return sub, nil
}

// auditSubjects are the audit subjects of a case's timeline.
func (s CaseSubjects) auditSubjects(caseID string) []string {
	out := []string{"case:" + caseID}
	if s.ZoneID != "" {
		out = append(out, store.SubjectZone+":"+s.ZoneID)
	}
	if s.AccountID != "" {
		out = append(out, store.SubjectAccount+":"+s.AccountID)
	}
	return out
}

// cleanText trims s and refuses control characters other than newlines
// and tabs, and text over max bytes.
func cleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", invalid("%s: required", field)
	case len(s) > max:
		return "", invalid("%s: longer than %d bytes", field, max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		return "", invalid("%s: contains control characters", field)
	}
	return s, nil
}

// ReviewMatch records a verdict (store.VerdictConfirmed, VerdictNoMatch,
// VerdictWhitelisted) on the match matchID of a case: the listed entity's
// id as it appears in a screening of the case's zone or account.
// subjectType ("zone" or "account", "" for either, the zone first) picks
// the subject when both matched the entity. A whitelist needs a reason.
// The review and its case.review audit entry (token id, case, match,
// subject, verdict, reason) commit together; a match the case does not
// have is store.ErrNotFound.
func (c *Service) ReviewMatch(ctx context.Context, caseID, matchID, subjectType, verdict, reason, actor string) (store.MatchReview, error) {
	switch verdict {
	case store.VerdictConfirmed, store.VerdictNoMatch, store.VerdictWhitelisted:
	default:
		return store.MatchReview{}, invalid("verdict: %q is not confirmed, no_match or whitelisted", verdict)
	}
	reason, err := cleanText("reason", reason, store.MaxReviewReason, false)
	if err != nil {
		return store.MatchReview{}, err
	}
	if reason == "" && verdict == store.VerdictWhitelisted {
		return store.MatchReview{}, invalid("reason: required to whitelist a match")
	}
	if matchID = strings.TrimSpace(matchID); matchID == "" || len(matchID) > 200 {
		return store.MatchReview{}, invalid("match_id: required, at most 200 bytes")
	}
	if subjectType != "" && subjectType != store.SubjectZone && subjectType != store.SubjectAccount {
		return store.MatchReview{}, invalid("subject_type: %q is not zone or account", subjectType)
	}
	var r store.MatchReview
	err = c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		cs, err := tx.GetCase(ctx, caseID)
		if err != nil {
			return err
		}
		sub, err := caseSubjects(ctx, tx, cs)
		if err != nil {
			return err
		}
		var found store.MatchReview
		for _, s := range []struct{ typ, id string }{{store.SubjectZone, sub.ZoneID}, {store.SubjectAccount, sub.AccountID}} {
			if s.id == "" || (subjectType != "" && subjectType != s.typ) || found.SubjectID != "" {
				continue
			}
			ok, err := screenedMatch(ctx, tx, s.typ, s.id, matchID)
			if err != nil {
				return err
			}
			if ok {
				found.SubjectType, found.SubjectID = s.typ, s.id
			}
		}
		if found.SubjectID == "" {
			return fmt.Errorf("%w: case %s has no screening match %s", store.ErrNotFound, caseID, matchID)
		}
		r = store.MatchReview{ID: store.NewID("rev"), CaseID: caseID, SubjectType: found.SubjectType, SubjectID: found.SubjectID,
			MatchID: matchID, Verdict: verdict, Reason: reason, Actor: actor, Created: store.Now()}
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: ActionCaseReview, Subject: "case:" + caseID,
			Data: audit.MustData(map[string]any{"review_id": r.ID, "case_id": caseID, "match_id": matchID, "subject_type": r.SubjectType,
				"subject_id": r.SubjectID, "verdict": verdict, "reason": reason})}); err != nil {
			return err
		}
		return tx.AddMatchReview(ctx, &r)
	})
	if err != nil {
		return store.MatchReview{}, fmt.Errorf("reviewing match %s of case %s: %w", matchID, caseID, err)
	}
	return r, nil
}

// screenedMatch reports whether one of the subject's newest screenings
// matched the entity matchID.
func screenedMatch(ctx context.Context, tx store.Tx, subjectType, subjectID, matchID string) (bool, error) {
	scs, err := tx.Screenings(ctx, subjectType, subjectID, reviewScreenings)
	if err != nil {
		return false, err
	}
	for _, sc := range scs {
		var ms []struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(sc.Matches, &ms) != nil {
			continue
		}
		for _, m := range ms {
			if m.ID == matchID {
				return true, nil
			}
		}
	}
	return false, nil
}

// AssignCase sets the person working a case (free text such as a token's
// name; "" unassigns it), with a case.assign audit entry.
func (c *Service) AssignCase(ctx context.Context, caseID, assignee, actor string) (store.Case, error) {
	assignee, err := cleanText("assignee", assignee, store.MaxAssignee, false)
	if err != nil {
		return store.Case{}, err
	}
	if strings.ContainsAny(assignee, "\r\n\t") {
		return store.Case{}, invalid("assignee: one line")
	}
	var cs store.Case
	err = c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		var err error
		if cs, err = tx.GetCase(ctx, caseID); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, audit.Event{Actor: actor, Action: ActionCaseAssign, Subject: "case:" + caseID,
			Data: audit.MustData(map[string]any{"case_id": caseID, "assignee": assignee, "previous": cs.Assignee})}); err != nil {
			return err
		}
		cs.Assignee = assignee
		return tx.UpdateCase(ctx, &cs)
	})
	if err != nil {
		return store.Case{}, fmt.Errorf("assigning case %s: %w", caseID, err)
	}
	return cs, nil
}

// CommentCase adds a comment to a case by the token author (authorName
// its name, if any), with a case.comment audit entry holding the text.
func (c *Service) CommentCase(ctx context.Context, caseID, body, author, authorName string) (store.Comment, error) {
	body, err := cleanText("body", body, store.MaxCommentBody, true)
	if err != nil {
		return store.Comment{}, err
	}
	if len(authorName) > store.MaxAssignee {
		authorName = authorName[:store.MaxAssignee]
	}
	cm := store.Comment{ID: store.NewID("cmt"), CaseID: caseID, Author: author, AuthorName: strings.ToValidUTF8(authorName, ""), Body: body}
	err = c.s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.LockWrites(ctx); err != nil {
			return err
		}
		if _, err := tx.GetCase(ctx, caseID); err != nil {
			return err
		}
		cm.Created = store.Now()
		if _, err := tx.Append(ctx, audit.Event{Actor: author, Action: ActionCaseComment, Subject: "case:" + caseID,
			Data: audit.MustData(map[string]any{"comment_id": cm.ID, "case_id": caseID, "author_name": cm.AuthorName, "body": body})}); err != nil {
			return err
		}
		return tx.AddComment(ctx, &cm)
	})
	if err != nil {
		return store.Comment{}, fmt.Errorf("commenting on case %s: %w", caseID, err)
	}
	return cm, nil
}

// whitelist is the set of whitelisted pairs: subject key → entity ids.
type whitelist map[string]map[string]bool

func subjectKey(subjectType, id string) string { return subjectType + ":" + id }

// loadWhitelist reads the whitelist of one subject, or of every subject
// when subjectType and id are "".
func (c *Service) loadWhitelist(ctx context.Context, subjectType, id string) (whitelist, error) {
	rs, err := c.s.Whitelist(ctx, subjectType, id)
	if err != nil {
		return nil, fmt.Errorf("reading the match whitelist: %w", err)
	}
	wl := whitelist{}
	for _, r := range rs {
		k := subjectKey(r.SubjectType, r.SubjectID)
		if wl[k] == nil {
			wl[k] = map[string]bool{}
		}
		wl[k][r.MatchID] = true
	}
	return wl, nil
}

// drop removes the matches whitelisted for the subject.
func (wl whitelist) drop(subjectType, id string, ms []screening.Match) []screening.Match {
	set := wl[subjectKey(subjectType, id)]
	if len(set) == 0 || len(ms) == 0 {
		return ms
	}
	out := ms[:0:0]
	for _, m := range ms {
		if !set[m.ID] {
			out = append(out, m)
		}
	}
	return out
}
