package config

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/token"
)

// fastparse.go decodes the plain subset of YAML that configs are almost
// always written in, about twenty times faster than the general parser
// (an edge with 100,000 zones writes a 13 MB file). The subset: block
// mappings and sequences indented with spaces, one-line flow mappings and
// lists, keys that are plain snake_case words, one-line plain and quoted
// scalars (double-quoted without escapes), comments. Anything else (an
// anchor, a tag, a multi-line scalar, a null, a number where a string is
// wanted, an unknown or repeated key, a wrong type) is not decided here:
// the fast parser gives up and Parse starts over with goccy/go-yaml,
// whose result and messages are the reference. So the fast path never
// reports an error of its own; a config it accepts decodes to the same
// value, and records the same field lines, as the general path
// (FuzzFastParse checks both).

// errNotFast stops the fast parser: the input is outside its subset.
var errNotFast = errors.New("config: outside the fast YAML subset")

type fastParser struct {
	data []byte
	off  int // start of the next line not yet loaded
	next int // number of that line (1-based)

	// The loaded line: number, content [ls, le) without its '\n', the
	// indentation and the cursor (an offset in data).
	loaded bool
	line   int
	ls, le int
	indent int
	pos    int

	src   *source
	names map[nameKey]string // interned paths relative to a zone
}

// fpath is a field path: rel in zones[zone], or rel outside the zones
// when zone is -1. Paths in a zone are interned: 100,000 zones share one
// "rate_limit.per".
type fpath struct {
	zone int
	rel  string
}

type nameKey struct {
	parent, key string
	index       int
}

// child is the path of key under fp.
func (p *fastParser) child(fp fpath, key string) fpath {
	if fp.zone < 0 {
		return fpath{-1, joinPath(fp.rel, key)}
	}
	if fp.rel == "" {
		return fpath{fp.zone, key}
	}
	return fpath{fp.zone, p.intern(nameKey{fp.rel, key, -1})}
}

// elem is the path of element i of the list at fp.
func (p *fastParser) elem(fp fpath, i int) fpath {
	switch {
	case fp.zone >= 0:
		return fpath{fp.zone, p.intern(nameKey{fp.rel, "", i})}
	case fp.rel == "zones":
		return fpath{i, ""}
	}
	return fpath{-1, fp.rel + "[" + strconv.Itoa(i) + "]"}
}

func (p *fastParser) intern(k nameKey) string {
	if s, ok := p.names[k]; ok {
		return s
	}
	s := k.parent + "[" + strconv.Itoa(k.index) + "]"
	if k.index < 0 {
		s = k.parent + "." + k.key
	}
	p.names[k] = s
	return s
}

// record notes that the file sets fp on the loaded line.
func (p *fastParser) record(fp fpath) {
	if fp.zone >= 0 {
		p.src.recordZone(fp.zone, fp.rel, p.line)
	} else {
		p.src.lines[fp.rel] = p.line
	}
	p.visit()
}

// parseFast decodes data into a Config and the field lines of its
// source, or reports false when data is outside the fast subset.
func parseFast(name string, data []byte) (c *Config, src *source, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errNotFast { //nolint:errorlint // sentinel panic value
				panic(r)
			}
			c, src, ok = nil, nil, false
		}
	}()
	src = newSource(name)
	src.maxVisits = nodeBudget(len(data))
	// About one field path per 12 bytes of a config of many zones.
	src.zoneLines = make([]fieldLine, 0, len(data)/12)
	p := &fastParser{data: data, next: 1, src: src, names: map[nameKey]string{}}
	if !p.load() || p.indent != 0 {
		return nil, nil, false // empty, or not a mapping at the top
	}
	c = &Config{}
	p.visit()
	p.mapping(reflect.ValueOf(c).Elem(), fpath{-1, ""}, 0, false)
	if p.load() {
		p.bail()
	}
	return c, src, true
}

func (p *fastParser) bail() { panic(errNotFast) }

// visit counts one node against the budget the general path enforces.
func (p *fastParser) visit() {
	p.src.visits++
	if p.src.visits > p.src.maxVisits {
		p.bail()
	}
}

// load makes the next line with content the loaded one, skipping blank
// and comment lines; it reports false at the end of the data.
func (p *fastParser) load() bool {
	if p.loaded {
		return true
	}
	for p.off < len(p.data) {
		ls := p.off
		le := ls
		for le < len(p.data) && p.data[le] != '\n' {
			switch p.data[le] {
			case '\t', '\r':
				p.bail()
			}
			le++
		}
		p.off = le + 1
		p.line = p.next
		p.next++
		i := ls
		for i < le && p.data[i] == ' ' {
			i++
		}
		if i == le || p.data[i] == '#' {
			continue
		}
		if i == ls && le-ls >= 3 {
			if s := string(p.data[ls : ls+3]); s == "---" || s == "..." {
				p.bail() // document markers
			}
		}
		p.loaded, p.ls, p.le, p.indent, p.pos = true, ls, le, i-ls, i
		return true
	}
	return false
}

// skipSpaces moves the cursor over spaces.
func (p *fastParser) skipSpaces() {
	for p.pos < p.le && p.data[p.pos] == ' ' {
		p.pos++
	}
}

// atEnd reports whether only a comment, if anything, is left on the line.
func (p *fastParser) atEnd() bool {
	return p.pos == p.le || p.data[p.pos] == '#'
}

// endLine requires that nothing but spaces and a comment follows the
// cursor, and marks the line used.
func (p *fastParser) endLine() {
	start := p.pos
	p.skipSpaces()
	if p.pos < p.le && (p.data[p.pos] != '#' || p.pos == start) {
		p.bail()
	}
	p.loaded = false
}

// dash reports whether the cursor is at a block sequence entry ("- ").
func (p *fastParser) dash() bool {
	return p.data[p.pos] == '-' && (p.pos+1 == p.le || p.data[p.pos+1] == ' ')
}

// keyEnd returns the end of a plain snake_case key at the cursor followed
// by ':' and a space (or the line's end when block is set), or -1.
func (p *fastParser) keyEnd(block bool) int {
	i := p.pos
	for i < p.le {
		c := p.data[i]
		if c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' && i > p.pos {
			i++
			continue
		}
		break
	}
	if i == p.pos || i == p.le || p.data[i] != ':' {
		return -1
	}
	if i+1 < p.le && p.data[i+1] == ' ' || block && i+1 == p.le {
		return i
	}
	return -1
}

// fastField is a field of a struct decoded by the fast parser.
type fastField struct {
	name  string
	index int
}

var fastFieldCache sync.Map // reflect.Type → map[string]fastField

func fastFields(t reflect.Type) map[string]fastField {
	if m, ok := fastFieldCache.Load(t); ok {
		return m.(map[string]fastField)
	}
	m := map[string]fastField{}
	for i := 0; i < t.NumField(); i++ {
		if name, ok := yamlName(t.Field(i)); ok {
			m[name] = fastField{name: name, index: i}
		}
	}
	fastFieldCache.Store(t, m)
	return m
}

// settle allocates the value a pointer points to and returns it.
func settle(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Pointer {
		n := reflect.New(v.Type().Elem())
		v.Set(n)
		return n.Elem()
	}
	return v
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping decodes a block mapping whose keys are at indent into the
// struct v. With inline set, its first key is at the cursor of the loaded
// line (after a sequence's "- ").
func (p *fastParser) mapping(v reflect.Value, fp fpath, indent int, inline bool) {
	v = settle(v)
	if v.Kind() != reflect.Struct || v.NumField() > 64 {
		p.bail()
	}
	fields := fastFields(v.Type())
	var seen uint64
	for first := true; ; first = false {
		if !first || !inline {
			if !p.load() || p.indent < indent {
				return
			}
			if p.indent > indent {
				p.bail()
			}
		}
		end := p.keyEnd(true)
		if end < 0 {
			p.bail()
		}
		f, ok := fields[string(p.data[p.pos:end])]
		if !ok || seen&(1<<f.index) != 0 {
			p.bail()
		}
		seen |= 1 << f.index
		kpath := p.child(fp, f.name)
		p.record(kpath)
		p.pos = end + 1
		p.skipSpaces()
		if p.atEnd() {
			p.loaded = false
			p.block(v.Field(f.index), kpath, indent)
			continue
		}
		p.inline(v.Field(f.index), kpath)
	}
}

// block decodes the value of a key whose line ends after its colon: a
// mapping or sequence indented below it, or a sequence at its indent.
func (p *fastParser) block(v reflect.Value, fp fpath, keyIndent int) {
	if !p.load() || p.indent < keyIndent {
		p.bail() // null
	}
	if p.dash() {
		p.sequence(v, fp, p.indent)
		return
	}
	if p.indent == keyIndent {
		p.bail() // null, then the next key
	}
	p.mapping(v, fp, p.indent, false)
}

// sequence decodes a block sequence whose "- " are at indent into the
// slice v.
func (p *fastParser) sequence(v reflect.Value, fp fpath, indent int) {
	t := v.Type()
	if t.Kind() != reflect.Slice {
		p.bail()
	}
	size := 1
	if fp.zone < 0 && fp.rel == "zones" {
		// The zones are most of a large file: one allocation for all,
		// sized by the entries at their indent (of any list), and at
		// most one per 32 bytes (a zone takes more).
		size = bytes.Count(p.data, []byte("\n"+strings.Repeat(" ", indent)+"- ")) + 1
		size = min(size, len(p.data)/32+1)
	}
	v.Set(reflect.MakeSlice(t, 0, size))
	for i := 0; ; i++ {
		if !p.load() || p.indent < indent || !p.dash() {
			break
		}
		if p.indent > indent {
			p.bail()
		}
		epath := p.elem(fp, i)
		p.record(epath)
		p.pos++
		p.skipSpaces()
		if p.atEnd() || p.dash() {
			p.bail() // a node on the next lines, or a nested "- "
		}
		ev := grow(v)
		if p.keyEnd(true) >= 0 {
			p.mapping(ev, epath, p.pos-p.ls, true)
			continue
		}
		p.inline(ev, epath)
	}
}

// grow appends a zero element to the slice v and returns it.
func grow(v reflect.Value) reflect.Value {
	n := v.Len()
	if n < v.Cap() {
		v.SetLen(n + 1) // the spare capacity of a new slice is zero
	} else {
		v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
	}
	return v.Index(n)
}

// inline decodes the value at the cursor, which ends the loaded line.
func (p *fastParser) inline(v reflect.Value, fp fpath) {
	switch p.data[p.pos] {
	case '{', '[':
		p.flow(v, fp)
		p.endLine()
	case '"', '\'':
		s := p.quoted()
		p.endLine()
		p.scalar(v, s, true)
	default:
		start := p.pos
		end := start
		for p.pos < p.le {
			c := p.data[p.pos]
			if c == '#' {
				if p.data[p.pos-1] == ' ' {
					break // a comment
				}
				p.bail()
			}
			if c == ':' && (p.pos+1 == p.le || p.data[p.pos+1] == ' ') {
				p.bail() // a mapping where a scalar was expected
			}
			if !plainByte(p.data, p.pos, start, false) {
				p.bail()
			}
			p.pos++
			if c != ' ' {
				end = p.pos
			}
		}
		s := string(p.data[start:end])
		p.loaded = false
		p.scalar(v, s, false)
	}
}

// plainByte reports whether data[i] may be in a plain scalar of the
// subset that starts at start, in a flow collection when flow is set.
func plainByte(data []byte, i, start int, flow bool) bool {
	c := data[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '/':
		return true
	case i == start:
		// "-1", "./dir", "../dir"; not "- ", ".inf", "-foo"
		next := byte(0)
		if i+1 < len(data) {
			next = data[i+1]
		}
		return c == '-' && next >= '0' && next <= '9' || c == '.' && (next == '/' || next == '.')
	case c >= 0x80:
		return true // checked by wordRunes
	case c < ' ' || c == 0x7f:
		return false
	}
	switch c {
	case '"', '\'', '\\', '`', '#':
		return false
	case '{', '}', '[', ']', ',':
		return !flow
	}
	return true
}

// quoted reads a one-line quoted scalar at the cursor.
func (p *fastParser) quoted() string {
	q := p.data[p.pos]
	p.pos++
	start := p.pos
	var buf []byte // single-quoted with a '' in it
	for ; p.pos < p.le; p.pos++ {
		c := p.data[p.pos]
		if c < ' ' || c == 0x7f || c == '\\' && q == '"' {
			p.bail()
		}
		if c != q {
			continue
		}
		if q == '\'' && p.pos+1 < p.le && p.data[p.pos+1] == '\'' {
			buf = append(buf, p.data[start:p.pos+1]...)
			p.pos++
			start = p.pos + 1
			continue
		}
		var s string
		if buf != nil {
			s = string(append(buf, p.data[start:p.pos]...))
		} else {
			s = string(p.data[start:p.pos])
		}
		p.pos++
		return s
	}
	p.bail() // not closed on this line
	return ""
}

// flow decodes a one-line flow mapping or list at the cursor.
func (p *fastParser) flow(v reflect.Value, fp fpath) {
	v = settle(v)
	open := p.data[p.pos]
	p.pos++
	p.skipSpaces()
	if open == '{' {
		if v.Kind() != reflect.Struct || v.NumField() > 64 {
			p.bail()
		}
		fields := fastFields(v.Type())
		var seen uint64
		if p.pos < p.le && p.data[p.pos] == '}' {
			p.pos++
			return
		}
		for {
			end := p.keyEnd(false)
			if end < 0 {
				p.bail()
			}
			f, ok := fields[string(p.data[p.pos:end])]
			if !ok || seen&(1<<f.index) != 0 {
				p.bail()
			}
			seen |= 1 << f.index
			kpath := p.child(fp, f.name)
			p.record(kpath)
			p.pos = end + 1
			p.skipSpaces()
			p.flowValue(v.Field(f.index), kpath)
			if p.flowNext('}') {
				return
			}
		}
	}
	if v.Kind() != reflect.Slice {
		p.bail()
	}
	v.Set(reflect.MakeSlice(v.Type(), 0, 1))
	if p.pos < p.le && p.data[p.pos] == ']' {
		p.pos++
		return
	}
	for i := 0; ; i++ {
		epath := p.elem(fp, i)
		p.record(epath)
		p.flowValue(grow(v), epath)
		if p.flowNext(']') {
			return
		}
	}
}

// flowNext moves past the ", " after a flow entry and reports false, or
// past the closing bracket and reports true.
func (p *fastParser) flowNext(closing byte) bool {
	p.skipSpaces()
	if p.pos == p.le {
		p.bail() // continued on the next line
	}
	switch p.data[p.pos] {
	case closing:
		p.pos++
		return true
	case ',':
		p.pos++
		p.skipSpaces()
		if p.pos == p.le || p.data[p.pos] == closing || p.data[p.pos] == ',' {
			p.bail()
		}
		return false
	}
	p.bail()
	return false
}

// flowValue decodes the value of a flow entry at the cursor.
func (p *fastParser) flowValue(v reflect.Value, fp fpath) {
	if p.pos == p.le {
		p.bail()
	}
	switch p.data[p.pos] {
	case '{', '[':
		p.flow(v, fp)
		return
	case '"', '\'':
		p.scalar(v, p.quoted(), true)
		return
	}
	start := p.pos
	end := start
	for p.pos < p.le {
		c := p.data[p.pos]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if c == ':' {
			if p.pos+1 == p.le {
				p.bail()
			}
			switch p.data[p.pos+1] {
			case ' ', ',', ']', '}':
				p.bail()
			}
		}
		if !plainByte(p.data, p.pos, start, true) {
			p.bail()
		}
		p.pos++
		if c != ' ' {
			end = p.pos
		}
	}
	p.scalar(v, string(p.data[start:end]), false)
}

// scalar decodes the scalar s into v, which it must fit without
// conversion.
func (p *fastParser) scalar(v reflect.Value, s string, quoted bool) {
	if !wordRunes(s) {
		p.bail()
	}
	v = settle(v)
	if v.Type() == durationType {
		if !quoted && !plainString(s) {
			p.bail()
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			p.bail()
		}
		v.SetInt(int64(d))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if !quoted && !plainString(s) {
			p.bail()
		}
		v.SetString(s)
		return
	case reflect.Bool:
		if !quoted && (s == "true" || s == "false") {
			v.SetBool(s == "true")
			return
		}
	case reflect.Int, reflect.Int64:
		if !quoted && decimal(s, false) {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				v.SetInt(n)
				return
			}
		}
	case reflect.Float64:
		if !quoted && decimal(s, true) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				v.SetFloat(f)
				return
			}
		}
	}
	p.bail()
}

// plainString reports whether the plain scalar s is a string to the YAML
// library: not null, a boolean, infinity or a number.
func plainString(s string) bool {
	switch s {
	case "", "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE":
		return false
	}
	if c := s[0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' {
		// No number, infinity or NaN starts with a letter or a slash.
		return true
	}
	return token.ToNumber(s) == nil
}

// decimal reports whether s is a short decimal integer without leading
// zeros (or, with frac, also such an integer with a fractional part),
// which the YAML library reads as the same number strconv does.
func decimal(s string, frac bool) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return false
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if c == '0' && digits == 0 && !dot && i+1 < len(s) && s[i+1] != '.' {
				return false // a leading zero: octal to the YAML library
			}
			digits++
		case c == '.' && frac && !dot && digits > 0 && i+1 < len(s):
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// wordRunes reports whether s is ASCII, or valid UTF-8 whose other
// characters are letters, marks and digits (no YAML line breaks, byte
// order marks or other invisible characters).
func wordRunes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			for _, r := range s[i:] {
				if r >= 0x80 && (r == utf8.RuneError || !unicode.In(r, unicode.L, unicode.M, unicode.N)) {
					return false
				}
			}
			return true
		}
	}
	return true
}
