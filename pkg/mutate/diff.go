package mutate

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"gomodules.xyz/jsonpatch/v2"
)

// createPatch gives the operations jsonpatch.CreatePatch gives for two JSON
// documents written by encoding/json (one value, no trailing data), in another
// order (rootPatch sorts them). It walks the encodings side by side and decodes
// only what the patch carries: members whose encodings are byte-for-byte equal
// are equal values and are skipped, so the cost follows what the rules changed,
// not the size of the object. (CreatePatch decodes both documents whole.)
func createPatch(a, b []byte) ([]jsonpatch.Operation, error) {
	if bytes.Equal(a, b) {
		return []jsonpatch.Operation{}, nil
	}
	return diffValues(a[skipSpace(a, 0):], b[skipSpace(b, 0):], "", []jsonpatch.Operation{})
}

// diffValues is jsonpatch's handleValues over encoded values.
func diffValues(a, b []byte, path string, patch []jsonpatch.Operation) ([]jsonpatch.Operation, error) {
	if bytes.Equal(a, b) {
		return patch, nil
	}
	ka, kb := kindOf(a), kindOf(b)
	if ka == kindNull && kb == kindNull {
		return patch, nil
	}
	if ka != kb {
		return replaceWith(patch, path, b)
	}
	switch ka {
	case kindObject:
		return diffObjects(a, b, path, patch)
	case kindArray:
		return diffArrays(a, b, path, patch)
	case kindString:
		// Different encodings may still be the same string (escapes).
		sa, err := unquote(a)
		if err != nil {
			return nil, err
		}
		sb, err := unquote(b)
		if err != nil {
			return nil, err
		}
		if sa == sb {
			return patch, nil
		}
		return append(patch, jsonpatch.NewOperation("replace", path, sb)), nil
	}
	// Numbers (compared as json.Number, their literal text) and booleans: the
	// encodings differ, so the values do.
	return replaceWith(patch, path, b)
}

func replaceWith(patch []jsonpatch.Operation, path string, b []byte) ([]jsonpatch.Operation, error) {
	v, err := decodeNumbered(b)
	if err != nil {
		return nil, err
	}
	return append(patch, jsonpatch.NewOperation("replace", path, v)), nil
}

// diffObjects is jsonpatch's diff: every member of b is added or compared, every
// member only a has is removed. As in a decoded map, the last of duplicate names
// counts.
func diffObjects(a, b []byte, path string, patch []jsonpatch.Operation) ([]jsonpatch.Operation, error) {
	am, err := members(a, nil)
	if err != nil {
		return nil, err
	}
	bm, err := members(b, nil)
	if err != nil {
		return nil, err
	}
	ax, bx := newMemberIndex(am), newMemberIndex(bm)
	for j, m := range bm {
		if bx.find(m) != j {
			continue // a later duplicate holds the value
		}
		key, err := unquote(m.name)
		if err != nil {
			return nil, err
		}
		p := makePath(path, key)
		i := ax.find(m)
		if i < 0 {
			v, err := decodeNumbered(m.value)
			if err != nil {
				return nil, err
			}
			patch = append(patch, jsonpatch.NewOperation("add", p, v))
			continue
		}
		if patch, err = diffValues(am[i].value, m.value, p, patch); err != nil {
			return nil, err
		}
	}
	for i, m := range am {
		if bx.find(m) >= 0 || ax.find(m) != i {
			continue // kept, or a duplicate already handled
		}
		key, err := unquote(m.name)
		if err != nil {
			return nil, err
		}
		patch = append(patch, jsonpatch.NewOperation("remove", makePath(path, key), nil))
	}
	return patch, nil
}

// memberIndex finds members by name: the last of that name, as a decoded map
// keeps. Small objects are searched in place; big ones get a map.
type memberIndex struct {
	list []member
	// plain: no name in list has escapes or non-ASCII bytes, so a plain name
	// matches exactly the names spelled with the same bytes.
	plain  bool
	byName map[string]int
}

func newMemberIndex(list []member) memberIndex {
	x := memberIndex{list: list, plain: true}
	for _, m := range list {
		if !asciiName(m.name) {
			x.plain = false
			break
		}
	}
	if len(list) > 16 {
		x.byName = make(map[string]int, len(list))
		for i, m := range list {
			if k, err := unquote(m.name); err == nil {
				x.byName[k] = i
			}
		}
	}
	return x
}

// asciiName reports whether a quoted name has neither escapes nor non-ASCII
// bytes: it decodes to the bytes between its quotes.
func asciiName(quoted []byte) bool {
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// find returns the index of the last member named as m, or -1.
func (x memberIndex) find(m member) int {
	if x.byName != nil {
		k, err := unquote(m.name)
		if err != nil {
			return -1
		}
		if i, ok := x.byName[k]; ok {
			return i
		}
		return -1
	}
	if x.plain && asciiName(m.name) {
		for i := len(x.list) - 1; i >= 0; i-- {
			if bytes.Equal(x.list[i].name, m.name) {
				return i
			}
		}
		return -1
	}
	for i := len(x.list) - 1; i >= 0; i-- {
		if sameName(x.list[i], m) {
			return i
		}
	}
	return -1
}

// diffArrays is jsonpatch's array rule: surplus elements are removed from the
// end, new ones added, and elements at the same index compared.
func diffArrays(a, b []byte, path string, patch []jsonpatch.Operation) ([]jsonpatch.Operation, error) {
	at, err := elements(a, nil)
	if err != nil {
		return nil, err
	}
	bt, err := elements(b, nil)
	if err != nil {
		return nil, err
	}
	n := min(len(at), len(bt))
	for i := len(at) - 1; i >= n; i-- {
		patch = append(patch, jsonpatch.NewOperation("remove", indexPath(path, i), nil))
	}
	for i := n; i < len(bt); i++ {
		v, err := decodeNumbered(bt[i])
		if err != nil {
			return nil, err
		}
		patch = append(patch, jsonpatch.NewOperation("add", indexPath(path, i), v))
	}
	for i := 0; i < n; i++ {
		if patch, err = diffValues(at[i], bt[i], indexPath(path, i), patch); err != nil {
			return nil, err
		}
	}
	return patch, nil
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// makePath appends one escaped reference token, as jsonpatch does.
func makePath(path, key string) string {
	if strings.ContainsAny(key, "~/") {
		key = pointerEscaper.Replace(key)
	}
	return path + "/" + key
}

func indexPath(path string, i int) string { return path + "/" + strconv.Itoa(i) }
