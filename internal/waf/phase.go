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

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/rampart-edge/rampart/internal/edge"
	"github.com/rampart-edge/rampart/internal/metrics"
	"github.com/rampart-edge/rampart/internal/reqctx"
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
func (p *Phase) Serve(w http.ResponseWriter, r *http.Request) edge.Decision {
	if p.skip(r) {
		return edge.Continue
	}
	info := reqctx.From(r.Context())
	id := ""
	if info != nil {
		id = info.ID
	}
	var tx types.Transaction
	if id != "" {
		tx = p.waf.NewTransactionWithID(id)
	} else {
		tx = p.waf.NewTransaction()
	}
	held := false
	defer func() {
		if !held {
			tx.ProcessLogging()
			_ = tx.Close()
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
		if r.Body != nil && r.Body != http.NoBody && tx.IsRequestBodyAccessible() {
			var err error
			if it, err = p.readBody(tx, r); err != nil {
				p.log.Error("waf: reading the request body", "zone", p.zone, "request_id", id, "error", err)
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
		held = p.hold(r, tx, id)
	}
	return edge.Continue
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

// readBody reads up to the body limit into a buffer and gives it to the
// transaction, then replaces r.Body with the buffer followed by the rest
// of the original body, so the origin gets the whole body, streamed past
// the limit. A read error (client gone, zone max_body_size exceeded) is
// replayed to the proxy after the buffered bytes, so it fails the same
// way it would have without the WAF.
func (p *Phase) readBody(tx types.Transaction, r *http.Request) (*types.Interruption, error) {
	limit := p.bodyLimit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		limit = r.ContentLength
	}
	buf := make([]byte, 0, min(limit, 64<<10))
	bb := bytes.NewBuffer(buf)
	_, err := bb.ReadFrom(io.LimitReader(r.Body, limit))
	data := bb.Bytes()
	rest := io.Reader(r.Body)
	if err != nil {
		rest = errReader{err}
	}
	r.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(data), rest), body: r.Body}
	if len(data) == 0 {
		return nil, nil
	}
	it, _, werr := tx.WriteRequestBody(data)
	if werr != nil {
		return it, fmt.Errorf("writing %d body bytes to the waf: %w", len(data), werr)
	}
	if err != nil {
		return it, fmt.Errorf("reading the first %d body bytes: %w", limit, err)
	}
	return it, nil
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
// query whose path has no dot before its last segment, so that
// "/index.php/x.css?q=<script>" (PATH_INFO: the script runs) is
// inspected; a path prefix exempts the query too.
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
		if strings.HasPrefix(path, pre) {
			return true
		}
	}
	if len(p.skipExts) == 0 || r.URL.RawQuery != "" {
		return false
	}
	slash := strings.LastIndexByte(path, '/')
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
