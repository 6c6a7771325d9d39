// Package accesslog writes the edge's access log: one line per request, as
// JSON (the default), in the Combined Log Format, or not at all.
//
// Lines are formatted into a pooled buffer without reflection and written
// through a buffered writer, so a request costs one short critical section
// and no system call. The buffer is flushed every FlushInterval, when it is
// full, and on Flush or Close: a crash can lose up to FlushInterval of lines.
//
// The JSON lines carry the same fields, in the same order, for every
// request, so they can be read by any JSON-lines tool. They are shaped like
// log/slog's JSON records (time, level, msg "access", then the fields), so
// that they can share stderr with rampart's own slog lines and be told
// apart by msg. They are formatted by hand because that costs about a
// fifth of slog's JSON handler: 0.33 µs and no allocation per line against
// 1.8 µs and 3 allocations here (BenchmarkLogJSON and
// BenchmarkSlogJSONReference):
//
//	{"time":"2026-11-25T12:00:00.000Z","level":"INFO","msg":"access","request_id":"...","client_ip":"192.0.2.1","zone":"www.example.org","method":"GET","host":"www.example.org","path":"/a?b=c","proto":"HTTP/1.1","status":200,"bytes":1024,"duration":0.000412,"origin":"http://127.0.0.1:3000","user_agent":"curl/8.5.0"}
//
// duration is in seconds; path is the request target as the client sent
// it, query included (so secrets that clients put in query strings end up
// in the log, as with nginx's $request); "cache" and "block" are added when
// a cache status or a block reason was set.
package accesslog

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/config"
)

// Format selects how lines are written.
type Format int

// The access log formats.
const (
	// Off writes nothing.
	Off Format = iota
	// JSON writes one JSON object per line (the default).
	JSON
	// Combined writes the Apache/nginx Combined Log Format.
	Combined
)

// ParseFormat maps the config's log.format ("json", "combined", "off"; ""
// means json) to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "json":
		return JSON, nil
	case "combined":
		return Combined, nil
	case "off":
		return Off, nil
	}
	return Off, fmt.Errorf("parsing log format %q: want json, combined or off", s)
}

// FlushInterval is how often buffered lines are written out.
const FlushInterval = time.Second

// bufferSize is the buffered writer's size: about 200 JSON lines.
const bufferSize = 64 << 10

// Entry is one request as the access log records it.
type Entry struct {
	Time      time.Time
	ID        string
	ClientIP  netip.Addr
	Zone      string
	Method    string
	Host      string
	Path      string
	Proto     string
	Status    int
	Bytes     int64
	Duration  time.Duration
	Origin    string
	UserAgent string
	// Referer is written by the Combined format only.
	Referer string
	Cache   string
	Block   string
}

// Logger writes access log lines. It is safe for concurrent use. A nil
// *Logger, or one with format Off, writes nothing.
type Logger struct {
	format Format

	mu     sync.Mutex
	bw     *bufio.Writer
	closer io.Closer // the file opened by Open, or nil
	path   string    // the file opened by Open, for Reopen
	err    error     // the first write error, reported by Flush

	stop chan struct{}
	done chan struct{}
}

// Open returns a logger for the config's log section: format from
// cfg.Format, lines to the file cfg.Path (created with mode 0640 and
// appended to) or to stderr when cfg.Path is "".
func Open(cfg config.Log) (*Logger, error) {
	f, err := ParseFormat(cfg.Format)
	if err != nil {
		return nil, err
	}
	if f == Off {
		return New(io.Discard, Off), nil
	}
	if cfg.Path == "" {
		return New(os.Stderr, f), nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("opening access log %s: %w", cfg.Path, err)
	}
	file, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening access log: %w", err)
	}
	l := New(file, f)
	l.closer = file
	l.path = cfg.Path
	return l, nil
}

// Reopen flushes the buffered lines and opens the log file again by its
// path, so that a log rotated away (renamed by logrotate) is followed by a
// new file. It does nothing for a logger that does not write to a file.
// On error the logger keeps writing to the file it had.
func (l *Logger) Reopen() error {
	if l == nil || l.path == "" {
		return nil
	}
	file, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("reopening access log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ferr := l.bw.Flush()
	old := l.closer
	l.bw.Reset(file)
	l.closer = file
	if old != nil {
		old.Close()
	}
	if ferr != nil {
		return fmt.Errorf("reopening access log: flushing: %w", ferr)
	}
	return nil
}

// New returns a logger writing lines in format f to w through a buffer,
// flushed every FlushInterval. Close stops the flushing goroutine.
func New(w io.Writer, f Format) *Logger {
	l := &Logger{format: f, bw: bufio.NewWriterSize(w, bufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	if f == Off {
		close(l.done)
		return l
	}
	go l.flushLoop()
	return l
}

func (l *Logger) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = l.Flush()
		case <-l.stop:
			return
		}
	}
}

// Enabled reports whether lines are written at all, so the edge can skip
// filling an Entry.
func (l *Logger) Enabled() bool { return l != nil && l.format != Off }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Log writes one line for e.
func (l *Logger) Log(e *Entry) {
	if !l.Enabled() {
		return
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if l.format == Combined {
		b = AppendCombined(b, e)
	} else {
		b = AppendJSON(b, e)
	}
	l.mu.Lock()
	if _, err := l.bw.Write(b); err != nil && l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	if cap(b) <= 16<<10 {
		*bp = b
		bufPool.Put(bp)
	}
}

// Flush writes out the buffered lines. It returns the first write error
// seen since the previous Flush.
func (l *Logger) Flush() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.bw.Flush()
	if l.err != nil {
		err, l.err = l.err, nil
	}
	if err != nil {
		return fmt.Errorf("flushing access log: %w", err)
	}
	return nil
}

// Close flushes the buffered lines, stops the flushing goroutine and closes
// the file opened by Open. The logger must not be used afterwards.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	select {
	case <-l.stop:
		return nil // already closed
	default:
	}
	close(l.stop)
	<-l.done
	err := l.Flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closer != nil {
		if cerr := l.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing access log: %w", cerr)
		}
	}
	return err
}

// AppendJSON appends e as one JSON line (with its newline) to b.
func AppendJSON(b []byte, e *Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","level":"INFO","msg":"access","request_id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"client_ip":"`...)
	if e.ClientIP.IsValid() {
		b = e.ClientIP.AppendTo(b)
	}
	b = append(b, `","zone":`...)
	b = appendJSONString(b, e.Zone)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, e.Host)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"proto":`...)
	b = appendJSONString(b, e.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendFloat(b, e.Duration.Seconds(), 'f', 6, 64)
	b = append(b, `,"origin":`...)
	b = appendJSONString(b, e.Origin)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, e.UserAgent)
	if e.Cache != "" {
		b = append(b, `,"cache":`...)
		b = appendJSONString(b, e.Cache)
	}
	if e.Block != "" {
		b = append(b, `,"block":`...)
		b = appendJSONString(b, e.Block)
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD; control characters, quotes and backslashes are escaped, and so
// are U+2028 and U+2029 so the line is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendCombined appends e in the Combined Log Format (with its newline):
//
//	192.0.2.1 - - [25/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" 200 1024 "-" "curl/8.5.0"
//
// Quotes, backslashes and control characters inside quoted fields are
// written as \xHH, as nginx does, so a client cannot forge a log line.
func AppendCombined(b []byte, e *Entry) []byte {
	if e.ClientIP.IsValid() {
		b = e.ClientIP.AppendTo(b)
	} else {
		b = append(b, '-')
	}
	b = append(b, " - - ["...)
	b = e.Time.UTC().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `] "`...)
	b = appendCLF(b, e.Method)
	b = append(b, ' ')
	b = appendCLF(b, e.Path)
	b = append(b, ' ')
	b = appendCLF(b, e.Proto)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	if e.Bytes > 0 {
		b = strconv.AppendInt(b, e.Bytes, 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ` "`...)
	if e.Referer == "" {
		b = append(b, '-')
	} else {
		b = appendCLF(b, e.Referer)
	}
	b = append(b, `" "`...)
	if e.UserAgent == "" {
		b = append(b, '-')
	} else {
		b = appendCLF(b, e.UserAgent)
	}
	return append(b, "\"\n"...)
}

func appendCLF(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}
