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
	d := differ{path: []byte(path)}
	if err := d.values(reflect.ValueOf(a), reflect.ValueOf(b)); err != nil {
		return nil, err
	}
	return d.ops, nil
}

var errUntyped = errors.New("not diffed on the typed values")

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

var selfEncoding sync.Map // reflect.Type -> bool

// encodesItself reports whether encoding/json hands values of t to a method.
func encodesItself(t reflect.Type) bool {
	if k := t.Kind(); t.PkgPath() == "" && (k <= reflect.Complex128 || k == reflect.String) {
		return false // a predeclared bool, number or string: no methods, nothing to look up
	}
	if v, ok := selfEncoding.Load(t); ok {
		return v.(bool)
	}
	yes := t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)
	selfEncoding.Store(t, yes)
	return yes
}

// differ walks two values, the JSON pointer of where it is in path (a string
// is made of it only for an operation), the operations in ops.
type differ struct {
	path []byte
	ops  []jsonpatch.Operation
}

// push appends a reference token to the path; pop(n) takes the path back to n.
func (d *differ) push(token string) int {
	return d.pushEscaped(escapeToken(token))
}

// pushEscaped appends a token escaped already (a field's, see jsonField).
func (d *differ) pushEscaped(token string) int {
	n := len(d.path)
	d.path = append(append(d.path, '/'), token...)
	return n
}

func escapeToken(token string) string {
	if strings.ContainsAny(token, "~/") {
		return tokenEscaper.Replace(token)
	}
	return token
}

func (d *differ) pushIndex(i int) int {
	n := len(d.path)
	d.path = strconv.AppendInt(append(d.path, '/'), int64(i), 10)
	return n
}

func (d *differ) pop(n int) { d.path = d.path[:n] }

func (d *differ) op(op string, value any) {
	d.ops = append(d.ops, jsonpatch.NewOperation(op, string(d.path), value))
}

func (d *differ) values(a, b reflect.Value) error {
	return d.diff(a, b, encodesItself(a.Type()))
}

// diff is values, told whether the type encodes itself (a struct field knows).
func (d *differ) diff(a, b reflect.Value, selfEncoding bool) error {
	t := a.Type()
	if selfEncoding {
		return d.encoded(a, b)
	}
	switch t.Kind() {
	case reflect.Pointer:
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			// null against a value: the types differ, CreatePatch replaces.
			return d.encodedOp("replace", b)
		}
		return d.values(a.Elem(), b.Elem())
	case reflect.Struct:
		fs, err := jsonFields(t)
		if err != nil {
			return err
		}
		for _, f := range fs {
			av, bv := a.FieldByIndex(f.index), b.FieldByIndex(f.index)
			ap, bp := !f.omitted(av), !f.omitted(bv)
			if !ap && !bp {
				continue
			}
			n := d.pushEscaped(f.token)
			switch {
			case !ap:
				err = d.encodedOp("add", bv)
			case !bp:
				d.op("remove", nil)
			default:
				err = d.diff(av, bv, f.selfEncoding)
			}
			d.pop(n)
			if err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return d.encoded(a, b) // base64
		}
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			return d.encodedOp("replace", b) // null against an array
		}
		common := min(a.Len(), b.Len())
		for i := a.Len() - 1; i >= common; i-- {
			n := d.pushIndex(i)
			d.op("remove", nil)
			d.pop(n)
		}
		for i := common; i < b.Len(); i++ {
			n := d.pushIndex(i)
			err := d.encodedOp("add", b.Index(i))
			d.pop(n)
			if err != nil {
				return err
			}
		}
		elemSelf := encodesItself(t.Elem())
		for i := range common {
			n := d.pushIndex(i)
			err := d.diff(a.Index(i), b.Index(i), elemSelf)
			d.pop(n)
			if err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String || encodesItself(t.Key()) {
			return d.encoded(a, b)
		}
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			return d.encodedOp("replace", b) // null against an object
		}
		elemSelf := encodesItself(t.Elem())
		it := b.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return errUntyped // encoding/json mends it
			}
			n := d.push(k)
			var err error
			if av := a.MapIndex(it.Key()); av.IsValid() {
				err = d.diff(av, it.Value(), elemSelf)
			} else {
				err = d.encodedOp("add", it.Value())
			}
			d.pop(n)
			if err != nil {
				return err
			}
		}
		it = a.MapRange()
		for it.Next() {
			if !b.MapIndex(it.Key()).IsValid() {
				n := d.push(it.Key().String())
				d.op("remove", nil)
				d.pop(n)
			}
		}
		return nil
	case reflect.String:
		switch {
		case a.String() == b.String():
		case !utf8.ValidString(b.String()):
			return d.encodedOp("replace", b) // encoding/json mends it
		default:
			d.op("replace", b.String())
		}
		return nil
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			d.op("replace", b.Bool())
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			d.op("replace", json.Number(strconv.FormatInt(b.Int(), 10)))
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if a.Uint() != b.Uint() {
			d.op("replace", json.Number(strconv.FormatUint(b.Uint(), 10)))
		}
		return nil
	}
	// Floats, interfaces, arrays: as encoded.
	return d.encoded(a, b)
}

// encoded is jsonpatch.CreatePatch over the encodings of a and b, its paths
// put under the differ's.
func (d *differ) encoded(a, b reflect.Value) error {
	if equalValues(a, b) {
		return nil // equal values encode the same: nothing to diff
	}
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
		op.Path = string(d.path) + op.Path
		d.ops = append(d.ops, op)
	}
	return nil
}

// equalValues is reflect.DeepEqual of a and b, through their addresses where
// they have them (no copy to box). Most quantities, times and int-or-strings
// of a mutation are left as they were: this spares encoding both sides.
func equalValues(a, b reflect.Value) bool {
	if a.CanAddr() && b.CanAddr() {
		return reflect.DeepEqual(a.Addr().Interface(), b.Addr().Interface())
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// encodedOp is an operation whose value is v's encoding, as it is: it is what
// CreatePatch's value encodes to, members in the struct's order instead of
// sorted, and is not decoded only to be encoded again into the answer.
func (d *differ) encodedOp(op string, v reflect.Value) error {
	js, err := encode(v)
	if err != nil {
		return err
	}
	d.op(op, json.RawMessage(js))
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

// jsonField is a struct field as encoding/json encodes it, with what the
// walk asks of its type worked out once.
type jsonField struct {
	name                string
	token               string // name, escaped as a pointer token
	index               []int
	omitempty, omitzero bool
	selfEncoding        bool     // encodesItself
	zero                zeroTest // for omitzero
}

// zeroTest is how omitzero tells a zero value of a type.
type zeroTest uint8

const (
	zeroValue         zeroTest = iota // the zero value
	zeroMethod                        // its IsZero method
	zeroPointerMethod                 // IsZero on a pointer receiver
)

func zeroTestOf(t reflect.Type) zeroTest {
	switch {
	case t.Implements(isZeroerType):
		return zeroMethod
	case reflect.PointerTo(t).Implements(isZeroerType):
		return zeroPointerMethod
	}
	return zeroValue
}

// omitted reports whether encoding/json leaves v out (omitempty, omitzero).
func (f jsonField) omitted(v reflect.Value) bool {
	return f.omitzero && isZero(v, f.zero) || f.omitempty && isEmpty(v)
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// isZero is omitzero's test: the type's IsZero method where it has one (on a
// pointer receiver, called on the value's address or a copy's), else the zero
// value; test is zeroTestOf(v.Type()).
func isZero(v reflect.Value, test zeroTest) bool {
	t := v.Type()
	switch {
	case (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil():
		return true
	case test == zeroMethod:
		return v.Interface().(isZeroer).IsZero()
	case test == zeroPointerMethod:
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
			out = append(out, jsonField{name: name, token: escapeToken(name), index: idx, omitempty: omitempty, omitzero: omitzero,
				selfEncoding: encodesItself(f.Type), zero: zeroTestOf(f.Type)})
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
