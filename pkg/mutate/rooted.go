package mutate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"gomodules.xyz/jsonpatch/v2"

	"github.com/laminar/ha-webhook/pkg/kubejson"
)

// rootPatch makes a patch computed between two typed encodings apply to the
// request's own JSON. The typed encoding always has some parents (strategy: {},
// resources: {}) that a request may leave out; an operation under such a missing
// parent becomes one "add" of the whole parent, taken from the mutated object.
// Nothing that exists in the request is replaced wholesale, so fields this build
// does not know survive.
//
// The request is not decoded whole, only the top-level members the operations'
// paths go into (see document).
//
// mutated gives the mutated side's encoding, asked for only when a parent is missing.
func rootPatch(request []byte, mutated func() ([]byte, error), ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, error) {
	if sorted, ok := asTheyAre(request, ops); ok {
		return sorted, nil
	}
	return rootInDocument(request, mutated, ops)
}

// rootInDocument is rootPatch on the request decoded as far as the paths go.
func rootInDocument(request []byte, mutated func() ([]byte, error), ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, error) {
	doc, err := newDocument(request)
	if err != nil {
		return nil, fmt.Errorf("request object: %w", err)
	}
	var after *document
	out := make([]pathOp, 0, len(ops))
	added := map[string]bool{}
	for _, op := range ops {
		tokens, err := kubejson.SplitPointer(op.Path)
		if err != nil {
			return nil, err
		}
		missing, err := firstMissingParent(doc, tokens)
		if err != nil {
			return nil, fmt.Errorf("request object: %w", err)
		}
		if missing < 0 {
			if op.Operation == "add" {
				out = append(out, dropCaseVariants(doc, tokens)...)
			}
			out = append(out, pathOp{op: op, tokens: sortTokens(tokens)})
			continue
		}
		path := pointerPrefix(op.Path, missing+1)
		if added[path] {
			continue
		}
		if after == nil {
			// Read only when needed: a request from the API server has every parent.
			m, err := mutated()
			if err != nil {
				return nil, fmt.Errorf("mutated object: %w", err)
			}
			if after, err = newDocument(m); err != nil {
				return nil, fmt.Errorf("mutated object: %w", err)
			}
		}
		n, v, err := after.walk(tokens[:missing+1])
		if err != nil {
			return nil, fmt.Errorf("mutated object: %w", err)
		}
		if n <= missing {
			return nil, fmt.Errorf("patch path %s is not in the mutated object", op.Path)
		}
		added[path] = true
		out = append(out, dropCaseVariants(doc, tokens[:missing+1])...)
		out = append(out, pathOp{op: jsonpatch.NewOperation("add", path, v), tokens: sortTokens(tokens[:missing+1])})
	}
	sortOperations(out)
	res := make([]jsonpatch.JsonPatchOperation, len(out))
	for i := range out {
		res[i] = out[i].op
	}
	return res, nil
}

// asTheyAre is ops sorted, when rooting them in request changes nothing (see
// nothingToRoot).
func asTheyAre(request []byte, ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, bool) {
	out, err := splitPaths(ops)
	if err != nil || !nothingToRoot(request, out) {
		return nil, false
	}
	sortOperations(out)
	res := make([]jsonpatch.JsonPatchOperation, len(out))
	for i := range out {
		res[i] = out[i].op
	}
	return res, true
}

// splitPaths pairs every operation with its path's reference tokens.
func splitPaths(ops []jsonpatch.JsonPatchOperation) ([]pathOp, error) {
	out := make([]pathOp, len(ops))
	for i, op := range ops {
		tokens, err := kubejson.SplitPointer(op.Path)
		if err != nil {
			return nil, err
		}
		out[i] = pathOp{op: op, tokens: sortTokens(tokens)}
	}
	return out, nil
}

// dropCaseVariants removes, beside an add of the member the last of tokens
// names, the members of the same object whose names differ from it only in
// case. The API server would have dropped them as unknown (names match case
// sensitively), and left beside the added member they would make the patched
// object name one field twice, which readers disagree about.
func dropCaseVariants(doc *document, tokens []string) []pathOp {
	if len(tokens) == 0 {
		return nil
	}
	name, parent := tokens[len(tokens)-1], tokens[:len(tokens)-1]
	var keys []string
	if len(parent) == 0 {
		for k := range doc.members {
			keys = append(keys, k)
		}
	} else if n, v, err := doc.walk(parent); err == nil && n == len(parent) {
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	var out []pathOp
	for _, k := range keys {
		if k != name && strings.EqualFold(k, name) {
			t := append(append([]string{}, parent...), k)
			out = append(out, pathOp{op: jsonpatch.NewOperation("remove", pointerOf(t), nil), tokens: sortTokens(t)})
		}
	}
	return out
}

// pointerOf is the JSON pointer of reference tokens.
func pointerOf(tokens []string) string {
	esc := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + esc.Replace(t))
	}
	return b.String()
}

// pointerPrefix is the pointer to the first n reference tokens of p: an
// escaped token holds no "/".
func pointerPrefix(p string, n int) string {
	end := 0
	for range n {
		next := strings.IndexByte(p[end+1:], '/')
		if next < 0 {
			return p
		}
		end += 1 + next
	}
	return p[:end]
}

// pathOp is an operation with its path's reference tokens, split once.
type pathOp struct {
	op     jsonpatch.JsonPatchOperation
	tokens []sortToken
}

// sortToken is a reference token and, when strconv.Atoi reads it, its number.
type sortToken struct {
	s     string
	n     int
	isNum bool
}

func sortTokens(tokens []string) []sortToken {
	out := make([]sortToken, len(tokens))
	for i, t := range tokens {
		out[i].s = t
		out[i].n, out[i].isNum = atoi(t)
	}
	return out
}

// atoi is strconv.Atoi without the error it builds for every token that is a
// name, not a number: most of them.
func atoi(t string) (int, bool) {
	if t == "" || (t[0] != '+' && t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		return 0, false
	}
	n, err := strconv.Atoi(t)
	return n, err == nil
}

// sortOperations orders operations by path, comparing array indexes as numbers, so
// the same object always gets the same patch (the diff walks maps) and appends to
// one array stay in ascending index order.
func sortOperations(ops []pathOp) {
	sort.SliceStable(ops, func(i, j int) bool {
		a, b := ops[i].tokens, ops[j].tokens
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k].s == b[k].s {
				continue
			}
			if a[k].isNum && b[k].isNum {
				return a[k].n < b[k].n
			}
			return a[k].s < b[k].s
		}
		return len(a) < len(b)
	})
}

// document is an encoded document decoded as far as the operations' paths
// need: an object's members are decoded one by one, the first time a path goes
// into them, so the metadata an API server sends, half of a request, is not
// decoded when no operation goes there.
type document struct {
	members map[string]json.RawMessage // nil unless the document is an object
	decoded map[string]any
	whole   any // a document that is not an object
}

// newDocument splits raw into its members; any other value it decodes whole.
// Invalid JSON gets encoding/json's message.
func newDocument(raw []byte) (*document, error) {
	d := &document{}
	if first := bytes.TrimLeft(raw, " \t\r\n"); len(first) > 0 && first[0] == '{' {
		d.decoded = map[string]any{}
		return d, decode(raw, &d.members)
	}
	return d, decode(raw, &d.whole)
}

// decode is json.Unmarshal into a fresh map or any, in one pass of
// encoding/json/v2 when that reads raw the same way: no name twice (where
// encoding/json takes the last) and valid UTF-8 (which it replaces). Both give
// the same types, float64 numbers included. Anything else encoding/json
// decodes, with its own messages.
func decode[T any](raw []byte, v *T) error {
	if jsonv2.Unmarshal(raw, v) == nil {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(raw, v)
}

// walk follows tokens as far as the decoded document has them: an object's
// member unless it is null (the last of duplicate names counts), an array's
// element at an index strconv.Atoi reads, null included. It returns how many
// tokens it followed and the value it reached.
func (d *document) walk(tokens []string) (int, any, error) {
	cur, n := d.whole, 0
	if d.members != nil && len(tokens) > 0 {
		v, ok := d.decoded[tokens[0]]
		if !ok {
			raw, ok := d.members[tokens[0]]
			if !ok {
				return 0, nil, nil
			}
			if err := decode(raw, &v); err != nil {
				return 0, nil, err
			}
			d.decoded[tokens[0]] = v
		}
		if v == nil {
			return 0, nil, nil
		}
		cur, n = v, 1
	}
	for _, t := range tokens[n:] {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok || v == nil {
				return n, cur, nil
			}
			cur = v
		case []any:
			i, ok := atoi(t)
			if !ok || i < 0 || i >= len(c) {
				return n, cur, nil
			}
			cur = c[i]
		default:
			return n, cur, nil
		}
		n++
	}
	return n, cur, nil
}

// firstMissingParent returns the index of the first token, excluding the last,
// that does not exist in doc, or -1 when every parent exists.
func firstMissingParent(doc *document, tokens []string) (int, error) {
	if len(tokens) < 2 {
		return -1, nil
	}
	n, _, err := doc.walk(tokens[:len(tokens)-1])
	if err != nil || n == len(tokens)-1 {
		return -1, err
	}
	return n, nil
}
