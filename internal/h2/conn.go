package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rampart-edge/rampart/internal/deadline"
)

const (
	// maxQueuedControlFrames bounds the control frames waiting for the
	// socket (x/net's figure): a client that floods SETTINGS, PING or
	// RST_STREAM-provoking frames and does not read is cut off.
	maxQueuedControlFrames = 10000
	// maxFrameSizeRead is the largest frame the server accepts (its
	// SETTINGS_MAX_FRAME_SIZE stays at the default).
	maxFrameSizeRead = 16 << 10
	// windowUpdateThreshold: bytes a handler has consumed before they are
	// returned to the client's window.
	windowUpdateThreshold = 16 << 10
	// maxWindow is the largest flow-control window (RFC 9113 6.9.1).
	maxWindow = 1<<31 - 1
	// maxSettings bounds the settings in one SETTINGS frame (x/net's).
	maxSettings = 100
	// resetBudget bounds the RST_STREAM frames the client may provoke or
	// send per connection before it is treated as a flood, refilled by
	// each completed response.
	resetBudget = 1000
)

// errClientDisconnected is a handler's write error once the stream or the
// connection has ended.
var errClientDisconnected = errors.New("h2: client disconnected")

// errStreamClosed is a request body's read error once the stream was
// reset.
var errStreamClosed = errors.New("h2: stream closed")

// connError ends the connection with GOAWAY and this code.
type connError struct {
	code   http2.ErrCode
	reason string
}

func (e connError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.code, e.reason)
}

// ctrlFrame is a control frame waiting for the write lock.
type ctrlFrame struct {
	kind     byte // 's' settings ack, 'p' ping ack, 'w' window update, 'r' rst, 'g' goaway, 't' HPACK table size
	streamID uint32
	val      uint32
	code     http2.ErrCode
	data     [8]byte
}

type conn struct {
	srv     *Server
	nc      net.Conn
	br      *bufio.Reader
	fr      *http2.Framer // reading: the reader goroutine only
	remote  string
	tls     *tls.ConnectionState
	baseCtx context.Context
	in      frameBudget
	flushCh chan struct{} // wakes the flusher goroutine

	// Writing, under wmu: the buffer, the framer writing into it, the
	// HPACK encoder (its dynamic table follows the order of the frames).
	wmu     sync.Mutex
	bw      *bufio.Writer
	wfr     *http2.Framer
	enc     *hpack.Encoder
	hbuf    bytes.Buffer
	werr    error     // first write error; every later write fails with it
	ending  bool      // the final GOAWAY is being written: its deadline stays
	wdl     time.Time // the write deadline last set (deadline.Renew)
	writers atomic.Int32
	// abortWrites fails every write: a stream's write deadline passed
	// while it wrote to a socket the client stopped reading.
	abortWrites atomic.Bool

	// Control frames queued by the reader (and by handlers' body reads).
	cmu   sync.Mutex
	ctrl  []ctrlFrame
	ctrlN atomic.Int32

	// Stream state, under mu.
	mu             sync.Mutex
	flowCond       sync.Cond // signalled when a send window grows or a stream ends
	streams        map[uint32]*stream
	maxClientID    uint32
	sendWin        int64 // connection send window
	initialSendWin int64 // the client's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrameSize   int   // the client's SETTINGS_MAX_FRAME_SIZE
	running        int   // handler goroutines running
	waiting        []*stream
	goingAway      bool   // GOAWAY sent: no new streams
	lastID         uint32 // the GOAWAY's last stream id
	closed         bool
	resets         int       // RST_STREAM budget left
	unacked        int       // connection window bytes consumed, not yet returned
	resetIDs       [8]uint32 // streams the server reset lately
	resetNext      uint8
	idleTimer      *time.Timer
	active         bool // ConnState is active

	// inflow is the connection's receive window left (under mu).
	inflow int64
	// done is closed when the connection ends.
	done chan struct{}
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{
		srv:            s,
		nc:             nc,
		streams:        make(map[uint32]*stream),
		sendWin:        65535,
		initialSendWin: 65535,
		maxFrameSize:   16384,
		resets:         resetBudget,
		done:           make(chan struct{}),
		flushCh:        make(chan struct{}, 1),
	}
	c.flowCond.L = &c.mu
	c.in = frameBudget{nc: nc, limit: 4*s.maxHeaderBytes() + 4*maxFrameSizeRead}
	c.br = bufio.NewReaderSize(&c.in, 16<<10)
	c.bw = bufio.NewWriterSize(connWriter{c}, 16<<10)
	c.fr = http2.NewFramer(nil, c.br)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = uint32(s.maxHeaderBytes())
	c.fr.SetMaxReadFrameSize(maxFrameSizeRead)
	c.wfr = http2.NewFramer(c.bw, nil)
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.inflow = int64(s.connWindow())
	return c
}

// errHeaderFlood is the read error once one frame's read takes more bytes
// than any header block may have (a CONTINUATION flood: the Framer's
// header list limit counts decoded fields, and empty fragments have none).
var errHeaderFlood = errors.New("h2: header block too long on the wire")

// frameBudget counts the bytes read from the socket since the reader's
// last frame.
type frameBudget struct {
	nc    net.Conn
	n     int
	limit int
}

func (r *frameBudget) Read(p []byte) (int, error) {
	if r.n > r.limit {
		return 0, errHeaderFlood
	}
	n, err := r.nc.Read(p)
	r.n += n
	return n, err
}

// connWriter writes to the socket with the write deadline renewed.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	c := w.c
	if c.abortWrites.Load() {
		return 0, errDeadline
	}
	d := c.srv.WriteTimeout
	if d <= 0 {
		d = c.srv.idleTimeout()
	}
	if d > 0 && !c.ending {
		deadline.Renew(&c.wdl, time.Now(), d, c.nc.SetWriteDeadline)
	}
	return c.nc.Write(p)
}

func (c *conn) setState(st http.ConnState) {
	if f := c.srv.ConnState; f != nil {
		f(c.nc, st)
	}
}

// serve reads the connection's frames until it ends.
func (c *conn) serve() {
	s := c.srv
	c.setState(http.StateNew)
	defer c.teardown()
	c.remote = c.nc.RemoteAddr().String()
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	base := s.BaseContext
	if base == nil {
		base = context.Background()
	}
	c.baseCtx = context.WithValue(base, http.LocalAddrContextKey, c.nc.LocalAddr())

	if d := s.readHeaderTimeout(); d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
	}
	var preface [len(http2.ClientPreface)]byte
	if _, err := io.ReadFull(c.br, preface[:]); err != nil || string(preface[:]) != http2.ClientPreface {
		return
	}
	c.wmu.Lock()
	settings := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: s.maxStreams()},
		{ID: http2.SettingInitialWindowSize, Val: uint32(s.streamWindow())},
		{ID: http2.SettingMaxHeaderListSize, Val: uint32(s.maxHeaderBytes())},
	}
	c.wfr.WriteSettings(settings...)
	if inc := s.connWindow() - 65535; inc > 0 {
		c.wfr.WriteWindowUpdate(0, uint32(inc))
	}
	err := c.bw.Flush()
	c.wmu.Unlock()
	if err != nil {
		return
	}
	go c.flusher()
	// The client's preface ends with its SETTINGS.
	f, err := c.fr.ReadFrame()
	if err != nil {
		c.handleReadError(err)
		return
	}
	if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
		c.goAway(http2.ErrCodeProtocol, "first frame not SETTINGS")
		return
	} else if err := c.processSettings(sf); err != nil {
		c.handleReadError(err)
		return
	}
	c.nc.SetReadDeadline(time.Time{})
	c.startIdleTimer()

	for {
		if c.br.Buffered() == 0 {
			c.kickAsync()
		}
		f, err := c.fr.ReadFrame()
		c.in.n = 0
		if err == nil {
			err = c.processFrame(f)
		}
		if err != nil {
			if !c.handleReadError(err) {
				return
			}
		}
	}
}

// handleReadError answers an error of reading or processing a frame and
// reports whether the connection goes on.
func (c *conn) handleReadError(err error) bool {
	var se http2.StreamError
	var ce connError
	var fce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		c.resetStream(se.StreamID, se.Code)
		return !c.isClosed()
	case errors.As(err, &ce):
		c.goAway(ce.code, ce.reason)
	case errors.As(err, &fce):
		c.goAway(http2.ErrCode(fce), "frame error")
	case errors.Is(err, http2.ErrFrameTooLarge):
		c.goAway(http2.ErrCodeFrameSize, "frame too large")
	case errors.Is(err, errHeaderFlood):
		c.goAway(http2.ErrCodeEnhanceYourCalm, "header block too long")
	}
	return false
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// goAway sends GOAWAY with code and ends the connection (after a short
// wait for the client to read it, so it is not lost to a reset).
func (c *conn) goAway(code http2.ErrCode, reason string) {
	c.mu.Lock()
	c.goingAway = true
	last := c.maxClientID
	c.mu.Unlock()
	if code != http2.ErrCodeNo {
		c.srv.logf("h2: closing connection", "remote", c.remote, "code", code.String(), "reason", reason)
	}
	// Written directly: the connection is ending; wait a little for a
	// writer holding the lock (one that holds it longer is stuck on a
	// client that does not read, which would not read the GOAWAY either).
	for end := time.Now().Add(250 * time.Millisecond); ; time.Sleep(5 * time.Millisecond) {
		if c.wmu.TryLock() {
			// Queued control frames are dropped: only the GOAWAY
			// matters now, and it gets 250 ms to go out.
			c.cmu.Lock()
			c.ctrl = nil
			c.ctrlN.Store(0)
			c.cmu.Unlock()
			if c.werr == nil {
				c.ending = true
				c.nc.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
				c.wfr.WriteGoAway(last, code, nil)
				c.bw.Flush()
			}
			c.wmu.Unlock()
			break
		}
		if time.Now().After(end) {
			break
		}
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	// Give the client a moment to read the GOAWAY before the close resets
	// the connection (unread data in our receive buffer makes the close
	// an RST).
	c.nc.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(c.br, 1<<20))
}

// teardown ends every stream and closes the socket.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closed = true
	streams := make([]*stream, 0, len(c.streams))
	for _, st := range c.streams {
		streams = append(streams, st)
	}
	waiting := c.waiting
	c.waiting = nil
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	c.flowCond.Broadcast()
	c.mu.Unlock()
	for _, st := range streams {
		st.abort(errClientDisconnected)
	}
	for _, st := range waiting {
		st.abort(errClientDisconnected)
	}
	close(c.done)
	c.nc.Close()
	c.setState(http.StateClosed)
}

// processFrame handles one frame (the reader goroutine).
func (c *conn) processFrame(f http2.Frame) error {
	c.mu.Lock()
	goingAway, last := c.goingAway, c.lastID
	c.mu.Unlock()
	if goingAway && f.Header().StreamID > last {
		// After GOAWAY: new streams are ignored; their DATA still counts
		// against the connection window.
		if df, ok := f.(*http2.DataFrame); ok {
			if !c.takeInflow(int64(df.Length)) {
				return connError{http2.ErrCodeFlowControl, "data beyond the window"}
			}
			c.refundConn(int(df.Length))
		}
		return nil
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		return c.processSettings(f)
	case *http2.MetaHeadersFrame:
		return c.processHeaders(f)
	case *http2.DataFrame:
		return c.processData(f)
	case *http2.WindowUpdateFrame:
		return c.processWindowUpdate(f)
	case *http2.PingFrame:
		if f.StreamID != 0 {
			return connError{http2.ErrCodeProtocol, "PING on a stream"}
		}
		if !f.IsAck() {
			return c.queue(ctrlFrame{kind: 'p', data: f.Data})
		}
		return nil
	case *http2.RSTStreamFrame:
		return c.processReset(f)
	case *http2.PriorityFrame:
		if f.StreamID == f.StreamDep {
			return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol}
		}
		return nil
	case *http2.GoAwayFrame:
		c.startGoAway(http2.ErrCodeNo)
		return nil
	case *http2.PushPromiseFrame:
		return connError{http2.ErrCodeProtocol, "PUSH_PROMISE from a client"}
	}
	return nil // unknown frame types are ignored
}

// state returns the stream of id, whether it is open, and whether id is
// idle (never opened).
func (c *conn) lookup(id uint32) (st *stream, idle bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st = c.streams[id]
	return st, st == nil && id > c.maxClientID
}

func (c *conn) processSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	// Repeated settings are applied in order (RFC 9113 6.5.3).
	if f.NumSettings() > maxSettings {
		return connError{http2.ErrCodeProtocol, "too many settings"}
	}
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingHeaderTableSize:
			// Applied by the next writer, before its header block
			// (the reader never takes the write lock).
			if err := c.queue(ctrlFrame{kind: 't', val: min(s.Val, 4096)}); err != nil {
				return err
			}
		case http2.SettingInitialWindowSize:
			c.mu.Lock()
			delta := int64(s.Val) - c.initialSendWin
			c.initialSendWin = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > maxWindow {
					c.mu.Unlock()
					return connError{http2.ErrCodeFlowControl, "window overflow"}
				}
			}
			c.flowCond.Broadcast()
			c.mu.Unlock()
		case http2.SettingMaxFrameSize:
			c.mu.Lock()
			c.maxFrameSize = int(s.Val)
			c.mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.queue(ctrlFrame{kind: 's'})
}

func (c *conn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.StreamID == 0 {
		c.sendWin += int64(f.Increment)
		if c.sendWin > maxWindow {
			return connError{http2.ErrCodeFlowControl, "connection window overflow"}
		}
		c.flowCond.Broadcast()
		return nil
	}
	st := c.streams[f.StreamID]
	if st == nil {
		if f.StreamID > c.maxClientID {
			return connError{http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream"}
		}
		return nil
	}
	st.sendWin += int64(f.Increment)
	if st.sendWin > maxWindow {
		return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeFlowControl}
	}
	c.flowCond.Broadcast()
	return nil
}

func (c *conn) processReset(f *http2.RSTStreamFrame) error {
	st, idle := c.lookup(f.StreamID)
	if idle {
		return connError{http2.ErrCodeProtocol, "RST_STREAM on an idle stream"}
	}
	if st != nil {
		if err := c.spendReset(); err != nil {
			return err
		}
		c.closeStream(st, errStreamClosed)
	}
	return nil
}

// spendReset takes one from the connection's reset budget.
func (c *conn) spendReset() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resets--
	if c.resets < 0 {
		return connError{http2.ErrCodeEnhanceYourCalm, "too many resets"}
	}
	return nil
}

// resetStream sends RST_STREAM with code and closes the stream if open.
func (c *conn) resetStream(id uint32, code http2.ErrCode) {
	c.mu.Lock()
	st := c.streams[id]
	c.noteReset(id)
	if id%2 == 1 && id > c.maxClientID {
		// A stream the Framer refused before it opened (a malformed
		// header block): it is closed now, and its id used up.
		c.maxClientID = id
	}
	c.mu.Unlock()
	if st != nil {
		st.resetSent.Store(true)
		c.closeStream(st, errStreamClosed)
	}
	if c.queue(ctrlFrame{kind: 'r', streamID: id, code: code}) != nil || c.spendReset() != nil {
		c.goAwayAsync(http2.ErrCodeEnhanceYourCalm)
		return
	}
	c.kickAsync()
}

// goAwayAsync makes the reader end the connection (from any goroutine):
// closing the socket's read side ends its ReadFrame.
func (c *conn) goAwayAsync(code http2.ErrCode) {
	c.queue(ctrlFrame{kind: 'g', code: code})
	c.kickAsync()
	c.nc.SetReadDeadline(time.Now())
}

// startGoAway stops new streams: GOAWAY with the highest stream id seen;
// the connection closes once its streams end.
func (c *conn) startGoAway(code http2.ErrCode) {
	c.mu.Lock()
	if c.goingAway {
		c.mu.Unlock()
		return
	}
	c.goingAway = true
	c.lastID = c.maxClientID
	n := len(c.streams)
	c.mu.Unlock()
	c.queue(ctrlFrame{kind: 'g', streamID: c.lastID, code: code})
	c.kickAsync()
	if n == 0 {
		c.nc.SetReadDeadline(time.Now().Add(time.Second))
	}
}

// closeStream ends st (reset by either side, or the connection ended):
// its context is cancelled, its body fails with err, waiting writers wake.
func (c *conn) closeStream(st *stream, err error) {
	c.mu.Lock()
	if c.streams[st.id] != st {
		c.mu.Unlock()
		return
	}
	c.removeLocked(st)
	c.flowCond.Broadcast()
	c.mu.Unlock()
	st.abort(err)
}

// removeLocked takes st out of the stream table (c.mu held).
func (c *conn) removeLocked(st *stream) {
	delete(c.streams, st.id)
	st.closed.Store(true)
	if len(c.streams) == 0 {
		if c.active {
			c.active = false
			c.setState(http.StateIdle)
		}
		if c.goingAway {
			c.nc.SetReadDeadline(time.Now().Add(time.Second))
		} else if c.idleTimer != nil {
			c.idleTimer.Reset(c.srv.idleTimeout())
		}
	}
}

func (c *conn) startIdleTimer() {
	d := c.srv.idleTimeout()
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.idleTimer = time.AfterFunc(d, func() {
		c.mu.Lock()
		idle := len(c.streams) == 0 && !c.closed
		c.mu.Unlock()
		if idle {
			c.startGoAway(http2.ErrCodeNo)
		}
	})
	c.mu.Unlock()
}

// queue adds a control frame for the next writer; the reader kicks the
// queue before it blocks on the socket.
func (c *conn) queue(f ctrlFrame) error {
	c.cmu.Lock()
	if len(c.ctrl) >= maxQueuedControlFrames {
		c.cmu.Unlock()
		return connError{http2.ErrCodeEnhanceYourCalm, "too many queued control frames"}
	}
	c.ctrl = append(c.ctrl, f)
	c.ctrlN.Add(1)
	c.cmu.Unlock()
	return nil
}

// kickAsync has the queued control frames written without the caller
// waiting (the reader, and anyone who must not block): by the writer in
// the lock if there is one (it writes them before it leaves), else by the
// connection's flusher goroutine.
func (c *conn) kickAsync() {
	if c.ctrlN.Load() == 0 || c.writers.Load() > 0 {
		return
	}
	select {
	case c.flushCh <- struct{}{}:
	default:
	}
}

// flusher writes queued control frames for the reader until the
// connection ends.
func (c *conn) flusher() {
	for {
		select {
		case <-c.flushCh:
			c.kick()
		case <-c.done:
			return
		}
	}
}

// kick writes the queued control frames unless a writer holds the write
// lock (it writes them before it leaves). Never on the reader.
func (c *conn) kick() {
	for c.ctrlN.Load() > 0 && c.wmu.TryLock() {
		c.drainCtrlLocked()
		if c.writers.Load() == 0 {
			c.flushLocked()
		}
		c.wmu.Unlock()
	}
}

// drainCtrlLocked writes the queued control frames (c.wmu held).
func (c *conn) drainCtrlLocked() {
	if c.ctrlN.Load() == 0 {
		return
	}
	c.cmu.Lock()
	q := c.ctrl
	c.ctrl = nil
	c.ctrlN.Store(0)
	c.cmu.Unlock()
	if c.werr != nil {
		return
	}
	for i := range q {
		f := &q[i]
		switch f.kind {
		case 's':
			c.wfr.WriteSettingsAck()
		case 'p':
			c.wfr.WritePing(true, f.data)
		case 'w':
			c.wfr.WriteWindowUpdate(f.streamID, f.val)
		case 'r':
			c.wfr.WriteRSTStream(f.streamID, f.code)
		case 'g':
			c.wfr.WriteGoAway(f.streamID, f.code, nil)
		case 't':
			c.enc.SetMaxDynamicTableSizeLimit(f.val)
		}
	}
	if cap(q) <= 64 {
		c.cmu.Lock()
		if c.ctrl == nil {
			c.ctrl = q[:0]
		}
		c.cmu.Unlock()
	}
}

// flushLocked writes the buffer to the socket (c.wmu held); a failure
// closes the connection.
func (c *conn) flushLocked() error {
	if c.werr != nil {
		return c.werr
	}
	if c.bw.Buffered() == 0 {
		return nil
	}
	if err := c.bw.Flush(); err != nil {
		c.werr = err
		c.nc.Close()
		return err
	}
	return nil
}

// refundConn returns n bytes to the connection's receive window.
func (c *conn) refundConn(n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	c.unacked += n
	var inc int
	if c.unacked >= windowUpdateThreshold {
		inc, c.unacked = c.unacked, 0
		c.inflow += int64(inc)
	}
	c.mu.Unlock()
	if inc > 0 {
		// Written now: a client out of connection window sends nothing
		// that would wake the reader to write it.
		c.queue(ctrlFrame{kind: 'w', val: uint32(inc)})
		c.kickAsync()
	}
}

func (c *conn) takeInflow(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.inflow {
		return false
	}
	c.inflow -= n
	return true
}

var errDeadline = fmt.Errorf("h2: %w", os.ErrDeadlineExceeded)
