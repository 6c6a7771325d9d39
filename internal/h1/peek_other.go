//go:build !unix

package h1

import "syscall"

// gone cannot peek on this platform: a client that goes away is noticed
// when its connection is next read or written.
func gone(rc syscall.RawConn) bool { return false }
