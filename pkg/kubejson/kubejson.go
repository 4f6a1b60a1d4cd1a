// Package kubejson reads the JSON of Kubernetes objects the way the API server
// does, so that what this project judges is what a cluster would store, and the
// JSON pointers of the patches made for them.
package kubejson

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	sigsjson "sigs.k8s.io/json"
)

// Unmarshal decodes data into v as the API server decodes an object, with
// sigs.k8s.io/json: field names match case-sensitively and integers decoded
// into untyped values (any, map[string]any) stay int64.
//
// JSON that names one field twice is an error, because readers disagree about
// it: encoding/json would take "Replicas" for replicas, the API server ignores
// it. The error names every such field, by path:
//
//   - a name written twice in one object: duplicate field "spec.replicas";
//   - a name that differs only in case from a field of the Go type which the
//     same object also holds: field "spec.Replicas" duplicates "spec.replicas".
//
// Any other name the Go type does not have, a case variant on its own
// included, is ignored, as the API server drops fields it does not know: an API
// server newer than this build sends fields the build has never heard of.
// Malformed JSON and values of the wrong type give sigs.k8s.io/json's errors,
// which are encoding/json's messages.
//
// JSON as the API server writes it — known fields only, each once — is decoded
// in one pass of encoding/json/v2 (see exact); anything else the slow way,
// which finds and names the problems.
func Unmarshal(data []byte, v any) error {
	if exact(data, v) {
		return nil
	}
	return strictUnmarshal(data, v)
}

// strictUnmarshal is Unmarshal without its fast path.
func strictUnmarshal(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	var errs []error
	check := len(strict) >= strictErrorCap
	for _, e := range strict {
		var fe sigsjson.FieldError
		// The unknown-field errors are asked for only to find case variants;
		// sigs.k8s.io/json tells the two kinds apart by their message alone.
		if errors.As(e, &fe) && strings.HasPrefix(e.Error(), "unknown field ") {
			check = check || mayDuplicate(reflect.TypeOf(v), fe.FieldPath())
			continue
		}
		errs = append(errs, e)
	}
	if check {
		errs = append(errs, caseVariants(data, reflect.TypeOf(v))...)
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return fieldErrors(errs)
}

// fieldErrors are several problems of one document, in one line, as the
// command line and the API server's status messages show errors.
type fieldErrors []error

func (e fieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e fieldErrors) Unwrap() []error { return e }

// strictErrorCap is how many strict errors sigs.k8s.io/json reports at most;
// with as many, a case variant may be among those it left out.
const strictErrorCap = 100

// mayDuplicate reports whether the last name of an unknown field's path folds
// to the name of a field somewhere in t: only then can it be a case variant.
// An unknown field is not rare (a newer API server's), so this keeps the walk
// of caseVariants for when it can find something.
func mayDuplicate(t reflect.Type, path string) bool {
	name := path[strings.LastIndexByte(path, '.')+1:]
	_, ok := foldedNames(t)[fold(name)]
	return ok
}

// fold maps every string to the same value as the strings it equals under
// strings.EqualFold (the matching encoding/json does).
func fold(s string) string { return strings.ToLower(strings.ToUpper(s)) }

var namesCache sync.Map // reflect.Type -> map[string]struct{}

// foldedNames is the set of folded JSON names of the fields of every struct
// type reachable from t.
func foldedNames(t reflect.Type) map[string]struct{} {
	if t == nil {
		return nil
	}
	if m, ok := namesCache.Load(t); ok {
		return m.(map[string]struct{})
	}
	names := map[string]struct{}{}
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if seen[t] || opaque(t) {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Struct:
			for name, ft := range fields(t) {
				names[fold(name)] = struct{}{}
				visit(ft)
			}
		case reflect.Slice, reflect.Array, reflect.Map:
			visit(t.Elem())
		}
	}
	visit(t)
	namesCache.Store(t, names)
	return names
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// opaque reports whether values of t decode themselves (metav1.Time,
// resource.Quantity, intstr.IntOrString, ...): the decoder does not look at
// their members, and neither does the walk.
func opaque(t reflect.Type) bool {
	return t.Kind() == reflect.Interface || t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// fields maps the JSON names of a struct's fields to their types, by
// encoding/json's rules: a `json:"name"` tag, else the Go name; "-" skipped;
// an embedded struct without a name (`json:",inline"`) lends its fields, unless
// the struct has a field of that name itself.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
			embedded = append(embedded, ft)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, e := range embedded {
		for name, ft := range fields(e) {
			if _, ok := out[name]; !ok {
				out[name] = ft
			}
		}
	}
	return out
}

// caseVariants finds, in data decoded as t, the members that fold to the name
// of a field of their struct which the same object also holds.
func caseVariants(data []byte, t reflect.Type) []error {
	var doc any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &doc); err != nil {
		return []error{err}
	}
	var errs []error
	walk(doc, t, "", &errs)
	return errs
}

func walk(v any, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if opaque(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fs := fields(t)
		for _, k := range sortedKeys(m) {
			if ft, ok := fs[k]; ok {
				walk(m[k], ft, join(path, k), errs)
				continue
			}
			for _, name := range sortedKeys(fs) {
				if _, written := m[name]; written && strings.EqualFold(name, k) {
					*errs = append(*errs, fmt.Errorf("field %q duplicates %q (field names are case-sensitive)", join(path, k), join(path, name)))
					break
				}
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				walk(m[k], t.Elem(), join(path, k), errs)
			}
		}
	case reflect.Slice, reflect.Array:
		if l, ok := v.([]any); ok {
			for i, e := range l {
				walk(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	}
}

// join appends a name to a path as sigs.k8s.io/json writes its field paths.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
