package config

import (
	"errors"
	"strconv"
	"strings"
)

// Error is one problem in a configuration, located by file, line and field.
//
// Its text has the form "rampart.yaml:12: zones[0].origins[1]: not an
// http(s) URL: ..."; the line is left out when unknown (a config built in
// code) and so is the field when the problem is not tied to one (a YAML
// syntax error).
type Error struct {
	// File is the name the config was parsed under (Config.Path).
	File string
	// Line is the 1-based line in File, or 0 when unknown.
	Line int
	// Field is the field path, such as "zones[0].origins[1]", or "".
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "file:line: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration, in file order. Parse
// and Validate report all the problems they find, not just the first, so
// that one run of "rampart config check" shows everything to fix.
// errors.As(err, &e) with e of type *Error finds the first one.
type Errors []*Error

// Error joins the errors, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// AsErrors returns the located errors in err: the list itself when err is
// an Errors, a one-element list when it wraps an *Error, or nil otherwise.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return nil
}
