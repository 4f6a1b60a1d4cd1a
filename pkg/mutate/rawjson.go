package mutate

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// A small reader over encoded JSON that finds the members of one object or the
// elements of one array without decoding anything else. The patch code uses it
// to walk only the subtrees it needs. The documents it reads were written by
// encoding/json or checked with json.Valid first, so it checks structure only as
// far as it must never to read out of bounds; whatever it decodes, it decodes
// exactly as encoding/json does.

var errMalformed = errors.New("malformed JSON")

// JSON value kinds, as jsonpatch tells decoded values apart (reflect.TypeOf).
const (
	kindNull byte = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
)

func kindOf(v []byte) byte {
	if len(v) == 0 {
		return kindNull
	}
	switch v[0] {
	case '{':
		return kindObject
	case '[':
		return kindArray
	case '"':
		return kindString
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	}
	return kindNumber
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i] == '"'.
func stringEnd(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i++ // the escaped character
		}
	}
	return 0, errMalformed
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := stringEnd(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errMalformed
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return 0, errMalformed
			}
			return i, nil
		}
		i++
	}
	if i == start {
		return 0, errMalformed
	}
	return i, nil
}

// plainString reports whether a quoted string's contents decode to themselves:
// no escapes and valid UTF-8 (encoding/json replaces invalid bytes).
func plainString(inner []byte) bool {
	if bytes.IndexByte(inner, '\\') >= 0 {
		return false
	}
	for _, c := range inner {
		if c >= utf8.RuneSelf {
			return utf8.Valid(inner)
		}
	}
	return true
}

// unquote decodes one quoted JSON string as encoding/json does.
func unquote(quoted []byte) (string, error) {
	if inner := quoted[1 : len(quoted)-1]; plainString(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", err
	}
	return s, nil
}

// member is one name/value pair of an object: the name still quoted, the value
// without surrounding space.
type member struct {
	name  []byte
	value []byte
}

// is reports whether the member's name decodes to key; it allocates only for
// names with escapes.
func (m member) is(key string) bool {
	if inner := m.name[1 : len(m.name)-1]; plainString(inner) {
		return string(inner) == key
	}
	s, err := unquote(m.name)
	return err == nil && s == key
}

// sameName reports whether two members' names decode to the same string.
func sameName(a, b member) bool {
	if bytes.Equal(a.name, b.name) {
		return true
	}
	ia, ib := a.name[1:len(a.name)-1], b.name[1:len(b.name)-1]
	if plainString(ia) && plainString(ib) {
		return false
	}
	sa, errA := unquote(a.name)
	sb, errB := unquote(b.name)
	return errA == nil && errB == nil && sa == sb
}

// members lists an object's members in document order; dst is reused.
func members(obj []byte, dst []member) ([]member, error) {
	out := dst[:0]
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, errMalformed
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return out, nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return nil, errMalformed
		}
		end, err := stringEnd(obj, i)
		if err != nil {
			return nil, err
		}
		name := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, errMalformed
		}
		i = skipSpace(obj, i+1)
		vEnd, err := valueEnd(obj, i)
		if err != nil {
			return nil, err
		}
		out = append(out, member{name: name, value: obj[i:vEnd]})
		i = skipSpace(obj, vEnd)
		if i >= len(obj) {
			return nil, errMalformed
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return out, nil
		default:
			return nil, errMalformed
		}
	}
}

// elements lists an array's elements in order; dst is reused.
func elements(arr []byte, dst [][]byte) ([][]byte, error) {
	out := dst[:0]
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, errMalformed
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return out, nil
	}
	for {
		end, err := valueEnd(arr, i)
		if err != nil {
			return nil, err
		}
		out = append(out, arr[i:end])
		i = skipSpace(arr, end)
		if i >= len(arr) {
			return nil, errMalformed
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return out, nil
		default:
			return nil, errMalformed
		}
	}
}

// decodeNumbered decodes one value as jsonpatch.CreatePatch does (a
// json.Decoder with UseNumber): objects as map[string]any, arrays as []any
// (empty, not nil, when empty), numbers as json.Number.
func decodeNumbered(v []byte) (any, error) {
	out, end, err := parseNumbered(v, skipSpace(v, 0))
	if err != nil {
		return nil, err
	}
	if skipSpace(v, end) != len(v) {
		return nil, errMalformed
	}
	return out, nil
}

func parseNumbered(b []byte, i int) (any, int, error) {
	if i >= len(b) {
		return nil, 0, errMalformed
	}
	switch c := b[i]; {
	case c == '{':
		m := make(map[string]any)
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return m, i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, 0, errMalformed
			}
			end, err := stringEnd(b, i)
			if err != nil {
				return nil, 0, err
			}
			key, err := unquote(b[i:end])
			if err != nil {
				return nil, 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return nil, 0, errMalformed
			}
			v, next, err := parseNumbered(b, skipSpace(b, i+1))
			if err != nil {
				return nil, 0, err
			}
			m[key] = v
			i = skipSpace(b, next)
			if i >= len(b) {
				return nil, 0, errMalformed
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case '}':
				return m, i + 1, nil
			default:
				return nil, 0, errMalformed
			}
		}
	case c == '[':
		l := make([]any, 0)
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return l, i + 1, nil
		}
		for {
			v, next, err := parseNumbered(b, i)
			if err != nil {
				return nil, 0, err
			}
			l = append(l, v)
			i = skipSpace(b, next)
			if i >= len(b) {
				return nil, 0, errMalformed
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return l, i + 1, nil
			default:
				return nil, 0, errMalformed
			}
		}
	case c == '"':
		end, err := stringEnd(b, i)
		if err != nil {
			return nil, 0, err
		}
		s, err := unquote(b[i:end])
		return s, end, err
	case bytes.HasPrefix(b[i:], []byte("true")):
		return true, i + 4, nil
	case bytes.HasPrefix(b[i:], []byte("false")):
		return false, i + 5, nil
	case bytes.HasPrefix(b[i:], []byte("null")):
		return nil, i + 4, nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, err := valueEnd(b, i)
		if err != nil {
			return nil, 0, err
		}
		return json.Number(b[i:end]), end, nil
	}
	return nil, 0, errMalformed
}

// decodePlain decodes one value as json.Unmarshal into an any does: numbers as
// float64.
func decodePlain(v []byte) (any, error) {
	var out any
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, err
	}
	return out, nil
}
