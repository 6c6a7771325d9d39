package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxFileSize bounds the size of a config file (16 MiB); larger files are
// refused before they are parsed.
const MaxFileSize = 16 << 20

// Load reads the config file at path and parses it with Parse under that
// name, so errors and Config.Path name the file as given.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if fi.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory, not a config file"}
	}
	if fi.Size() > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is %d bytes, more than the %d allowed", fi.Size(), MaxFileSize)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes a YAML config strictly, fills in defaults for every field
// the file leaves out, and validates the result. name is used in error
// messages and becomes Config.Path; relative file paths written in the
// config (tls certificates and ca_root, compliance lists, log path,
// data_dir) are resolved against name's directory, so a config behaves the
// same whatever the working directory. Defaults are not paths written in
// the file: without data_dir, data goes to ./rampart-data in the working
// directory.
//
// Strict means unknown keys, values of the wrong type, durations without
// a valid unit ("5x", "30") and duplicate keys are errors. Problems are
// returned together as Errors, one per line in file order, each naming
// file, line and field: a YAML syntax error stops parsing at the first
// one; otherwise every unknown key, wrong type and bad duration is
// reported, and so is every problem Validate finds in the other values.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, true)
}

// parse is Parse; fast false skips the fast path (parseFast), for tests
// that compare the two.
func parse(name string, data []byte, fast bool) (cfg *Config, err error) {
	defer func() {
		// The YAML library is third-party code fed with untrusted bytes:
		// a panic in it must become an error, not take the process down.
		if r := recover(); r != nil {
			cfg, err = nil, &Error{File: name, Msg: fmt.Sprintf("parsing YAML: internal parser failure: %v", r)}
		}
	}()
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("config is %d bytes, more than the %d allowed", len(data), MaxFileSize)}
	}
	// Some editors start UTF-8 files with a byte order mark; it is not
	// part of the first key.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// YAML treats CRLF as a line break, but the parser counts a comment
	// line ending in CRLF as two lines; LF keeps error lines right.
	if bytes.Contains(data, []byte("\r\n")) {
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	}
	var c *Config
	var src *source
	var shapeErrs Errors
	ok := false
	if fast {
		c, src, ok = parseFast(name, data)
	}
	if !ok {
		c, src, shapeErrs, err = parseGeneral(name, data)
		if err != nil {
			return nil, err
		}
	}
	c.Path = name
	c.src = src
	c.applyDefaults(src)
	c.resolvePaths(filepath.Dir(name), src)
	for i := range c.Zones {
		if l, ok := src.zoneLookup(i, ""); ok {
			c.Zones[i].Line = l
		} else {
			c.Zones[i].Line = src.line(zonePath(i))
		}
	}
	err = c.Validate()
	if len(shapeErrs) == 0 {
		if err != nil {
			return nil, err
		}
		// The field positions served the errors above; a running node
		// does not keep them (about 1.5 KiB per zone).
		c.src = nil
		return c, nil
	}
	// A value that failed its shape check was decoded as null; drop what
	// validation says about it, which would only repeat the problem.
	all := shapeErrs
	for _, e := range AsErrors(err) {
		if !underAny(e.Field, shapeErrs) {
			all = append(all, e)
		}
	}
	return nil, sortErrors(all)
}

// parseGeneral decodes data with goccy/go-yaml, the general path: its
// shape check first (unknown keys, wrong types, bad durations, alias
// bombs, as shapeErrs), then the decoder. err is an error that stops the
// parse (a syntax error, two documents, a decoder error).
func parseGeneral(name string, data []byte) (c *Config, src *source, shapeErrs Errors, err error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, nil, Errors{yamlError(name, err, nil)}
	}
	src = newSource(name)
	src.maxVisits = nodeBudget(len(data))
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, nil, nil, &Error{File: name, Line: tokenLine(doc.Body.GetToken()), Msg: "more than one YAML document: a config is one document"}
		}
		body = doc.Body
	}
	c = &Config{}
	if _, ok := body.(*ast.CommentGroupNode); ok {
		body = nil
	}
	if body != nil && !src.walk(body, "", reflect.TypeFor[Config]()) {
		body = nil
	}
	shapeErrs = src.errs
	if body != nil {
		// The parser already rejects a key written twice in one mapping;
		// allowing duplicates here lets a key written next to
		// "<<: *anchor" override the merged one.
		if err := yaml.NodeToValue(body, c, yaml.Strict(), yaml.AllowDuplicateMapKey()); err != nil {
			return nil, nil, nil, sortErrors(append(shapeErrs, yamlError(name, err, src)))
		}
	}
	return c, src, shapeErrs, nil
}

// underAny reports whether field is the field of one of es or lies below it.
func underAny(field string, es Errors) bool {
	for _, e := range es {
		f := e.Field
		if field == f || f == "" || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			return true
		}
	}
	return false
}

// yamlError turns an error of the YAML library into an *Error with the
// line, and the field path when src knows the token's position.
func yamlError(name string, err error, src *source) *Error {
	var ye interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &ye) {
		e := &Error{File: name, Msg: ye.GetMessage()}
		if t := ye.GetToken(); t != nil {
			e.Line = t.Position.Line
			if src != nil {
				e.Field = src.byPos[[2]int{t.Position.Line, t.Position.Column}]
			}
		}
		return e
	}
	return &Error{File: name, Msg: fmt.Sprintf("decoding YAML: %v", err)}
}

func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// resolvePaths makes relative file paths written in the file relative to
// dir, the config file's directory. Paths from defaults stay as they are.
func (c *Config) resolvePaths(dir string, src *source) {
	if dir == "." || dir == "" {
		return
	}
	fix := func(path string, p *string) {
		if *p != "" && src.set(path) && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	fix("data_dir", &c.DataDir)
	fix("log.path", &c.Log.Path)
	fix("tls.acme.ca_root", &c.TLS.ACME.CARoot)
	for i := range c.TLS.Certificates {
		fix(fmt.Sprintf("tls.certificates[%d].cert", i), &c.TLS.Certificates[i].Cert)
		fix(fmt.Sprintf("tls.certificates[%d].key", i), &c.TLS.Certificates[i].Key)
	}
	for i := range c.Compliance.Lists {
		fix(fmt.Sprintf("compliance.lists[%d]", i), &c.Compliance.Lists[i])
	}
}

func zonePath(i int) string { return fmt.Sprintf("zones[%d]", i) }
