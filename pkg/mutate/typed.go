package mutate

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gomodules.xyz/jsonpatch/v2"
)

// typedPatch is jsonpatch.CreatePatch over the encodings of a and b — the same
// operations, values decoded with UseNumber as it decodes them — computed on
// the typed values instead: struct fields that are equal are compared, never
// encoded and decoded twice; only what differs is encoded, and what is not a
// struct, a slice or a string-keyed map (the types that encode themselves:
// quantities, times, int-or-strings) is handed to jsonpatch.CreatePatch as
// its encodings. path is the pointer of a and b in the document.
//
// It gives up (errUntyped) on what it does not follow exactly as encoding/json
// encodes it — an omitzero or ",string" option, an inline field that clashes
// with another — and the caller diffs the encodings instead.
func typedPatch(a, b any, path string) ([]jsonpatch.Operation, error) {
	var ops []jsonpatch.Operation
	if err := diffValues(reflect.ValueOf(a), reflect.ValueOf(b), path, &ops); err != nil {
		return nil, err
	}
	return ops, nil
}

var errUntyped = errors.New("not diffed on the typed values")

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodesItself reports whether encoding/json hands values of t to a method.
func encodesItself(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)
}

func diffValues(a, b reflect.Value, path string, ops *[]jsonpatch.Operation) error {
	t := a.Type()
	if encodesItself(t) {
		return diffEncoded(a, b, path, ops)
	}
	switch t.Kind() {
	case reflect.Pointer:
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			// null against a value: the types differ, CreatePatch replaces.
			return replace(b, path, ops)
		}
		return diffValues(a.Elem(), b.Elem(), path, ops)
	case reflect.Struct:
		fs, err := jsonFields(t)
		if err != nil {
			return err
		}
		for _, f := range fs {
			av, bv := a.FieldByIndex(f.index), b.FieldByIndex(f.index)
			ap, bp := !f.omitted(av), !f.omitted(bv)
			p := path + "/" + escapeToken(f.name)
			switch {
			case !ap && !bp:
			case !ap:
				if err := add(bv, p, ops); err != nil {
					return err
				}
			case !bp:
				*ops = append(*ops, jsonpatch.NewOperation("remove", p, nil))
			default:
				if err := diffValues(av, bv, p, ops); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return diffEncoded(a, b, path, ops) // base64
		}
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			return replace(b, path, ops) // null against an array
		}
		n := min(a.Len(), b.Len())
		for i := a.Len() - 1; i >= n; i-- {
			*ops = append(*ops, jsonpatch.NewOperation("remove", path+"/"+strconv.Itoa(i), nil))
		}
		for i := n; i < b.Len(); i++ {
			if err := add(b.Index(i), path+"/"+strconv.Itoa(i), ops); err != nil {
				return err
			}
		}
		for i := range n {
			if err := diffValues(a.Index(i), b.Index(i), path+"/"+strconv.Itoa(i), ops); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String || encodesItself(t.Key()) {
			return diffEncoded(a, b, path, ops)
		}
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			return replace(b, path, ops) // null against an object
		}
		it := b.MapRange()
		for it.Next() {
			if !utf8.ValidString(it.Key().String()) {
				return errUntyped // encoding/json mends it
			}
			p := path + "/" + escapeToken(it.Key().String())
			av := a.MapIndex(it.Key())
			if !av.IsValid() {
				if err := add(it.Value(), p, ops); err != nil {
					return err
				}
				continue
			}
			if err := diffValues(av, it.Value(), p, ops); err != nil {
				return err
			}
		}
		it = a.MapRange()
		for it.Next() {
			if !b.MapIndex(it.Key()).IsValid() {
				*ops = append(*ops, jsonpatch.NewOperation("remove", path+"/"+escapeToken(it.Key().String()), nil))
			}
		}
		return nil
	case reflect.String:
		switch {
		case a.String() == b.String():
		case !utf8.ValidString(b.String()):
			return replace(b, path, ops) // encoding/json mends it
		default:
			*ops = append(*ops, jsonpatch.NewOperation("replace", path, b.String()))
		}
		return nil
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			*ops = append(*ops, jsonpatch.NewOperation("replace", path, b.Bool()))
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			*ops = append(*ops, jsonpatch.NewOperation("replace", path, json.Number(strconv.FormatInt(b.Int(), 10))))
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if a.Uint() != b.Uint() {
			*ops = append(*ops, jsonpatch.NewOperation("replace", path, json.Number(strconv.FormatUint(b.Uint(), 10))))
		}
		return nil
	}
	// Floats, interfaces, arrays: as encoded.
	return diffEncoded(a, b, path, ops)
}

// diffEncoded is jsonpatch.CreatePatch over the encodings of a and b, its
// paths put under path.
func diffEncoded(a, b reflect.Value, path string, ops *[]jsonpatch.Operation) error {
	ja, err := encode(a)
	if err != nil {
		return err
	}
	jb, err := encode(b)
	if err != nil {
		return err
	}
	if bytes.Equal(ja, jb) {
		return nil
	}
	sub, err := jsonpatch.CreatePatch(ja, jb)
	if err != nil {
		return err
	}
	for _, op := range sub {
		op.Path = path + op.Path
		*ops = append(*ops, op)
	}
	return nil
}

// add is an "add" of v's encoding at path.
func add(v reflect.Value, path string, ops *[]jsonpatch.Operation) error {
	return encodedOp("add", v, path, ops)
}

// replace is a "replace" with v's encoding at path.
func replace(v reflect.Value, path string, ops *[]jsonpatch.Operation) error {
	return encodedOp("replace", v, path, ops)
}

// encodedOp is an operation whose value is v's encoding, as it is: it is what
// CreatePatch's value encodes to, members in the struct's order instead of
// sorted, and is not decoded only to be encoded again into the answer.
func encodedOp(op string, v reflect.Value, path string, ops *[]jsonpatch.Operation) error {
	js, err := encode(v)
	if err != nil {
		return err
	}
	*ops = append(*ops, jsonpatch.NewOperation(op, path, json.RawMessage(js)))
	return nil
}

// encode is v's encoding as part of the document: encoding/json calls a
// pointer receiver's MarshalJSON on what it can address — all but map values.
func encode(v reflect.Value) ([]byte, error) {
	if v.CanAddr() {
		return json.Marshal(v.Addr().Interface())
	}
	return json.Marshal(v.Interface())
}

var tokenEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return tokenEscaper.Replace(s)
}

// jsonField is a struct field as encoding/json encodes it.
type jsonField struct {
	name                string
	index               []int
	omitempty, omitzero bool
}

// omitted reports whether encoding/json leaves v out (omitempty, omitzero).
func (f jsonField) omitted(v reflect.Value) bool {
	return f.omitzero && isZero(v) || f.omitempty && isEmpty(v)
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// isZero is omitzero's test: the type's IsZero method where it has one (on a
// pointer receiver, called on the value's address or a copy's), else the zero value.
func isZero(v reflect.Value) bool {
	t := v.Type()
	switch {
	case (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil():
		return true
	case t.Implements(isZeroerType):
		return v.Interface().(isZeroer).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType):
		if !v.CanAddr() {
			c := reflect.New(t).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(isZeroer).IsZero()
	}
	return v.IsZero()
}

// isEmpty is omitempty's test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

var fieldsCache sync.Map // reflect.Type -> []jsonField or error

// jsonFields lists the fields encoding/json encodes for struct type t, inline
// (embedded, unnamed) structs' fields included. Any option or clash it does not
// follow exactly gives errUntyped.
func jsonFields(t reflect.Type) ([]jsonField, error) {
	if c, ok := fieldsCache.Load(t); ok {
		if err, isErr := c.(error); isErr {
			return nil, err
		}
		return c.([]jsonField), nil
	}
	var out []jsonField
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int) error
	walk = func(t reflect.Type, index []int) error {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer || ft.Kind() != reflect.Struct || encodesItself(ft) {
					return errUntyped // an embedded pointer or marshaler: not followed here
				}
				if err := walk(ft, idx); err != nil {
					return err
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			var omitempty, omitzero bool
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "":
				case "omitempty":
					omitempty = true
				case "omitzero":
					omitzero = true
				default:
					return errUntyped // string, inline on a named field, ...
				}
			}
			if name == "" {
				name = f.Name
			}
			if seen[name] {
				return errUntyped // a clash encoding/json resolves by depth and tags
			}
			seen[name] = true
			out = append(out, jsonField{name: name, index: idx, omitempty: omitempty, omitzero: omitzero})
		}
		return nil
	}
	if err := walk(t, nil); err != nil {
		fieldsCache.Store(t, err)
		return nil, err
	}
	fieldsCache.Store(t, out)
	return out, nil
}
