package sqlcore

import (
	"context"
	"fmt"
	"slices"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/store"
)

// The case desk (issue 15): match reviews with the whitelist they keep,
// comments, and the audit entries of a case.

const reviewCols = `id, case_id, subject_type, subject_id, match_id, verdict, reason, actor, created`

func scanReview(r Rows) (store.MatchReview, error) {
	var m store.MatchReview
	err := r.Scan(&m.ID, &m.CaseID, &m.SubjectType, &m.SubjectID, &m.MatchID, &m.Verdict, &m.Reason, &m.Actor, scanTime{&m.Created})
	return m, err
}

// AddMatchReview records a review and keeps the whitelist; see store.Tx.
func (o *ops) AddMatchReview(ctx context.Context, m *store.MatchReview) error {
	if m.ID == "" {
		m.ID = store.NewID("rev")
	}
	if m.Created.IsZero() {
		m.Created = store.Now()
	}
	if err := store.ValidateMatchReview(m); err != nil {
		return fmt.Errorf("adding match review: %w", err)
	}
	return o.atomic(ctx, func(t *ops) error {
		if _, err := t.q.Exec(ctx, `INSERT INTO match_reviews (`+reviewCols+`) VALUES `+placeholders(9),
			m.ID, m.CaseID, m.SubjectType, m.SubjectID, m.MatchID, m.Verdict, m.Reason, m.Actor, timeArg(m.Created)); err != nil {
			return t.wrapErr(err, "adding match review to case %s", m.CaseID)
		}
		if m.Verdict == store.VerdictWhitelisted {
			_, err := t.q.Exec(ctx, `INSERT INTO match_whitelist (subject_type, subject_id, match_id, review_id) VALUES (?, ?, ?, ?)
ON CONFLICT (subject_type, subject_id, match_id) DO UPDATE SET review_id = excluded.review_id`,
				m.SubjectType, m.SubjectID, m.MatchID, m.ID)
			return t.wrapErr(err, "whitelisting %s on %s %s", m.MatchID, m.SubjectType, m.SubjectID)
		}
		_, err := t.q.Exec(ctx, `DELETE FROM match_whitelist WHERE subject_type = ? AND subject_id = ? AND match_id = ?`,
			m.SubjectType, m.SubjectID, m.MatchID)
		return t.wrapErr(err, "taking %s on %s %s off the whitelist", m.MatchID, m.SubjectType, m.SubjectID)
	})
}

// MatchReviews lists a case's reviews, oldest first; see store.Tx.
func (o *ops) MatchReviews(ctx context.Context, caseID string) ([]store.MatchReview, error) {
	return collect(iterate(ctx, o.q, "match reviews", `SELECT `+reviewCols+` FROM match_reviews WHERE case_id = ? ORDER BY created, id`,
		[]any{caseID}, scanReview))
}

// Whitelist lists the whitelisting reviews in force; see store.Tx.
func (o *ops) Whitelist(ctx context.Context, subjectType, subjectID string) ([]store.MatchReview, error) {
	q := `SELECT r.id, r.case_id, r.subject_type, r.subject_id, r.match_id, r.verdict, r.reason, r.actor, r.created
FROM match_whitelist w JOIN match_reviews r ON r.id = w.review_id`
	var args []any
	if subjectType != "" || subjectID != "" {
		q += ` WHERE w.subject_type = ? AND w.subject_id = ?`
		args = append(args, subjectType, subjectID)
	}
	q += ` ORDER BY w.subject_type, w.subject_id, w.match_id`
	return collect(iterate(ctx, o.q, "whitelist", q, args, scanReview))
}

const commentCols = `id, case_id, author, author_name, body, created`

// AddComment adds a comment; see store.Tx.
func (o *ops) AddComment(ctx context.Context, c *store.Comment) error {
	if c.ID == "" {
		c.ID = store.NewID("cmt")
	}
	if c.Created.IsZero() {
		c.Created = store.Now()
	}
	if err := store.ValidateComment(c); err != nil {
		return fmt.Errorf("adding comment: %w", err)
	}
	_, err := o.q.Exec(ctx, `INSERT INTO case_comments (`+commentCols+`) VALUES `+placeholders(6),
		c.ID, c.CaseID, c.Author, c.AuthorName, c.Body, timeArg(c.Created))
	return o.wrapErr(err, "adding comment to case %s", c.CaseID)
}

// Comments lists a case's comments, oldest first; see store.Tx.
func (o *ops) Comments(ctx context.Context, caseID string) ([]store.Comment, error) {
	return collect(iterate(ctx, o.q, "comments", `SELECT `+commentCols+` FROM case_comments WHERE case_id = ? ORDER BY created, id`,
		[]any{caseID}, func(r Rows) (store.Comment, error) {
			var c store.Comment
			err := r.Scan(&c.ID, &c.CaseID, &c.Author, &c.AuthorName, &c.Body, scanTime{&c.Created})
			return c, err
		}))
}

// maxAuditSubjects bounds the subjects of one AuditBySubjects call.
const maxAuditSubjects = 20

// AuditBySubjects returns the newest entries of some subjects, oldest
// first; see store.Store.
func (o *ops) AuditBySubjects(ctx context.Context, subjects []string, limit int) ([]audit.Entry, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	if len(subjects) > maxAuditSubjects {
		return nil, fmt.Errorf("reading audit entries: %w: %d subjects, at most %d", store.ErrInvalid, len(subjects), maxAuditSubjects)
	}
	args := make([]any, 0, len(subjects)+1)
	for _, s := range subjects {
		args = append(args, s)
	}
	args = append(args, limitOr(limit, 200))
	es, err := collect(iterate(ctx, o.q, "audit log", `SELECT `+auditCols+` FROM audit_log WHERE subject IN `+placeholders(len(subjects))+
		` ORDER BY seq DESC LIMIT ?`, args, scanEntry))
	slices.Reverse(es)
	return es, err
}
