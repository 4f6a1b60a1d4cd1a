package kubejson

import (
	"reflect"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
)

// exactOptions make encoding/json/v2 (the go-json-experiment mirror) refuse
// everything on which Unmarshal's two passes could say anything but "decoded,
// no error": names match case-sensitively, a name written twice is an error,
// and so is any name the Go type does not have — a case variant included.
// Invalid UTF-8, which sigs.k8s.io/json replaces, is refused too.
var exactOptions = jsonv2.RejectUnknownMembers(true)

// exact decodes data into v in one pass of encoding/json/v2 when that gives
// what sigs.k8s.io/json would, and reports whether it did. It is the fast path
// of Unmarshal for JSON as the API server writes it: only fields the type
// knows, each once. Anything else — an unknown field, a duplicate, a case
// variant, malformed JSON, a value of the wrong type — leaves v as it was and
// returns false, and Unmarshal reads data the slow way, with its errors.
//
// It is taken only where one pass can agree with the other: v points to a
// zero value (v2 would merge into a filled one differently) whose type has no
// interface-typed field outside types that decode themselves (v2 decodes
// numbers there as float64, sigs.k8s.io/json as int64).
func exact(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !oneWay(rv.Type().Elem()) || !rv.Elem().IsZero() {
		return false
	}
	if jsonv2.Unmarshal(data, v, exactOptions) != nil {
		rv.Elem().SetZero()
		return false
	}
	return true
}

var oneWayCache sync.Map // reflect.Type -> bool

// oneWay reports whether both decoders read every value of t the same way:
// no untyped value (any) and no `,string` field reachable outside opaque
// types, whose own UnmarshalJSON both call.
func oneWay(t reflect.Type) bool {
	if ok, found := oneWayCache.Load(t); found {
		return ok.(bool)
	}
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type) bool
	visit = func(t reflect.Type) bool {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if opaque(t) {
			return t.Kind() != reflect.Interface
		}
		if seen[t] {
			return true
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				if strings.Contains(f.Tag.Get("json"), ",string") || (f.IsExported() || f.Anonymous) && !visit(f.Type) {
					return false
				}
			}
		case reflect.Slice, reflect.Array:
			return visit(t.Elem())
		case reflect.Map:
			return visit(t.Key()) && visit(t.Elem())
		}
		return true
	}
	ok := visit(t)
	oneWayCache.Store(t, ok)
	return ok
}
