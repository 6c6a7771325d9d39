package dashboard

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/cache"
	"github.com/rampart-edge/rampart/internal/compliance"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/rollup"
	"github.com/rampart-edge/rampart/internal/screening"
	"github.com/rampart-edge/rampart/internal/store"
)

// pageSize is the number of rows of a listing page.
const pageSize = 50

func (d *Dashboard) needDesk() error {
	if d.opts.Compliance == nil {
		return &httpError{http.StatusServiceUnavailable, "The compliance desk is not running on this server (no control-plane store)."}
	}
	return nil
}

func offsetParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func oneOf(v string, allowed ...string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

// --- sign-in ---

type signinData struct {
	Next string
}

// safeNext keeps a post-sign-in target inside the dashboard.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/dashboard/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/dashboard/"
	}
	return n
}

func (d *Dashboard) pageSignin(w http.ResponseWriter, r *http.Request, v *view) error {
	return d.signinForm(w, r, v, http.StatusOK, "")
}

func (d *Dashboard) signinForm(w http.ResponseWriter, r *http.Request, v *view, code int, msg string) error {
	pre := randomString(32)
	d.setCookie(w, r, preCookie, pre, 600)
	v.Title, v.Section, v.CSRF, v.Error = "Sign in", "signin", pre, msg
	v.TokenID = ""
	v.Data = signinData{Next: safeNext(r.FormValue("next"))}
	return d.render(w, v, code, "signin")
}

func (d *Dashboard) postSignin(w http.ResponseWriter, r *http.Request, v *view) error {
	plain := strings.TrimSpace(r.PostForm.Get("token"))
	tok, ok := d.opts.Tokens.Verify(plain)
	if !ok {
		d.log.Info("dashboard sign-in refused", "remote", r.RemoteAddr)
		return d.signinForm(w, r, v, http.StatusUnauthorized, "That token is not valid (unknown, wrong or revoked).")
	}
	if err := d.audit(r.Context(), tok.ID, "dashboard.signin", map[string]any{"remote": r.RemoteAddr, "scope": string(tok.Scope)}); err != nil {
		d.log.Error("auditing a dashboard sign-in", "error", err)
		return &httpError{http.StatusServiceUnavailable, "The audit log is not writable; sign-in refused."}
	}
	id, err := d.sessions.create(r.Context(), plain, tok, d.opts.Now())
	if err != nil {
		return err
	}
	d.setCookie(w, r, sessionCookie, id, int(d.opts.SessionMax.Seconds()))
	d.setCookie(w, r, preCookie, "", -1)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

func (d *Dashboard) postSignout(w http.ResponseWriter, r *http.Request, v *view) error {
	s := sessionOf(r)
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := d.sessions.revoke(r.Context(), c.Value, d.opts.Now()); err != nil {
			return err // the session still lives: say so rather than pretend
		}
	}
	d.setCookie(w, r, sessionCookie, "", -1)
	if s != nil {
		if err := d.audit(r.Context(), s.tok.ID, "dashboard.signout", map[string]any{"remote": r.RemoteAddr}); err != nil {
			d.log.Error("auditing a dashboard sign-out", "error", err)
		}
	}
	http.Redirect(w, r, "/dashboard/signin?notice=signedout", http.StatusSeeOther)
	return nil
}

// --- home ---

type homeData struct {
	OldestOpen []store.Case
	InReview   []store.Account
	ZonesHeld  []store.Zone
	Lists      []lists.Version
	Entities   int
	Traffic    *rollup.Point
	Series     []float64
	Shared     bool
	Health     healthData
}

func (d *Dashboard) pageHome(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Title, v.Section = "Overview", "home"
	var hd homeData
	ctx := r.Context()
	if c := d.opts.Compliance; c != nil {
		var err error
		if v.CanDecide {
			if hd.OldestOpen, err = c.Store().ListCases(ctx, store.CaseFilter{Status: store.CaseOpen, Oldest: true, Limit: 5}); err != nil {
				return err
			}
		}
		if hd.InReview, err = c.Store().ListAccounts(ctx, store.AccountFilter{Status: store.AccountReview, Limit: 5}); err != nil {
			return err
		}
		if hd.ZonesHeld, err = c.Store().ListZones(ctx, store.ZoneFilter{Status: store.ZoneReview, Limit: 5}); err != nil {
			return err
		}
	}
	hd.Lists, hd.Entities = d.listVersions()
	if d.traffic != nil {
		ps, err := d.series(ctx, "", v.Now, 60, 1)
		if err != nil {
			return err
		}
		tot := rollup.Total(ps)
		hd.Traffic, hd.Series, hd.Shared = &tot, requestsOf(ps), d.traffic.Shared()
	}
	hd.Health = d.originHealth("")
	v.Data = hd
	return d.render(w, v, http.StatusOK, "home")
}

func (d *Dashboard) listVersions() ([]lists.Version, int) {
	if d.opts.Lists == nil {
		return nil, 0
	}
	snap := d.opts.Lists.Snapshot()
	if snap == nil {
		return nil, 0
	}
	var out []lists.Version
	n := 0
	for _, v := range snap.Versions {
		out = append(out, v)
		n += v.Entities
	}
	slices.SortFunc(out, func(a, b lists.Version) int { return strings.Compare(a.Source, b.Source) })
	return out, n
}

// --- cases ---

type casesData struct {
	Status string
	Tabs   []string
	Rows   []queueRow
	Offset int
	More   bool
	// Who filters by assignee: "" everyone, "mine", "unassigned".
	Who string
	// Me is the session's token name (the "mine" filter).
	Me string
	// Held are the accounts in review without an active case (held
	// before cases were opened for every hold): work for the desk
	// like an open case (decided on the account's page).
	Held []store.Account
}

// queueRow is a case of the queue; an account's case shows the
// account's name.
type queueRow struct {
	store.Case
	AccountID   string
	AccountName string
}

// Query is the queue's query string for a status and assignee filter.
func (cd casesData) Query(status, who string) string {
	q := "status=" + urlQueryEscape(status)
	if who != "" {
		q += "&who=" + urlQueryEscape(who)
	}
	return q
}

func (d *Dashboard) pageCases(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = store.CaseOpen
	}
	if status != "all" {
		status = oneOf(status, store.CaseOpen, store.CaseSuspended, store.CaseDismissed, store.CaseReinstated)
	}
	off := offsetParam(r)
	who := oneOf(q.Get("who"), "mine", "unassigned")
	me := tokenName(sessionOf(r))
	f := store.CaseFilter{Status: status, Oldest: true, Limit: pageSize + 1, Offset: off}
	if status == "all" {
		f.Status = ""
	}
	switch who {
	case "mine":
		f.Assignee = me
	case "unassigned":
		f.Unassigned = true
	}
	ctx := r.Context()
	st := d.opts.Compliance.Store()
	cs, err := st.ListCases(ctx, f)
	if err != nil {
		return err
	}
	cd := casesData{Status: status, Tabs: []string{store.CaseOpen, store.CaseSuspended, store.CaseDismissed, store.CaseReinstated, "all"},
		Offset: off, Who: who, Me: me}
	if len(cs) > pageSize {
		cs, cd.More = cs[:pageSize], true
	}
	for _, c := range cs {
		row := queueRow{Case: c}
		if id, ok := compliance.AccountOfCase(c); ok {
			row.AccountID, row.AccountName = id, id
			if a, err := st.GetAccount(ctx, id); err == nil {
				row.AccountName = a.Name
			}
		}
		cd.Rows = append(cd.Rows, row)
	}
	if status == store.CaseOpen && off == 0 && who == "" {
		held, err := st.ListAccounts(ctx, store.AccountFilter{Status: store.AccountReview, Limit: pageSize})
		if err != nil {
			return err
		}
		for _, a := range held {
			if _, err := st.FindActiveCase(ctx, compliance.AccountCaseHost(a.ID), store.CategorySanctions); errors.Is(err, store.ErrNotFound) {
				cd.Held = append(cd.Held, a)
			} else if err != nil {
				return err
			}
		}
	}
	v.Title, v.Section, v.Data = "Case queue", "cases", cd
	return d.render(w, v, http.StatusOK, "cases")
}

// matchSet is one screening with its matches decoded for display.
type matchSet struct {
	store.Screening
	Subject string // "zone www.example.org" or "account Acme Ltd"
	Found   []screening.Match
}

func decodeScreenings(subject string, scs []store.Screening) []matchSet {
	out := make([]matchSet, 0, len(scs))
	for _, s := range scs {
		ms := matchSet{Screening: s, Subject: subject}
		_ = json.Unmarshal(s.Matches, &ms.Found)
		out = append(out, ms)
	}
	return out
}

type caseData struct {
	compliance.Timeline
	// Title names the case: its host, or its account's name.
	Title      string
	Zone       *store.Zone
	Account    *store.Account
	Screenings []matchSet
	// Review lists the distinct matches with their verdicts.
	Review   []reviewRow
	Verdicts []string
	// Actions are the decisions the case's status allows.
	Actions []string
	Reason  string
	Action  string
	// Assignee and Comment keep what a refused form held; Failed the
	// review that was refused.
	Assignee string
	Comment  string
	Failed   *failedReview
}

// failedReview is a refused review form's input.
type failedReview struct {
	Match, Verdict, Reason string
}

func allowedActions(status string) []string {
	switch status {
	case store.CaseOpen:
		return []string{store.ActionDismiss, store.ActionSuspend}
	case store.CaseSuspended:
		return []string{store.ActionReinstate}
	case store.CaseDismissed, store.CaseReinstated:
		return []string{store.ActionSuspend}
	}
	return nil
}

func (d *Dashboard) caseData(r *http.Request, id string) (*caseData, error) {
	if err := d.needDesk(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	t, err := d.opts.Compliance.CaseTimeline(ctx, id)
	if err != nil {
		return nil, err
	}
	cd := &caseData{Timeline: t, Title: t.Case.Host, Actions: allowedActions(t.Case.Status), Assignee: t.Case.Assignee,
		Verdicts: []string{store.VerdictConfirmed, store.VerdictNoMatch, store.VerdictWhitelisted}}
	st := d.opts.Compliance.Store()
	if t.Case.ZoneID != "" {
		if z, err := st.GetZone(ctx, t.Case.ZoneID); err == nil {
			cd.Zone = &z
			if z.AccountID != "" {
				if a, err := st.GetAccount(ctx, z.AccountID); err == nil {
					cd.Account = &a
				}
			}
		}
	}
	if accID, ok := compliance.AccountOfCase(t.Case); ok && cd.Account == nil {
		// An account's case (an account held in review).
		if a, err := st.GetAccount(ctx, accID); err == nil {
			cd.Account = &a
		}
	}
	if cd.Zone != nil {
		cd.Screenings = append(cd.Screenings, decodeScreenings("zone "+cd.Zone.Host, t.Screenings)...)
	}
	if cd.Account != nil {
		scs, err := st.Screenings(ctx, store.SubjectAccount, cd.Account.ID, 10)
		if err != nil {
			return nil, err
		}
		cd.Screenings = append(cd.Screenings, decodeScreenings("account "+cd.Account.Name, scs)...)
		if _, ok := compliance.AccountOfCase(t.Case); ok {
			cd.Title = cd.Account.Name + " (account)"
		}
	}
	cd.Review = reviewRows(cd.Screenings, t.Reviews)
	return cd, nil
}

func (d *Dashboard) pageCase(w http.ResponseWriter, r *http.Request, v *view) error {
	cd, err := d.caseData(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Title, v.Section, v.Data = "Case "+cd.Title, "cases", cd
	return d.render(w, v, http.StatusOK, "case")
}

// postCaseDecision records a decision from the case page: the same call
// as POST /v1/cases/{id}/decision, audited with the session's token id.
func (d *Dashboard) postCaseDecision(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	id := r.PathValue("id")
	action, reason := r.PostForm.Get("action"), r.PostForm.Get("reason")
	s := sessionOf(r)
	_, _, err := d.opts.Compliance.Decide(r.Context(), id, action, reason, s.tok.ID)
	if err != nil {
		code := 0
		switch {
		case errors.Is(err, compliance.ErrInvalid), errors.Is(err, store.ErrInvalid):
			code = http.StatusUnprocessableEntity
		case errors.Is(err, store.ErrConflict):
			code = http.StatusConflict
		default:
			return err
		}
		cd, err2 := d.caseData(r, id)
		if err2 != nil {
			return err2
		}
		cd.Reason, cd.Action = reason, action
		v.Title, v.Section, v.Data = "Case "+cd.Title, "cases", cd
		v.Error = "The decision was not recorded: " + strings.ReplaceAll(err.Error(), compliance.ErrInvalid.Error()+": ", "")
		return d.render(w, v, code, "case")
	}
	http.Redirect(w, r, "/dashboard/cases/"+id+"?notice=decided-"+urlQueryEscape(action), http.StatusSeeOther)
	return nil
}

// --- accounts ---

type accountsData struct {
	Status   string
	Accounts []store.Account
	Offset   int
	More     bool
}

func (d *Dashboard) pageAccounts(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	status := oneOf(r.URL.Query().Get("status"), store.AccountActive, store.AccountReview, store.AccountBlocked)
	off := offsetParam(r)
	as, err := d.opts.Compliance.Store().ListAccounts(r.Context(), store.AccountFilter{Status: status, Limit: pageSize + 1, Offset: off})
	if err != nil {
		return err
	}
	ad := accountsData{Status: status, Offset: off}
	if len(as) > pageSize {
		as, ad.More = as[:pageSize], true
	}
	ad.Accounts = as
	v.Title, v.Section, v.Data = "Accounts", "accounts", ad
	return d.render(w, v, http.StatusOK, "accounts")
}

type accountData struct {
	Account store.Account
	// Cases are the account's own cases (its holds), newest first.
	Cases      []store.Case
	Summary    map[string]any
	Screenings []matchSet
	Zones      []store.Zone
	Actions    []string
}

func (d *Dashboard) pageAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	ctx := r.Context()
	st := d.opts.Compliance.Store()
	a, err := st.GetAccount(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	scs, err := st.Screenings(ctx, store.SubjectAccount, a.ID, 10)
	if err != nil {
		return err
	}
	zs, err := st.ListZones(ctx, store.ZoneFilter{AccountID: a.ID, Limit: 100})
	if err != nil {
		return err
	}
	ad := accountData{Account: a, Screenings: decodeScreenings("account "+a.Name, scs), Zones: zs}
	if v.CanDecide {
		if ad.Cases, err = st.ListCases(ctx, store.CaseFilter{Host: compliance.AccountCaseHost(a.ID), Limit: 20}); err != nil {
			return err
		}
	}
	_ = json.Unmarshal(a.Screening, &ad.Summary)
	for _, act := range []string{"clear", "review", "block"} {
		if map[string]string{"clear": store.AccountActive, "review": store.AccountReview, "block": store.AccountBlocked}[act] != a.Status {
			ad.Actions = append(ad.Actions, act)
		}
	}
	v.Title, v.Section, v.Data = "Account "+a.Name, "accounts", ad
	return d.render(w, v, http.StatusOK, "account")
}

func (d *Dashboard) postAccountDecision(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	id := r.PathValue("id")
	action, reason := r.PostForm.Get("action"), r.PostForm.Get("reason")
	_, err := d.opts.Compliance.DecideAccount(r.Context(), id, action, reason, sessionOf(r).tok.ID)
	switch {
	case errors.Is(err, compliance.ErrInvalid), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		http.Redirect(w, r, "/dashboard/accounts/"+id+"?notice=account-refused", http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/dashboard/accounts/"+id+"?notice=account-"+urlQueryEscape(action), http.StatusSeeOther)
	return nil
}

// --- zones ---

type zonesData struct {
	Status string
	Zones  []store.Zone
	Offset int
	More   bool
}

func (d *Dashboard) pageZones(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	status := oneOf(r.URL.Query().Get("status"), store.ZoneActive, store.ZoneReview, store.ZoneRejected, store.ZoneSuspended)
	off := offsetParam(r)
	zs, err := d.opts.Compliance.Store().ListZones(r.Context(), store.ZoneFilter{Status: status, Limit: pageSize + 1, Offset: off})
	if err != nil {
		return err
	}
	zd := zonesData{Status: status, Offset: off}
	if len(zs) > pageSize {
		zs, zd.More = zs[:pageSize], true
	}
	zd.Zones = zs
	v.Title, v.Section, v.Data = "Zones", "zones", zd
	return d.render(w, v, http.StatusOK, "zones")
}

type zoneData struct {
	Zone       store.Zone
	Reasons    []any
	Screenings []matchSet
	Cases      []store.Case
	Traffic    *rollup.Point
	Series     []float64
	Health     healthData
}

func (d *Dashboard) pageZone(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	ctx := r.Context()
	st := d.opts.Compliance.Store()
	z, err := st.GetZone(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	scs, err := st.Screenings(ctx, store.SubjectZone, z.ID, 10)
	if err != nil {
		return err
	}
	zd := zoneData{Zone: z, Screenings: decodeScreenings("zone "+z.Host, scs)}
	_ = json.Unmarshal(z.Reasons, &zd.Reasons)
	if v.CanDecide {
		if zd.Cases, err = st.ListCases(ctx, store.CaseFilter{ZoneID: z.ID, Limit: 20}); err != nil {
			return err
		}
	}
	if d.traffic != nil {
		ps, err := d.series(ctx, z.Host, v.Now, 60, 1)
		if err != nil {
			return err
		}
		tot := rollup.Total(ps)
		zd.Traffic, zd.Series = &tot, requestsOf(ps)
	}
	zd.Health = d.originHealth(z.Host)
	v.Title, v.Section, v.Data = "Zone "+z.Host, "zones", zd
	return d.render(w, v, http.StatusOK, "zone")
}

// postPurge empties the zone's cache on this node (other nodes purge
// through Redis), as POST /v1/zones/{id}/purge with {"everything": true}
// or a path prefix; audited with the token id.
func (d *Dashboard) postPurge(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.needDesk(); err != nil {
		return err
	}
	if d.opts.Purger == nil {
		return &httpError{http.StatusServiceUnavailable, "The cache is not available on this node."}
	}
	z, err := d.opts.Compliance.Store().GetZone(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	req := cache.PurgeRequest{Everything: true}
	if p := strings.TrimSpace(r.PostForm.Get("prefix")); p != "" {
		if !strings.HasPrefix(p, "/") || len(p) > 2048 {
			return &httpError{http.StatusUnprocessableEntity, "A purge prefix is a path starting with /."}
		}
		req = cache.PurgeRequest{Prefixes: []string{p}}
	}
	tokID := sessionOf(r).tok.ID
	if err := d.audit(r.Context(), tokID, audit.ActionTokenUse, map[string]any{"method": r.Method, "path": r.URL.Path, "zone": z.Host,
		"everything": req.Everything, "prefixes": req.Prefixes}); err != nil {
		return &httpError{http.StatusServiceUnavailable, "The audit log is not writable; nothing was purged."}
	}
	n, err := d.opts.Purger.Purge(z.Host, req)
	if err != nil {
		return &httpError{http.StatusUnprocessableEntity, "Purge refused: " + err.Error()}
	}
	http.Redirect(w, r, "/dashboard/zones/"+z.ID+"?notice=purged-"+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}

// --- audit ---

type auditData struct {
	Entries []audit.Entry
	Head    audit.Head
	From    int64
	Prev    int64
	Next    int64
	Subject string
	Verify  *audit.Report
}

// auditScanMax bounds the entries read by a subject search.
const auditScanMax = 200000

func (d *Dashboard) pageAudit(w http.ResponseWriter, r *http.Request, v *view) error {
	if d.opts.Store == nil {
		return &httpError{http.StatusServiceUnavailable, "The audit log is not available on this server."}
	}
	ctx := r.Context()
	q := r.URL.Query()
	head, err := d.opts.Store.Head(ctx)
	if err != nil {
		return err
	}
	ad := auditData{Head: head, Subject: strings.TrimSpace(q.Get("subject"))}
	if q.Get("verify") != "" {
		rep, err := audit.Verify(ctx, d.opts.Store)
		if err != nil {
			return err
		}
		ad.Verify = &rep
	}
	const n = 50
	if ad.Subject != "" {
		// Newest matches last; keep the last n.
		from := max(1, head.Seq-auditScanMax+1)
		for e, err := range d.opts.Store.Entries(ctx, from) {
			if err != nil {
				return err
			}
			if e.Subject == ad.Subject || strings.HasPrefix(e.Subject, ad.Subject+":") || e.Actor == ad.Subject {
				ad.Entries = append(ad.Entries, e)
				if len(ad.Entries) > n {
					ad.Entries = ad.Entries[1:]
				}
			}
		}
	} else {
		from, err := strconv.ParseInt(q.Get("from"), 10, 64)
		if err != nil || from < 1 {
			from = max(1, head.Seq-n+1)
		}
		ad.From = from
		for e, err := range d.opts.Store.Entries(ctx, from) {
			if err != nil {
				return err
			}
			if len(ad.Entries) == n {
				break
			}
			ad.Entries = append(ad.Entries, e)
		}
		if from > 1 {
			ad.Prev = max(1, from-n)
		}
		if from+n <= head.Seq {
			ad.Next = from + n
		}
	}
	slices.Reverse(ad.Entries) // newest first
	v.Title, v.Section, v.Data = "Audit log", "audit", ad
	return d.render(w, v, http.StatusOK, "audit")
}

// --- search ---

type searchData struct {
	Name    string
	Kind    string
	Country string
	Kinds   []string
	Done    bool
	Result  screening.Result
	Took    time.Duration
}

func (d *Dashboard) pageSearch(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	sd := searchData{Name: strings.TrimSpace(q.Get("name")), Kind: q.Get("kind"), Country: strings.ToUpper(strings.TrimSpace(q.Get("country"))),
		Kinds: []string{"person", "organization", "vessel", "aircraft"}}
	sd.Kind = oneOf(sd.Kind, sd.Kinds...)
	if len(sd.Country) != 2 {
		sd.Country = ""
	}
	if sd.Name != "" {
		if d.opts.Screening == nil {
			return &httpError{http.StatusServiceUnavailable, "Screening is not available on this server."}
		}
		if len(sd.Name) > 1024 {
			return &httpError{http.StatusBadRequest, "The name is over 1,024 bytes."}
		}
		start := time.Now()
		sd.Result = d.opts.Screening.Screen(screening.Query{Name: sd.Name, Kind: entity.Kind(sd.Kind), Country: sd.Country, Limit: 20})
		sd.Took = time.Since(start)
		sd.Done = true
		slices.SortStableFunc(sd.Result.Matches, func(a, b screening.Match) int { return cmp.Compare(b.Score, a.Score) })
	}
	v.Title, v.Section, v.Data = "Screen a name", "search", sd
	return d.render(w, v, http.StatusOK, "search")
}

// --- traffic ---

type trafficData struct {
	Zone    string
	Range   string
	Total   rollup.Point
	Points  []rollup.Point
	Zones   []rollup.ZoneTotal
	Charts  []chartData
	JSON    any
	Enabled bool
	Shared  bool
	Health  healthData
}

type chartData struct {
	Label  string
	Values []float64
}

func (d *Dashboard) pageTraffic(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	td := trafficData{Zone: strings.TrimSpace(q.Get("zone")), Range: q.Get("range")}
	if td.Range != "day" {
		td.Range = "hour"
	}
	v.Title, v.Section = "Traffic", "traffic"
	if td.Zone != "" {
		v.Title = "Traffic of " + td.Zone
	}
	if len(td.Zone) > 255 {
		return &httpError{http.StatusBadRequest, "A zone is at most 255 bytes."}
	}
	if d.traffic != nil {
		td.Enabled, td.Shared = true, d.traffic.Shared()
		n, step := 60, 1
		if td.Range == "day" {
			n, step = rollup.Minutes, 10
		}
		var err error
		if td.Points, err = d.series(r.Context(), td.Zone, v.Now, n, step); err != nil {
			return err
		}
		td.Total = rollup.Total(td.Points)
		series := map[string][]float64{}
		var xs []int64
		for _, p := range td.Points {
			xs = append(xs, p.Minute.Unix())
			series["Requests"] = append(series["Requests"], float64(p.Requests))
			series["Bandwidth (bytes)"] = append(series["Bandwidth (bytes)"], float64(p.Bytes))
			series["Cache hits"] = append(series["Cache hits"], float64(p.CacheHits))
			series["Mitigated"] = append(series["Mitigated"], float64(p.Mitigated()))
			series["5xx"] = append(series["5xx"], float64(p.Status[5]))
			series["Mean latency (ms)"] = append(series["Mean latency (ms)"], float64(p.MeanLatency().Microseconds())/1000)
		}
		for _, l := range []string{"Requests", "Bandwidth (bytes)", "Cache hits", "Mitigated", "5xx", "Mean latency (ms)"} {
			td.Charts = append(td.Charts, chartData{Label: l, Values: series[l]})
		}
		td.JSON = map[string]any{"x": xs, "series": td.Charts}
		if td.Zone == "" {
			if td.Zones, err = d.totals(r.Context(), v.Now, 60, 100); err != nil {
				return err
			}
		}
	}
	td.Health = d.originHealth(td.Zone)
	v.Data = td
	return d.render(w, v, http.StatusOK, "traffic")
}

// --- security events ---

type eventsData struct {
	Filter   rollup.EventFilter
	Events   []rollup.Event
	Query    string
	Rule     string
	RuleFor  string
	RuleJSON string
	Actions  []string
	Enabled  bool
	// Shared: the events are every node's (the shared store), each with
	// its node; else this node's sample.
	Shared bool
}

func eventFilter(r *http.Request) (rollup.EventFilter, error) {
	q := r.URL.Query()
	f := rollup.EventFilter{Zone: strings.TrimSpace(q.Get("zone")), Action: oneOf(q.Get("action"), "rate_limited", "challenged", "waf_blocked", "legal_451"),
		ClientIP: strings.TrimSpace(q.Get("ip")), Country: strings.ToUpper(strings.TrimSpace(q.Get("country"))),
		RuleID: strings.TrimSpace(q.Get("rule")), Path: strings.TrimSpace(q.Get("path")), Limit: 200}
	return f, checkEventFilter(&f, strings.TrimSpace(q.Get("asn")))
}

func (d *Dashboard) pageEvents(w http.ResponseWriter, r *http.Request, v *view) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	ed := eventsData{Filter: f, Query: r.URL.RawQuery, Actions: []string{"rate_limited", "challenged", "waf_blocked", "legal_451"}}
	if d.traffic != nil {
		ed.Enabled, ed.Shared = true, d.traffic.Shared()
		if ed.Events, err = d.events(r.Context(), ed.Filter); err != nil {
			return err
		}
	}
	// "Create an access rule from this filter": the zone's access entry
	// that denies what the filter names.
	if entry, what := accessRule(ed.Filter); entry != "" {
		ed.Rule, ed.RuleFor = "access:\n  deny:\n    - \""+entry+"\"", what
		b, _ := json.Marshal(map[string]any{"access": map[string]any{"deny": []string{entry}}})
		ed.RuleJSON = string(b)
	}
	v.Title, v.Section, v.Data = "Security events", "events", ed
	return d.render(w, v, http.StatusOK, "events")
}

func (d *Dashboard) eventsJSON(w http.ResponseWriter, r *http.Request, v *view) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	evs := []rollup.Event{}
	if d.traffic != nil {
		if evs, err = d.events(r.Context(), f); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="rampart-security-events.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"events": evs})
}
