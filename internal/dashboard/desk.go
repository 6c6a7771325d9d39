package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// The case desk's actions on the case page (issue 15): per-match review,
// assignee and comments. Each needs the compliance scope (like the admin
// API's routes), checks the form's CSRF token (wrap) and is audited by
// the compliance desk with the session's token id.

// tokenName is the name a session's token goes by: its note, else its id
// ("assign to me", comment authors, the queue's "mine").
func tokenName(s *session) string {
	if s == nil {
		return ""
	}
	if n := strings.TrimSpace(s.tok.Note); n != "" {
		if len(n) > store.MaxAssignee {
			n = n[:store.MaxAssignee]
		}
		return n
	}
	return s.tok.ID
}

// reviewRow is one match of the case to review: the pair (subject,
// listed entity) as its newest screening shows it, with its verdict.
type reviewRow struct {
	Key         string // unique among the page's rows, for element ids
	SubjectType string
	SubjectID   string
	Subject     string // "zone www.example.org" or "account Acme Ltd"
	Match       screening.Match
	// Verdict is the pair's latest review on this case, nil if none.
	Verdict *store.MatchReview
}

// Selected is the verdict the row's form shows: the refused form's,
// else the current verdict.
func (r reviewRow) Selected(f *failedReview) string {
	if f != nil && f.Match == r.Match.ID {
		return f.Verdict
	}
	if r.Verdict != nil {
		return r.Verdict.Verdict
	}
	return ""
}

// Typed is the reason a refused form of this row held.
func (r reviewRow) Typed(f *failedReview) string {
	if f != nil && f.Match == r.Match.ID {
		return f.Reason
	}
	return ""
}

// maxReviewRows bounds the matches listed for review.
const maxReviewRows = 100

// reviewRows lists the distinct matches of the screenings (newest first)
// with their latest verdicts.
func reviewRows(sets []matchSet, reviews []store.MatchReview) []reviewRow {
	latest := map[string]*store.MatchReview{}
	for i := range reviews {
		r := &reviews[i]
		latest[r.SubjectType+"|"+r.SubjectID+"|"+r.MatchID] = r
	}
	seen := map[string]bool{}
	var rows []reviewRow
	for _, s := range sets {
		for _, m := range s.Found {
			k := s.SubjectType + "|" + s.SubjectID + "|" + m.ID
			if seen[k] || len(rows) == maxReviewRows {
				continue
			}
			seen[k] = true
			rows = append(rows, reviewRow{Key: strconv.Itoa(len(rows) + 1), SubjectType: s.SubjectType, SubjectID: s.SubjectID,
				Subject: s.Subject, Match: m, Verdict: latest[k]})
		}
	}
	return rows
}

// deskError maps a refused desk action to its status; 0 for other errors.
func deskError(err error) int {
	switch {
	case errors.Is(err, compliance.ErrInvalid), errors.Is(err, store.ErrInvalid):
		return http.StatusUnprocessableEntity
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	}
	return 0
}

// refused renders the case page again with the reason an action was
// refused, keeping what the user typed.
func (d *Dashboard) refused(w http.ResponseWriter, r *http.Request, v *view, id, what string, err error, keep func(*caseData)) error {
	code := deskError(err)
	if code == 0 {
		return err
	}
	cd, err2 := d.caseData(r, id)
	if err2 != nil {
		return err2
	}
	if keep != nil {
		keep(cd)
	}
	v.Title, v.Section, v.Data = "Case "+cd.Title, "cases", cd
	v.Error = what + " was not recorded: " + strings.ReplaceAll(err.Error(), compliance.ErrInvalid.Error()+": ", "")
	return d.render(w, v, code, "case")
}

// postCaseReview records a verdict on one match of the case, as POST
// /v1/cases/{id}/matches/{match_id}/review.
func (d *Dashboard) postCaseReview(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	id, match := r.PathValue("id"), r.PathValue("match_id")
	verdict, reason := r.PostForm.Get("verdict"), r.PostForm.Get("reason")
	_, err := d.opts.Compliance.ReviewMatch(r.Context(), id, match, r.PostForm.Get("subject_type"), verdict, reason, sessionOf(r).tok.ID)
	if err != nil {
		return d.refused(w, r, v, id, "The review of "+match, err, func(cd *caseData) {
			cd.Failed = &failedReview{Match: match, Verdict: verdict, Reason: reason}
		})
	}
	http.Redirect(w, r, "/dashboard/cases/"+id+"?notice=reviewed-"+urlQueryEscape(verdict)+"#h-review", http.StatusSeeOther)
	return nil
}

// postCaseAssign sets the case's assignee, as POST /v1/cases/{id}/assign;
// the "me" button assigns it to the session's token name.
func (d *Dashboard) postCaseAssign(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	id := r.PathValue("id")
	s := sessionOf(r)
	assignee := r.PostForm.Get("assignee")
	if r.PostForm.Get("me") != "" {
		assignee = tokenName(s)
	}
	cs, err := d.opts.Compliance.AssignCase(r.Context(), id, assignee, s.tok.ID)
	if err != nil {
		return d.refused(w, r, v, id, "The assignment", err, func(cd *caseData) { cd.Assignee = assignee })
	}
	notice := "assigned"
	if cs.Assignee == "" {
		notice = "unassigned"
	}
	http.Redirect(w, r, "/dashboard/cases/"+id+"?notice="+notice, http.StatusSeeOther)
	return nil
}

// postCaseComment adds a comment by the session's token, as POST
// /v1/cases/{id}/comments.
func (d *Dashboard) postCaseComment(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	id := r.PathValue("id")
	s := sessionOf(r)
	body := r.PostForm.Get("body")
	if _, err := d.opts.Compliance.CommentCase(r.Context(), id, body, s.tok.ID, tokenName(s)); err != nil {
		return d.refused(w, r, v, id, "The comment", err, func(cd *caseData) { cd.Comment = body })
	}
	http.Redirect(w, r, "/dashboard/cases/"+id+"?notice=commented#h-comments", http.StatusSeeOther)
	return nil
}
