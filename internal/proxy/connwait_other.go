//go:build !unix

package proxy

// initWait: elsewhere than on unix a connection takes its reader at once.
func (c *originConn) initWait() {}
