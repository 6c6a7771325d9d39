//go:build unix

package h1

import "syscall"

// gone reports whether the peer of the socket under rc has closed its side
// or reset the connection: a non-blocking MSG_PEEK sees EOF or an error.
// Bytes waiting to be read (a pipelined request) do not count as gone. It
// uses Control, not Read, so it neither waits nor trips over a read
// deadline.
func gone(rc syscall.RawConn) bool {
	g := false
	var b [1]byte
	err := rc.Control(func(fd uintptr) {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR:
		case rerr != nil, n == 0:
			g = true
		}
	})
	return err == nil && g
}
