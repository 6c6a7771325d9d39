// Package openapi builds OpenAPI 3.1 documents from Go types: the schema
// of a request or answer body is derived by reflection from the struct the
// handler decodes or encodes, so that a field added to the struct appears
// in the document without anyone remembering to write it down.
//
// Field names come from the json tag, or the yaml tag when there is no
// json tag (the zone routes take the config file's zone fields); "-" is
// skipped. time.Time is a date-time string, time.Duration a Go duration
// string ("1m30s"), json.RawMessage any JSON value.
package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it) kept as a
// plain map so that it marshals to exactly what is set.
type Schema = map[string]any

// Builder collects the named struct schemas referenced from operations
// under components/schemas.
type Builder struct {
	components map[string]Schema
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{components: map[string]Schema{}} }

// Components returns the named schemas built so far.
func (b *Builder) Components() map[string]Schema { return b.components }

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	rawType      = reflect.TypeFor[json.RawMessage]()
)

// Of returns the schema of v's type (v may be a value or a nil pointer).
func (b *Builder) Of(v any) Schema { return b.schema(reflect.TypeOf(v)) }

func (b *Builder) schema(t reflect.Type) Schema {
	switch t {
	case timeType:
		return Schema{"type": "string", "format": "date-time"}
	case durationType:
		return Schema{"type": "string", "description": "Go duration such as 500ms, 1m30s"}
	case rawType:
		return Schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return b.schema(t.Elem())
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		return Schema{"type": "array", "items": b.schema(t.Elem())}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": b.schema(t.Elem())}
	case reflect.Interface:
		return Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return b.object(t)
		}
		name := componentName(t)
		if _, ok := b.components[name]; !ok {
			b.components[name] = Schema{} // placeholder against recursion
			b.components[name] = b.object(t)
		}
		return Schema{"$ref": "#/components/schemas/" + name}
	}
	return Schema{}
}

// componentName is "package.Type", with generic brackets dropped.
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if pkg == "" {
		return name
	}
	return pkg + "." + name
}

// FieldName returns the wire name of a struct field and whether it is on
// the wire at all.
func FieldName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		tag, ok = f.Tag.Lookup("yaml")
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if !ok || name == "" {
		if f.Anonymous {
			return "", true // embedded: its fields are promoted
		}
		name = f.Name
	}
	return name, true
}

func (b *Builder) object(t reflect.Type) Schema {
	props := Schema{}
	b.fields(t, props)
	return Schema{"type": "object", "properties": props}
}

func (b *Builder) fields(t reflect.Type, props Schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := FieldName(f)
		if !ok {
			continue
		}
		if name == "" { // embedded struct
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				b.fields(ft, props)
			}
			continue
		}
		props[name] = b.schema(f.Type)
	}
}

// Fields lists the wire names of a struct type's fields, promoted ones
// included; tests use it to check a documented body against its type.
func Fields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, ok := FieldName(f)
			switch {
			case !ok:
			case name == "":
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
				}
			default:
				out = append(out, name)
			}
		}
	}
	walk(t)
	return out
}
