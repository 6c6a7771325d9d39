//go:build unix

package proxy

import (
	"syscall"
)

// connAlive reports whether the pooled connection c still looks open: a
// non-blocking peek sees neither EOF nor an error. It guards requests that
// must not be retried (non-idempotent methods) against a connection the
// origin closed while it sat in the pool.
func connAlive(c *originConn) bool {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK:
		case rerr != nil, n == 0:
			alive = false
		default:
			alive = false // unsolicited bytes: the connection is out of sync
		}
		return true
	})
	return err == nil && alive
}
