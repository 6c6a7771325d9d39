//go:build unix

package proxy

import "syscall"

// initWait prepares c's buffer-free wait for readability (reader). A
// connection that is not a syscall.Conn (a test's pipe) takes its reader
// at once.
func (c *originConn) initWait() {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.rc = rc
	// RawConn.Read calls this, and while it returns false waits for
	// readability and calls it again. The first call peeks (non-blocking):
	// bytes, EOF or an error end the wait at once (RawConn.Read clears the
	// poller's readiness before the first call, so bytes that arrived
	// earlier must be looked for); the call after a wake-up ends it (a
	// spurious wake-up is handled by the read that follows).
	c.wait = func(fd uintptr) bool {
		if c.waited {
			return true
		}
		c.waited = true
		_, _, err := syscall.Recvfrom(int(fd), c.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
	}
}
