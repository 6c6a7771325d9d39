package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Source says which side of the proxy a failure came from. It decides the
// status the client gets and whether the failure counts against an origin.
type Source int

const (
	// SourceOrigin is a failure of the origin or of the network path to it:
	// refused or reset connections, timeouts, malformed responses. It maps
	// to 502 (504 for timeouts) and counts toward passive ejection.
	SourceOrigin Source = iota
	// SourceClient is a failure of the client: it went away or stopped
	// reading. Nothing is answered and it is never logged as a 502.
	SourceClient
	// SourceInternal is a failure inside rampart. It maps to 500.
	SourceInternal
)

// String returns "origin", "client" or "internal".
func (s Source) String() string {
	switch s {
	case SourceOrigin:
		return "origin"
	case SourceClient:
		return "client"
	default:
		return "internal"
	}
}

// Error is a proxying failure tagged with its source and the status it maps
// to. Retryable is true only when the request never reached the origin in a
// way that could have had an effect (dial refused, reset before any
// response byte).
type Error struct {
	Source    Source
	Status    int // 502, 504, 500, or 0 for client failures
	Op        string
	Origin    string
	Retryable bool
	Err       error
	// answered is true when the response head was already sent.
	answered bool
}

// Error returns "OP ORIGIN: ERR".
func (e *Error) Error() string {
	if e.Origin == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Origin, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// errNoOrigin is returned when a zone has no usable origin at all.
var errNoOrigin = errors.New("no origin configured")

// originErr tags err as an origin failure of op at origin o.
func originErr(op, origin string, err error, retryable bool) *Error {
	status := http.StatusBadGateway
	if isTimeout(err) {
		status = http.StatusGatewayTimeout
		retryable = false
	}
	return &Error{Source: SourceOrigin, Status: status, Op: op, Origin: origin, Retryable: retryable, Err: err}
}

// clientErr tags err as a client failure.
func clientErr(op string, err error) *Error {
	return &Error{Source: SourceClient, Op: op, Err: err}
}

// isTimeout reports whether err is a timeout (deadline exceeded).
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
