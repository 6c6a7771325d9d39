package waf

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/reqctx"
	"github.com/rampart-edge/rampart/internal/reqpath"
)

// Phase is a zone's WAF phase (edge.PhaseWAF): one Coraza transaction per
// request over the connection, URI and headers (CRS phase 1) and the
// request body up to the body limit (phase 2), then the logging phase,
// always. In block mode an interruption answers 403 with the request id;
// in detect mode it is logged and counted and the request passes.
type Phase struct {
	zone      string
	waf       coraza.WAF
	block     bool
	bodyLimit int64
	log       *slog.Logger
	m         *metrics.WAF
	skipPaths []string
	skipExts  []string
	// response: the zone inspects responses (waf.response); pending
	// holds the transactions of passed requests for them.
	response bool
	pending  pending
	// limits are waf.limits; budget the node's inspection budget.
	limits        limits
	budget        *budget
	lastBudgetLog atomic.Int64 // unix second of the last over-budget log line
}

var _ edge.Phase = (*Phase)(nil)

// BlockReason is the reqctx.Info.Block value of a WAF block, as the access
// log shows it.
const BlockReason = "waf"

// maxLoggedData bounds the matched data logged per rule, so that an
// attack payload cannot flood the log.
const maxLoggedData = 100

// maxLoggedRules bounds the rules named in one log line.
const maxLoggedRules = 8

// Serve inspects r; see Phase.
//
// Before Coraza sees anything, the inspected part of the body is read and
// the request's arguments are counted and measured (limits.go): past the
// zone's waf.limits, block mode answers 413 and detect mode gives the
// WAF only the arguments within them. The inspection's estimated memory
// is then reserved from the node's budget (budget.go): when it does not
// fit in time, block mode answers 503 with Retry-After and detect mode
// passes the request uninspected, logged.
func (p *Phase) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	if p.skip(r) {
		return edge.Continue
	}
	info := reqctx.From(r.Context())
	id := ""
	if info != nil {
		id = info.ID
	}
	// leave counts the request out of the budget's view of the phase
	// (budget.enter), with the bytes it took; once the transaction
	// exists, its end does.
	leave := p.budget.enter()
	var took int64
	inTx := false
	defer func() {
		if !inTx {
			leave(took)
		}
	}()
	var body []byte
	var bodyErr error
	if r.Body != nil && r.Body != http.NoBody {
		body, bodyErr = p.readBody(r)
		took = int64(cap(body))
		if bodyErr != nil {
			p.log.Error("waf: reading the request body", "zone", p.zone, "request_id", id, "error", bodyErr)
		}
	}
	sc := scanRequest(r, body, p.limits, !p.block)
	if sc.over != "" {
		p.overLimit(w, r, id, sc)
		if p.block {
			return edge.Handled
		}
	}
	release, ok := p.budget.acquire(r.Context(), sc.cost())
	if !ok {
		return p.overBudget(w, r, id, sc)
	}
	var tx types.Transaction
	if id != "" {
		tx = p.waf.NewTransactionWithID(id)
	} else {
		tx = p.waf.NewTransaction()
	}
	// A heavy transaction is not handed back to Coraza's pool: its maps
	// keep the size they grew to, so the pool would hold a burst's peak
	// until it is collected twice, and a pooled one reused by a small
	// request would keep it for as long as traffic lasts. Dropped, it is
	// garbage at once. One with multipart files is closed all the same,
	// to remove its temporary files.
	drop := sc.cost() >= heavyCost && !sc.files
	took += sc.cost()
	inTx = true
	held := false
	defer func() {
		if !held {
			tx.ProcessLogging()
			if !drop {
				_ = tx.Close()
			}
			release()
			leave(took)
		}
	}()

	clientIP, clientPort := "", 0
	if host, port, ok := splitHostPort(r.RemoteAddr); ok {
		clientIP, clientPort = host, port
	}
	if info != nil && info.ClientIP.IsValid() {
		clientIP = info.ClientIP.String()
	}
	serverIP, serverPort := "", 0
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		serverIP, serverPort = la.IP.String(), la.Port
	}
	tx.ProcessConnection(clientIP, clientPort, serverIP, serverPort)
	tx.ProcessURI(r.RequestURI, r.Method, r.Proto)
	if info != nil && info.Target != "" && info.Target != r.RequestURI {
		setRawTarget(tx, info.Target, r.Method, r.Proto)
	}
	for k, vs := range r.Header {
		if k == "Cookie" && sc.cookieCut > 0 {
			vs = cutCookies(vs, sc.cookieCut)
		}
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	// net/http moves Host and Transfer-Encoding out of the header map.
	// HTTP/1.1 requires Host (net/http refuses a request without one), so
	// an empty r.Host there is an empty Host header, which CRS 920290
	// flags; only HTTP/1.0 may lack it (920280).
	if r.Host != "" || r.ProtoAtLeast(1, 1) {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(hostOnly(r.Host))
	}
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	it := tx.ProcessRequestHeaders()
	if it == nil {
		if len(sc.body) > 0 && tx.IsRequestBodyAccessible() {
			var err error
			if it, _, err = tx.WriteRequestBody(sc.body); err != nil {
				p.log.Error("waf: writing the request body", "zone", p.zone, "request_id", id, "bytes", len(sc.body), "error", err)
			}
		}
		if it == nil {
			// Phase 2 runs even without a body: most CRS attack rules
			// (ARGS, REQUEST_URI, ...) are phase 2 rules.
			var err error
			if it, err = tx.ProcessRequestBody(); err != nil {
				p.log.Error("waf: processing the request body", "zone", p.zone, "request_id", id, "error", err)
			}
		}
	}
	if it != nil {
		p.report(tx, it, r, id)
		if p.block {
			p.writeBlocked(w, r, id)
			return edge.Handled
		}
	}
	if p.response && it == nil {
		held = p.hold(r, tx, id, func() {
			if !drop {
				_ = tx.Close()
			}
			release()
			leave(took)
		})
	}
	return edge.Continue
}

// heavyCost is the estimated cost from which a transaction is dropped
// rather than returned to Coraza's pool (see Serve): about 60 arguments,
// or a 32 KiB body.
const heavyCost = 4 << 20

// The reqctx.Info.Block values of the WAF's refusals other than a rule
// match (BlockReason).
const (
	BlockLimits = "waf:limits"
	BlockMemory = "waf:memory"
)

// overLimit handles a request past the zone's argument limits: block
// mode answers 413; detect mode logs that the inspection is cut.
func (p *Phase) overLimit(w http.ResponseWriter, r *http.Request, id string, sc *scan) {
	p.m.Event(p.zone, p.block, []string{"limits:" + sc.over})
	if !p.block {
		p.log.Warn("waf: request over the argument limits, inspected only up to them (detect mode: passed)", "zone", p.zone, "request_id", id,
			"limit", sc.over, "value", sc.got, "max", sc.limit, "body_cut", sc.cut, "method", r.Method, "uri", truncate(r.RequestURI, 200))
		return
	}
	p.log.Warn("waf refused a request over the argument limits", "zone", p.zone, "request_id", id,
		"limit", sc.over, "value", sc.got, "max", sc.limit, "method", r.Method, "uri", truncate(r.RequestURI, 200))
	if info := reqctx.From(r.Context()); info != nil {
		info.Block = BlockLimits
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	fmt.Fprintf(w, "413 Content Too Large: the request is over the web application firewall's limit waf.limits.%s (%d, at most %d)\nrequest id: %s\n",
		sc.over, sc.got, sc.limit, id)
}

// overBudget handles a request the node's inspection budget had no room
// for in time: block mode answers 503 with Retry-After; detect mode
// passes it uninspected. Either is logged at most once a second per zone.
func (p *Phase) overBudget(w http.ResponseWriter, r *http.Request, id string, sc *scan) edge.Decision {
	p.m.Event(p.zone, p.block, []string{"memory"})
	if now := time.Now().Unix(); p.lastBudgetLog.Swap(now) != now {
		p.log.Warn("waf: no room in the inspection memory budget (waf.memory)", "zone", p.zone, "request_id", id,
			"estimate", sc.cost(), "reserved", p.budget.reserved(), "budget", p.budget.size, "passed_uninspected", !p.block)
	}
	if !p.block {
		return edge.Continue
	}
	if info := reqctx.From(r.Context()); info != nil {
		info.Block = BlockMemory
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["Retry-After"] = []string{"1"}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "503 Service Unavailable: the web application firewall is busy; retry in a moment\nrequest id: %s\n", id)
	return edge.Handled
}

// writeBlocked answers 403 with the request id and marks the request as
// blocked by the WAF for the access log.
func (p *Phase) writeBlocked(w http.ResponseWriter, r *http.Request, id string) {
	if info := reqctx.From(r.Context()); info != nil {
		info.Block = BlockReason
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "403 Forbidden: the request was blocked by the web application firewall\nrequest id: %s\n", id)
}

// readBody reads up to the body limit and replaces r.Body with those
// bytes followed by the rest of the original body, so the origin gets the
// whole body, streamed past the limit. A read error (client gone, zone
// max_body_size exceeded) is replayed to the proxy after the buffered
// bytes, so it fails the same way it would have without the WAF. The
// buffer grows as bytes arrive (from at most 4 KiB, or the announced
// length), so a client that announces a large body and sends little
// holds little.
func (p *Phase) readBody(r *http.Request) ([]byte, error) {
	limit := p.bodyLimit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		limit = r.ContentLength
	}
	initial := int64(4 << 10)
	if r.ContentLength > 0 {
		initial = min(limit, 64<<10)
	}
	bb := bytes.NewBuffer(make([]byte, 0, min(limit, initial)))
	_, err := bb.ReadFrom(io.LimitReader(r.Body, limit))
	data := bb.Bytes()
	rest := io.Reader(r.Body)
	if err != nil {
		rest = errReader{err}
	}
	r.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(data), rest), body: r.Body}
	if err != nil {
		return data, fmt.Errorf("reading the first %d body bytes: %w", limit, err)
	}
	return data, nil
}

// replayBody is a request body made of the inspected prefix and the rest
// of the original body; Close closes the original.
type replayBody struct {
	io.Reader
	body io.ReadCloser
}

func (b *replayBody) Close() error { return b.body.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// skip reports whether r is a static-asset GET or HEAD the zone's skip
// setting exempts from inspection. It reads the normalised path the edge
// set (package reqpath), the one the origin receives. A request with a
// body is always inspected. An extension exempts only a request without a
// query whose path has no dot before its last segment and no ';' in it,
// so that "/index.php/x.css?q=<script>" (PATH_INFO: the script runs) and
// "/index.jsp;x.css" (a servlet container's path parameter) are
// inspected; a path prefix exempts the query too, and must match the path
// with and without path parameters (reqpath.HasPrefix).
func (p *Phase) skip(r *http.Request) bool {
	if len(p.skipPaths) == 0 && len(p.skipExts) == 0 {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return false
	}
	path := r.URL.Path
	for _, pre := range p.skipPaths {
		if reqpath.HasPrefix(path, pre) {
			return true
		}
	}
	if len(p.skipExts) == 0 || r.URL.RawQuery != "" {
		return false
	}
	slash := strings.LastIndexByte(path, '/')
	if strings.IndexByte(path[slash+1:], ';') >= 0 {
		return false // "/index.jsp;x.css" is index.jsp to a servlet container
	}
	if dot := strings.LastIndexByte(path, '.'); dot > slash && strings.IndexByte(path[:slash+1], '.') < 0 {
		ext := path[dot:]
		for _, x := range p.skipExts {
			if strings.EqualFold(ext, x) {
				return true
			}
		}
	}
	return false
}

// report logs and counts a blocked or detected request.
func (p *Phase) report(tx types.Transaction, it *types.Interruption, r *http.Request, id string) {
	var ids []string
	var matched []string
	score := 0
	for _, mr := range tx.MatchedRules() {
		rid := mr.Rule().ID()
		if rid == 949110 || rid == 959100 {
			score = anomalyScore(mr.Message())
		}
		if mr.Message() == "" || len(ids) >= maxLoggedRules {
			continue
		}
		ids = append(ids, strconv.Itoa(rid))
		if rid >= 949000 && rid < 950000 {
			continue // the evaluation rule matches the score, not the request
		}
		if md := mr.MatchedDatas(); len(md) > 0 {
			d := md[0]
			v := d.Variable().Name()
			if k := d.Key(); k != "" {
				v += ":" + k
			}
			matched = append(matched, strconv.Itoa(rid)+" "+v+"="+truncate(d.Value(), maxLoggedData))
		}
	}
	if len(ids) == 0 {
		ids = append(ids, strconv.Itoa(it.RuleID))
	}
	msg := "waf detected an attack (detect mode: passed)"
	if p.block {
		msg = "waf blocked a request"
	}
	p.log.Warn(msg, "zone", p.zone, "request_id", id, "rules", ids, "interrupting_rule", it.RuleID,
		"anomaly_score", score, "matched", matched, "method", r.Method, "uri", truncate(r.RequestURI, 200))
	p.m.Event(p.zone, p.block, ids)
}

// anomalyScore reads the total from the CRS evaluation message
// "Inbound Anomaly Score Exceeded (Total Score: 5)"; 0 if absent.
func anomalyScore(msg string) int {
	const marker = "Total Score: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return 0
	}
	s := msg[i+len(marker):]
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// truncate cuts s to at most n bytes, on a UTF-8 boundary, marking the
// cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

func splitHostPort(addr string) (string, int, bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, false
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		return "", 0, false
	}
	return strings.Trim(addr[:i], "[]"), port, true
}

func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if end := strings.IndexByte(h, ']'); end > 0 {
			return h[1:end]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}
