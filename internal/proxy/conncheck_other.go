//go:build !unix

package proxy

// connAlive cannot peek on this platform and trusts the pooled connection.
func connAlive(c *originConn) bool { return true }
