// Package audit is rampart's append-only, hash-chained log of every
// compliance-relevant event: screenings, list imports, account and zone
// changes, reports, case decisions and token use.
//
// Each Entry carries the SHA-256 hash of the entry before it, so that
// editing, removing, inserting or reordering any entry breaks the chain
// from that point on, and Verify finds it. The chain proves integrity, not
// secrecy: someone who can rewrite the whole table can also recompute every
// hash, so an operator should keep copies of the head hash (Verify prints
// it) outside the database, for instance in a ticket or a signed e-mail.
//
// # Canonical encoding
//
// The hash of an entry is the lowercase hex SHA-256 of the concatenation of
// nine netstring-like fields, each written as its length in bytes (ASCII
// decimal), a colon, the bytes themselves and a comma:
//
//	"rampart-audit-v1"   a fixed domain tag
//	seq                  decimal, no sign or leading zeros: "1", "2", ...
//	time                 UTC, RFC 3339 with exactly nine fraction digits:
//	                     "2026-11-25T12:35:15.123456789Z"
//	actor                token id, "system", "config" or "public"
//	action               e.g. "zone.create"
//	subject              e.g. "zone:z_0123456789abcdef" (may be empty)
//	data                 the JSON object exactly as exported (see below)
//	prev_hash            the previous entry's hash; 64 "0" for seq 1
//
// For example the field "abc" is encoded as "3:abc,". In Python:
//
//	f = [b"rampart-audit-v1", str(seq).encode(), time.encode(), actor.encode(),
//	     action.encode(), subject.encode(), data.encode(), prev_hash.encode()]
//	hashlib.sha256(b"".join(b"%d:%s," % (len(x), x) for x in f)).hexdigest()
//
// The data field is canonical JSON: an object, keys sorted by their UTF-8
// bytes, no insignificant white space, strings with only '"', '\\' and
// control characters escaped (\b \f \n \r \t, other controls as \u00xx),
// everything else as raw UTF-8, and numbers as they were given. Python's
// json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
// produces the same text for data with integer numbers; the JSON Lines
// export writes the stored text unchanged, so an auditor may also take it
// from the line verbatim.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeFormat is the layout of Entry times in the hash and in exports: UTC,
// RFC 3339 with exactly nine fraction digits, so that the text is fixed
// width and sorts like the times.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// GenesisHash is the prev_hash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// domainTag is the first field of the hash input; it changes if the
// encoding ever does.
const domainTag = "rampart-audit-v1"

// Well-known actors. Any other actor is an admin API token id.
const (
	ActorSystem = "system" // rampart itself (re-screening, start-up)
	ActorConfig = "config" // the config file (zones loaded at start or reload)
	ActorPublic = "public" // an unauthenticated caller (public reports)
)

// Actions recorded by rampart. Actions are free text (lowercase
// "noun.verb"); these are the ones the compliance desk writes.
const (
	ActionScreeningRun  = "screening.run"
	ActionListImport    = "list.import"
	ActionAccountCreate = "account.create"
	ActionAccountUpdate = "account.update"
	ActionZoneCreate    = "zone.create"
	ActionZoneUpdate    = "zone.update"
	ActionZoneDelete    = "zone.delete"
	ActionReportCreate  = "report.create"
	ActionCaseOpen      = "case.open"
	ActionCaseDecision  = "case.decision"
	ActionTokenCreate   = "token.create"
	ActionTokenRevoke   = "token.revoke"
	ActionTokenUse      = "token.use"
	ActionStatusBatch   = "status.batch"
)

// Event is what a caller asks to record. Data may be nil (recorded as {});
// otherwise it must be a JSON object.
type Event struct {
	Actor   string
	Action  string
	Subject string
	Data    json.RawMessage
}

// Entry is one sealed record of the log.
type Entry struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Head is the last entry's sequence number and hash; Seq 0 and GenesisHash
// for an empty log.
type Head struct {
	Seq  int64
	Hash string
}

// entryJSON is the export layout: Time as TimeFormat text.
type entryJSON struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// MarshalJSON writes the entry with its time in TimeFormat and its data
// byte for byte as stored (so the hash can be recomputed from the line).
// Data that is not valid JSON (only possible if the store was tampered
// with) is written as a JSON string, which then fails verification.
func (e Entry) MarshalJSON() ([]byte, error) {
	str := func(s string) []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s) // encoding a string cannot fail
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("{}")
	} else if !json.Valid(data) {
		data = str(string(data))
	}
	var b []byte
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"time":`...)
	b = append(b, str(FormatTime(e.Time))...)
	b = append(b, `,"actor":`...)
	b = append(b, str(e.Actor)...)
	b = append(b, `,"action":`...)
	b = append(b, str(e.Action)...)
	b = append(b, `,"subject":`...)
	b = append(b, str(e.Subject)...)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"prev_hash":`...)
	b = append(b, str(e.PrevHash)...)
	b = append(b, `,"hash":`...)
	b = append(b, str(e.Hash)...)
	b = append(b, '}')
	return b, nil
}

// UnmarshalJSON reads the export layout. The data object is kept byte for
// byte, so the hash can be recomputed.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j entryJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	t, err := ParseTime(j.Time)
	if err != nil {
		return err
	}
	*e = Entry{j.Seq, t, j.Actor, j.Action, j.Subject, j.Data, j.PrevHash, j.Hash}
	return nil
}

// FormatTime renders t as TimeFormat in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses a TimeFormat time; other RFC 3339 forms are refused so
// that one instant has one text.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing audit time %q: want %s: %w", s, TimeFormat, err)
	}
	return t, nil
}

// Hash computes the hash of e from its fields (ignoring e.Hash), as the
// package comment defines.
func Hash(e Entry) string {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	fields := [...][]byte{
		[]byte(domainTag),
		[]byte(strconv.FormatInt(e.Seq, 10)),
		[]byte(FormatTime(e.Time)),
		[]byte(e.Actor),
		[]byte(e.Action),
		[]byte(e.Subject),
		data,
		[]byte(e.PrevHash),
	}
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write(f)
		h.Write([]byte{','})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal makes the entry that follows prev for ev at time now: it checks ev,
// canonicalises its data and computes the hash. Stores call it while they
// hold the log's append lock.
func Seal(prev Head, ev Event, now time.Time) (Entry, error) {
	if err := CheckEvent(ev); err != nil {
		return Entry{}, err
	}
	data, err := Canonical(ev.Data)
	if err != nil {
		return Entry{}, fmt.Errorf("sealing audit entry %s: data: %w", ev.Action, err)
	}
	prevHash := prev.Hash
	if prev.Seq == 0 {
		prevHash = GenesisHash
	}
	e := Entry{
		Seq:      prev.Seq + 1,
		Time:     now.UTC(),
		Actor:    ev.Actor,
		Action:   ev.Action,
		Subject:  ev.Subject,
		Data:     data,
		PrevHash: prevHash,
	}
	// Round the time to what the text keeps (nanoseconds, UTC, no monotonic
	// reading), so that the entry compares equal after a round trip.
	e.Time, _ = ParseTime(FormatTime(e.Time))
	e.Hash = Hash(e)
	return e, nil
}

// CheckEvent reports whether ev can be recorded: actor and action must be
// non-empty, printable and at most 200 bytes; the subject at most 500.
func CheckEvent(ev Event) error {
	check := func(field, v string, max int, required bool) error {
		switch {
		case required && v == "":
			return fmt.Errorf("checking audit event: %s is empty", field)
		case len(v) > max:
			return fmt.Errorf("checking audit event: %s is longer than %d bytes", field, max)
		case !utf8.ValidString(v):
			return fmt.Errorf("checking audit event: %s is not valid UTF-8", field)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("checking audit event: %s contains a control character", field)
			}
		}
		return nil
	}
	if err := check("actor", ev.Actor, 200, true); err != nil {
		return err
	}
	if err := check("action", ev.Action, 200, true); err != nil {
		return err
	}
	return check("subject", ev.Subject, 500, false)
}

// Canonical returns the canonical text of a JSON object (see the package
// comment). Nil or empty input gives {}; anything but one JSON object is an
// error.
func Canonical(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	if !utf8.Valid(raw) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("not a JSON object")
	}
	var buf bytes.Buffer
	writeCanonical(&buf, v)
	return buf.Bytes(), nil
}

// MustData encodes v (a struct or map) as canonical JSON data for an Event;
// it panics if v cannot be encoded as a JSON object, which is a programming
// error.
func MustData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("audit.MustData: %v", err))
	}
	c, err := Canonical(b)
	if err != nil {
		panic(fmt.Sprintf("audit.MustData: %v", err))
	}
	return c
}

func writeCanonical(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case json.Number:
		buf.WriteString(string(x))
	case string:
		writeString(buf, x)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanonical(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Go compares strings by bytes: UTF-8 order.
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			writeCanonical(buf, x[k])
		}
		buf.WriteByte('}')
	}
}

func writeString(buf *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			if c < 0x20 {
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			} else {
				buf.WriteByte(c)
			}
		}
	}
	buf.WriteByte('"')
}

// Writer records events. Stores implement it: Append seals the event onto
// the head of the chain under the log's append lock, in its own
// transaction (or in the caller's, through the store's Tx).
type Writer interface {
	Append(ctx context.Context, ev Event) (Entry, error)
}

// Source reads the log back. Entries must yield the entries with seq >=
// from in ascending seq order, streaming; Head returns the head the store
// keeps beside the entries (updated in the same transaction as each
// append), so that a removed tail is detected too.
type Source interface {
	Entries(ctx context.Context, from int64) iter.Seq2[Entry, error]
	Head(ctx context.Context) (Head, error)
}

// Report is the outcome of Verify. When OK is false, FirstBad is the seq
// of the first entry found wrong (or the seq where one is missing) and
// Problem says what is wrong with it.
type Report struct {
	OK       bool   `json:"ok"`
	Entries  int    `json:"entries"`
	Head     string `json:"head"`
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Log combines a Writer and a Source: the store's view of the audit log.
type Log interface {
	Writer
	Source
}

// Verify walks the chain of src up to the stored head and checks that the
// seqs run 1, 2, 3 ... without a gap, that each entry's prev_hash is the
// hash of the entry before, that each hash matches the entry's fields, and
// that the head is the last entry checked. It reads the head first, so it
// can run while others append: entries added meanwhile are not covered. An edited, removed, inserted or reordered entry
// makes the Report not OK; the error is for failures to read the log.
func Verify(ctx context.Context, src Source) (Report, error) {
	head, err := src.Head(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verifying audit log: reading head: %w", err)
	}
	// Entries appended after the head was read (by a node still running)
	// are left for the next run: stop at the head's seq.
	var beyond int64
	upToHead := func(yield func(Entry, error) bool) {
		for e, err := range src.Entries(ctx, 1) {
			if err == nil && e.Seq > head.Seq {
				beyond = e.Seq
				return
			}
			if !yield(e, err) {
				return
			}
		}
	}
	rep, prev, err := verifySeq(upToHead)
	if err != nil {
		return Report{}, err
	}
	if !rep.OK {
		return rep, nil
	}
	if beyond > 0 {
		// Legitimate only if an append moved the head past it meanwhile.
		now, err := src.Head(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("verifying audit log: reading head: %w", err)
		}
		if now.Seq < beyond {
			return Report{Entries: rep.Entries, Head: prev.Hash, FirstBad: beyond,
				Problem: fmt.Sprintf("entry seq %d lies beyond the stored head (seq %d): the head was moved back or entries were added behind it", beyond, now.Seq)}, nil
		}
	}
	if head.Seq != prev.Seq || (head.Seq > 0 && head.Hash != prev.Hash) {
		return Report{Entries: rep.Entries, Head: prev.Hash, FirstBad: prev.Seq + 1,
			Problem: fmt.Sprintf("the stored head is seq %d hash %s, but the last entry is seq %d hash %s: entries were removed or the head was edited",
				head.Seq, head.Hash, prev.Seq, prev.Hash)}, nil
	}
	return rep, nil
}

// VerifyEntries checks a chain read from anywhere (such as a JSON Lines
// export read with ReadJSONL) that must start at seq 1. It cannot see a
// removed tail; compare Report.Head with a head hash kept elsewhere.
func VerifyEntries(entries iter.Seq2[Entry, error]) (Report, error) {
	rep, _, err := verifySeq(entries)
	return rep, err
}

func verifySeq(entries iter.Seq2[Entry, error]) (Report, Head, error) {
	prev := Head{Seq: 0, Hash: GenesisHash}
	n := 0
	bad := func(seq int64, format string, args ...any) (Report, Head, error) {
		return Report{Entries: n, Head: prev.Hash, FirstBad: seq, Problem: fmt.Sprintf(format, args...)}, prev, nil
	}
	for e, err := range entries {
		if err != nil {
			return Report{}, prev, fmt.Errorf("verifying audit log after seq %d: %w", prev.Seq, err)
		}
		want := prev.Seq + 1
		switch {
		case e.Seq < want:
			return bad(e.Seq, "entry seq %d appears after seq %d: entries were reordered or duplicated", e.Seq, prev.Seq)
		case e.Seq > want:
			return bad(want, "entry seq %d is missing (next is %d): entries were removed", want, e.Seq)
		case e.PrevHash != prev.Hash:
			return bad(e.Seq, "entry seq %d has prev_hash %s, but the entry before hashes to %s: an entry was inserted, removed or reordered", e.Seq, e.PrevHash, prev.Hash)
		}
		if got := Hash(e); got != e.Hash {
			return bad(e.Seq, "entry seq %d (%s %s) hashes to %s, but stores %s: the entry was edited", e.Seq, e.Action, e.Subject, got, e.Hash)
		}
		prev = Head{Seq: e.Seq, Hash: e.Hash}
		n++
	}
	return Report{OK: true, Entries: n, Head: prev.Hash}, prev, nil
}

// Export writes the entries of src with seq >= from as JSON Lines, one
// Entry per line in seq order (see Entry.MarshalJSON).
func Export(ctx context.Context, src Source, w io.Writer, from int64) (int, error) {
	if from < 1 {
		from = 1
	}
	n := 0
	for e, err := range src.Entries(ctx, from) {
		if err != nil {
			return n, fmt.Errorf("exporting audit log after %d entries: %w", n, err)
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return n, fmt.Errorf("exporting audit entry %d: %w", e.Seq, err)
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return n, fmt.Errorf("exporting audit entry %d: %w", e.Seq, err)
		}
		n++
	}
	return n, nil
}

// maxLine bounds one JSON Lines record in ReadJSONL.
const maxLine = 16 << 20

// ReadJSONL reads a JSON Lines export back, streaming. A malformed line is
// an error naming its line number; reading stops there.
func ReadJSONL(r io.Reader) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		br := newLineReader(r)
		for line := 1; ; line++ {
			b, err := br.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Entry{}, fmt.Errorf("reading audit export line %d: %w", line, err))
				return
			}
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			var e Entry
			if err := json.Unmarshal(b, &e); err != nil {
				yield(Entry{}, fmt.Errorf("reading audit export line %d: %w", line, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// lineReader returns lines of at most maxLine bytes.
type lineReader struct{ r *bufio.Reader }

func newLineReader(r io.Reader) *lineReader { return &lineReader{bufio.NewReaderSize(r, 64<<10)} }

func (l *lineReader) next() ([]byte, error) {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		case err != nil:
			return nil, err
		}
		return line, nil
	}
}
