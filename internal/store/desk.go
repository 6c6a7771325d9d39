package store

import "time"

// The case desk (issue 15): per-match review, the whitelist it keeps,
// assignees and comments.

// Match review verdicts.
const (
	// VerdictConfirmed: the subject is the listed entity.
	VerdictConfirmed = "confirmed"
	// VerdictNoMatch: a false positive this time; a later re-screen may
	// hold the subject on the same entry again.
	VerdictNoMatch = "no_match"
	// VerdictWhitelisted: a false positive for good (reason required);
	// the same subject is not held on the same entry again until a later
	// review of the pair says otherwise.
	VerdictWhitelisted = "whitelisted"
)

// Field bounds of the desk's records.
const (
	MaxReviewReason = 2000
	MaxCommentBody  = 4000
	MaxAssignee     = 100
)

// MatchReview is a compliance user's verdict on one screening match of a
// case: the pair (subject, listed entity). Reviews are kept as history; the
// latest review of a pair is its verdict.
type MatchReview struct {
	ID          string `json:"id"`
	CaseID      string `json:"case_id"`
	SubjectType string `json:"subject_type"` // account | zone
	SubjectID   string `json:"subject_id"`
	// MatchID is the listed entity's id (the match's "id", such as
	// "ofac-sdn:4695").
	MatchID string    `json:"match_id"`
	Verdict string    `json:"verdict"` // confirmed | no_match | whitelisted
	Reason  string    `json:"reason,omitempty"`
	Actor   string    `json:"actor"` // token id
	Created time.Time `json:"created"`
}

// Comment is a note on a case.
type Comment struct {
	ID     string `json:"id"`
	CaseID string `json:"case_id"`
	// Author is the token id; AuthorName the token's note (its name), if
	// any.
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name,omitempty"`
	Body       string    `json:"body"`
	Created    time.Time `json:"created"`
}

// ValidateMatchReview checks a review before it is written; a whitelist
// needs a reason.
func ValidateMatchReview(r *MatchReview) error {
	if err := checkText("match review", "case_id", r.CaseID, 200, true); err != nil {
		return err
	}
	if err := checkOneOf("match review", "subject_type", r.SubjectType, SubjectAccount, SubjectZone); err != nil {
		return err
	}
	if err := checkText("match review", "subject_id", r.SubjectID, 200, true); err != nil {
		return err
	}
	if err := checkText("match review", "match_id", r.MatchID, 200, true); err != nil {
		return err
	}
	if err := checkOneOf("match review", "verdict", r.Verdict, VerdictConfirmed, VerdictNoMatch, VerdictWhitelisted); err != nil {
		return err
	}
	if err := checkText("match review", "reason", r.Reason, MaxReviewReason, r.Verdict == VerdictWhitelisted); err != nil {
		return err
	}
	return checkText("match review", "actor", r.Actor, 200, true)
}

// ValidateComment checks a comment before it is written.
func ValidateComment(c *Comment) error {
	if err := checkText("comment", "case_id", c.CaseID, 200, true); err != nil {
		return err
	}
	if err := checkText("comment", "author", c.Author, 200, true); err != nil {
		return err
	}
	if err := checkText("comment", "author_name", c.AuthorName, MaxAssignee, false); err != nil {
		return err
	}
	return checkText("comment", "body", c.Body, MaxCommentBody, true)
}
