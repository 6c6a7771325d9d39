package proxy

import (
	"bufio"
	"sync"
)

// An origin connection's buffered reader and writer come from pools and
// are held only while a request head or body is written and while a
// response is read: a connection in the idle pool, or whose request waits
// for the origin's answer, holds no buffer (issue 16: an edge-only node
// under 256 busy connections held 12 KiB per origin connection, most of
// the time waiting). The wait for the answer is the poller's readiness
// wait (syscall.RawConn.Read, connwait_unix.go) after a non-blocking
// peek, which replaces the read that would find nothing and fail with
// EAGAIN.
var (
	connReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}
	connWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}
)

// writer returns c's buffered writer, taken from the pool if c has none.
func (c *originConn) writer() *bufio.Writer {
	if c.bw == nil {
		c.bw = connWriters.Get().(*bufio.Writer)
		c.bw.Reset(c.nc)
	}
	return c.bw
}

// releaseWriter returns c's writer to the pool; what it still buffered is
// dropped (it is called after a flush, or on a connection given up).
func (c *originConn) releaseWriter() {
	if c.bw != nil {
		c.bw.Reset(nil)
		connWriters.Put(c.bw)
		c.bw = nil
	}
}

// reader returns c's buffered reader. When c has none it first waits,
// holding no buffer, until c is readable (the answer, the origin's close,
// or an error: the read that follows reports it, as it would have
// without the wait), then takes one from the pool.
func (c *originConn) reader() *bufio.Reader {
	if c.br != nil {
		return c.br
	}
	if c.rc != nil {
		c.waited = false
		_ = c.rc.Read(c.wait) // errors: the read below fails the same way
	}
	c.br = connReaders.Get().(*bufio.Reader)
	c.br.Reset(c.nc)
	return c.br
}

// releaseReader returns c's reader to the pool when it holds no unread
// bytes (with some, c is not reused and the reader is left to the GC).
func (c *originConn) releaseReader() {
	if c.br != nil && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		connReaders.Put(c.br)
		c.br = nil
	}
}

// buffered returns how many bytes c's reader holds unread.
func (c *originConn) buffered() int {
	if c.br == nil {
		return 0
	}
	return c.br.Buffered()
}
