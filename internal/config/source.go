package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// maxNodes bounds how many YAML nodes one config may expand to, counting
// every visit through an alias. It stops alias bombs ("billion laughs")
// before the decoder expands them. A larger file may expand to one node
// per bytesPerNode of it: an edge with 100,000 zones writes about 12
// nodes in 150 bytes per zone, while a bomb multiplies its nodes far
// beyond its bytes through aliases.
const (
	maxNodes     = 200_000
	bytesPerNode = 8
)

// source maps field paths of one parsed file to lines, and checks the
// document's shape against the Config type before it is decoded, so that
// unknown keys, wrong types and bad durations come out with their field
// path and line.
type source struct {
	name  string
	lines map[string]int // field path outside zones[i] → line where it is set
	// zoneLines holds the lines of the zones' fields, by zone and by path
	// relative to the zone ("" for the zone itself, "host",
	// "rate_limit.per", "origins[0]"): a config of 100,000 zones has a
	// million of them, which a map of full paths holds in 100 MB.
	zoneLines []fieldLine
	unsorted  bool              // zoneLines is not in zone order
	byPos     map[[2]int]string // token line and column → field path
	anchors   map[string]ast.Node
	// expanding holds the anchors being walked, to catch self-reference.
	expanding map[string]bool
	visits    int
	maxVisits int // maxNodes, or more for a large file (nodeBudget)
	errs      Errors
}

// fieldLine is where a field of zone number zone is set.
type fieldLine struct {
	zone, line int32
	path       string // relative to the zone
}

// nodeBudget is the node visits allowed for a file of size bytes.
func nodeBudget(size int) int { return max(maxNodes, size/bytesPerNode) }

func newSource(name string) *source {
	return &source{
		name:      name,
		lines:     map[string]int{},
		byPos:     map[[2]int]string{},
		anchors:   map[string]ast.Node{},
		expanding: map[string]bool{},
		maxVisits: maxNodes,
	}
}

func (s *source) errorf(line int, field, format string, args ...any) {
	s.errs = append(s.errs, &Error{File: s.name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// splitZone splits "zones[12].rate_limit.per" into 12 and
// "rate_limit.per" ("zones[12]" into 12 and ""); ok is false for a path
// outside the zones.
func splitZone(path string) (zone int, rel string, ok bool) {
	rest, found := strings.CutPrefix(path, "zones[")
	if !found {
		return 0, "", false
	}
	n := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == ']' && i > 0 {
			rel = rest[i+1:]
			if rel == "" {
				return n, "", true
			}
			if rel[0] != '.' || n > math.MaxInt32 {
				return 0, "", false
			}
			return n, rel[1:], true
		}
		if c < '0' || c > '9' || i >= 10 {
			return 0, "", false
		}
		n = n*10 + int(c-'0')
	}
	return 0, "", false
}

// lookup returns the line of path and whether the file sets it.
func (s *source) lookup(path string) (int, bool) {
	if zone, rel, ok := splitZone(path); ok {
		return s.zoneLookup(zone, rel)
	}
	l, ok := s.lines[path]
	return l, ok
}

// zoneLookup returns the line of zone's field rel and whether the file
// sets it.
func (s *source) zoneLookup(zone int, rel string) (int, bool) {
	return s.zoneFields(zone).lookup(rel)
}

// zoneFields returns the records of zone's fields.
func (s *source) zoneFields(zone int) fieldLines {
	if s == nil {
		return nil
	}
	if s.unsorted {
		sort.SliceStable(s.zoneLines, func(i, j int) bool { return s.zoneLines[i].zone < s.zoneLines[j].zone })
		s.unsorted = false
	}
	fl := s.zoneLines
	i := sort.Search(len(fl), func(i int) bool { return int(fl[i].zone) >= zone })
	j := i
	for j < len(fl) && int(fl[j].zone) == zone {
		j++
	}
	return fl[i:j]
}

// fieldLines are the records of one zone's fields.
type fieldLines []fieldLine

// lookup returns the line of field rel and whether it is set. As with
// the map of the other paths, the last record with a line wins.
func (fl fieldLines) lookup(rel string) (int, bool) {
	line, found := 0, false
	for _, f := range fl {
		if f.path == rel && (!found || f.line > 0) {
			line, found = int(f.line), true
		}
	}
	return line, found
}

// set reports whether the file sets the field path (even to null or zero).
func (s *source) set(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.lookup(path)
	return ok
}

// line returns the line of path, or of its nearest parent that has one.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for {
		if l, ok := s.lookup(path); ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return 0
		}
		path = path[:i]
	}
}

func tokenLine(t *token.Token) int {
	if t == nil {
		return 0
	}
	return t.Position.Line
}

func (s *source) record(path string, line int, t *token.Token) {
	if zone, rel, ok := splitZone(path); ok {
		s.recordZone(zone, rel, line)
	} else if _, ok := s.lines[path]; !ok || line > 0 {
		s.lines[path] = line
	}
	if t != nil {
		s.byPos[[2]int{t.Position.Line, t.Position.Column}] = path
	}
}

// recordZone records the line of field rel of zone number zone.
func (s *source) recordZone(zone int, rel string, line int) {
	if n := len(s.zoneLines); n > 0 && int(s.zoneLines[n-1].zone) > zone {
		s.unsorted = true
	}
	s.zoneLines = append(s.zoneLines, fieldLine{zone: int32(zone), line: int32(line), path: rel})
}

var durationType = reflect.TypeFor[time.Duration]()

// nullFor returns a null node at n's position, to stand in for a value
// that failed its check so that decoding and validation can go on.
func nullFor(n ast.Node) ast.Node {
	pos := &token.Position{}
	if t := n.GetToken(); t != nil && t.Position != nil {
		p := *t.Position
		pos = &p
	}
	return ast.Null(token.New("null", "null", pos))
}

// emptyFor returns an empty value of type t's YAML kind at n's position:
// an empty mapping for a struct, an empty list for a slice, else null.
func emptyFor(n ast.Node, t reflect.Type) ast.Node {
	null := nullFor(n)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == durationType {
		return null
	}
	pos := null.GetToken().Position
	switch t.Kind() {
	case reflect.Struct:
		return ast.Mapping(token.New("{", "{", pos), true)
	case reflect.Slice:
		return ast.Sequence(token.New("[", "[", pos), true)
	}
	return null
}

// walk checks node n against type t (nil when unknown) at field path. It
// reports false when n itself is unusable (wrong kind, bad duration, alias
// loop); the caller then replaces it with null, so the rest of the
// document can still be decoded and validated. Unusable children are
// replaced here, and unknown keys removed.
func (s *source) walk(n ast.Node, path string, t reflect.Type) bool {
	s.visits++
	if s.visits > s.maxVisits {
		if s.visits == s.maxVisits+1 {
			s.errorf(tokenLine(n.GetToken()), path, "document expands to more than %d nodes (alias loop or bomb?)", s.maxVisits)
		}
		return false
	}
	line := tokenLine(n.GetToken())
	switch v := n.(type) {
	case *ast.TagNode:
		if v.Value == nil {
			return true
		}
		return s.walk(v.Value, path, t)
	case *ast.AnchorNode:
		name := ""
		if v.Name != nil {
			name = v.Name.GetToken().Value
			s.anchors[name] = v.Value
		}
		if v.Value != nil {
			s.expanding[name] = true
			if !s.walk(v.Value, path, t) {
				// The decoder rejects an anchored null where a mapping
				// or list is expected, so stand in an empty one.
				v.Value = emptyFor(v.Value, t)
				s.anchors[name] = v.Value
			}
			delete(s.expanding, name)
		}
		return true
	case *ast.AliasNode:
		if v.Value == nil {
			return true
		}
		name := v.Value.GetToken().Value
		if s.expanding[name] {
			s.errorf(line, path, "alias *%s refers to itself", name)
			return false
		}
		target, ok := s.anchors[name]
		if !ok {
			s.errorf(line, path, "alias *%s has no anchor &%s before it", name, name)
			return false
		}
		if target == nil {
			return true
		}
		s.expanding[name] = true
		defer delete(s.expanding, name)
		return s.walk(target, path, t)
	case *ast.NullNode:
		return true
	}
	if t == nil {
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		if str, ok := scalarString(n); ok {
			if _, err := time.ParseDuration(str); err != nil {
				s.errorf(line, path, "not a duration: %q (write a number with a unit: 500ms, 5s, 1m, 2h)", str)
				return false
			}
			return true
		}
		if _, ok := n.(*ast.IntegerNode); ok {
			s.errorf(line, path, "not a duration: %s has no unit (write 500ms, 5s, 1m, 2h)", n.GetToken().Value)
			return false
		}
		s.errorf(line, path, "want a duration such as 5s, got %s", describe(n))
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := n.(ast.MapNode)
		if !ok {
			s.errorf(line, path, "want a mapping (key: value), got %s", describe(n))
			return false
		}
		return s.walkMap(m, path, t)
	case reflect.Slice:
		a, ok := n.(*ast.SequenceNode)
		if !ok {
			s.errorf(line, path, "want a list, got %s", describe(n))
			return false
		}
		for i, el := range a.Values {
			p := path + "[" + strconv.Itoa(i) + "]"
			if el == nil {
				continue
			}
			s.record(p, tokenLine(el.GetToken()), el.GetToken())
			if !s.walk(el, p, t.Elem()) {
				a.Values[i] = nullFor(el)
			}
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		default:
			s.errorf(line, path, "want a string, got %s", describe(n))
			return false
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			s.errorf(line, path, "want true or false, got %s", describe(n))
			return false
		}
	case reflect.Int, reflect.Int64:
		iv, ok := n.(*ast.IntegerNode)
		if !ok {
			s.errorf(line, path, "want an integer, got %s", describe(n))
			return false
		}
		if x, ok := iv.Value.(uint64); ok && x > math.MaxInt64 {
			s.errorf(line, path, "integer %s is too large", iv.GetToken().Value)
			return false
		}
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		default:
			s.errorf(line, path, "want a number, got %s", describe(n))
			return false
		}
	}
	return true
}

// walkMap checks the entries of a mapping for struct type t, dropping
// unknown keys. It reports false when the mapping as a whole is unusable.
func (s *source) walkMap(m ast.MapNode, path string, t reflect.Type) bool {
	fields := yamlFields(t)
	switch mm := m.(type) {
	case *ast.MappingNode:
		kept := mm.Values[:0]
		for _, mv := range mm.Values {
			if mv != nil && s.walkEntry(mv, path, t, fields) {
				kept = append(kept, mv)
			}
		}
		mm.Values = kept
		return true
	case *ast.MappingValueNode:
		return s.walkEntry(mm, path, t, fields)
	}
	s.errorf(tokenLine(m.(ast.Node).GetToken()), path, "unsupported kind of mapping")
	return false
}

// walkEntry checks one "key: value" of a mapping for struct type t. It
// reports false when the entry must be dropped (an unknown key).
func (s *source) walkEntry(mv *ast.MappingValueNode, path string, t reflect.Type, fields map[string]reflect.Type) bool {
	k := mv.Key
	if k == nil {
		return false
	}
	kt := k.GetToken()
	if _, ok := k.(*ast.MergeKeyNode); ok {
		// "<<: *anchor" merges another mapping's keys in; explicit keys
		// of this mapping win.
		return mv.Value == nil || s.walk(mv.Value, path, t)
	}
	name := keyName(k)
	p := name
	if path != "" {
		p = path + "." + name
	}
	s.record(p, tokenLine(kt), kt)
	ft, ok := fields[name]
	if !ok {
		if near := nearest(name, fieldNames(t)); near != "" {
			s.errorf(tokenLine(kt), p, "unknown key; did you mean %q?", near)
		} else {
			s.errorf(tokenLine(kt), p, "unknown key (known keys: %s)", strings.Join(fieldNames(t), ", "))
		}
		return false
	}
	if mv.Value != nil {
		if vt := mv.Value.GetToken(); vt != nil {
			s.byPos[[2]int{vt.Position.Line, vt.Position.Column}] = p
		}
		if !s.walk(mv.Value, p, ft) {
			mv.Value = nullFor(mv.Value)
		}
	}
	return true
}

func keyName(k ast.MapKeyNode) string {
	if sn, ok := k.(*ast.StringNode); ok {
		return sn.Value
	}
	if t := k.GetToken(); t != nil {
		return t.Value
	}
	return k.String()
}

// scalarString returns the text of a string scalar.
func scalarString(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
	}
	return "", false
}

func describe(n ast.Node) string {
	switch v := n.(type) {
	case ast.MapNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return strconv.Quote(v.Value)
	case *ast.LiteralNode:
		return "a text block"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	case *ast.BoolNode:
		return n.GetToken().Value
	}
	return fmt.Sprintf("a %s", n.Type().YAMLName())
}

// yamlFields maps the YAML keys of struct type t to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlName(f)
		if ok {
			out[name] = f.Type
		}
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name, ok := yamlName(t.Field(i)); ok {
			out = append(out, name)
		}
	}
	return out
}

func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, true
}

// nearest returns the candidate within edit distance 2 of name (the
// closest, first on ties), or "".
func nearest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // keys are short; do not spend time on junk
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
