package mutate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
)

// rootPatch makes a patch computed between two typed encodings apply to the
// request's own JSON. The typed encoding always has some parents (strategy: {},
// resources: {}) that a request may leave out; an operation under such a missing
// parent becomes one "add" of the whole parent, taken from the mutated object.
// Nothing that exists in the request is replaced wholesale, so fields this build
// does not know survive.
//
// The request is not decoded: its encoding is walked along the operations'
// paths only (see node), and the mutated object only where a parent is missing.
func rootPatch(request, mutated []byte, ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, error) {
	if !json.Valid(request) {
		var doc any
		err := json.Unmarshal(request, &doc) // for encoding/json's own message
		return nil, fmt.Errorf("request object: %w", err)
	}
	doc := newNode(request)
	var after *node
	out := make([]pathOp, 0, len(ops))
	added := map[string]bool{}
	for _, op := range ops {
		tokens := splitPointer(op.Path)
		missing, err := firstMissingParent(doc, tokens)
		if err != nil {
			return nil, fmt.Errorf("request object: %w", err)
		}
		if missing < 0 {
			out = append(out, pathOp{op: op, tokens: sortTokens(tokens)})
			continue
		}
		path := joinPointer(tokens[:missing+1])
		if added[path] {
			continue
		}
		if after == nil {
			// Walked only when needed: a request from the API server has every parent.
			after = newNode(mutated)
		}
		n, ok, err := lookup(after, tokens[:missing+1])
		if err != nil {
			return nil, fmt.Errorf("mutated object: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("patch path %s is not in the mutated object", op.Path)
		}
		v, err := decodePlain(n.raw)
		if err != nil {
			return nil, fmt.Errorf("mutated object: %w", err)
		}
		added[path] = true
		out = append(out, pathOp{op: jsonpatch.NewOperation("add", path, v), tokens: sortTokens(tokens[:missing+1])})
	}
	sortOperations(out)
	res := make([]jsonpatch.JsonPatchOperation, len(out))
	for i := range out {
		res[i] = out[i].op
	}
	return res, nil
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
		if isDecimal(t) {
			out[i].n, _ = strconv.Atoi(t)
			out[i].isNum = true
		}
	}
	return out
}

// isDecimal reports whether strconv.Atoi reads t without error, without
// building the error it returns for the many tokens it does not read.
func isDecimal(t string) bool {
	s := t
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := strconv.Atoi(t) // out of range
	return err == nil
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

// node is one value of an encoded document; an object's members or an array's
// elements are listed the first time a path steps into it, once.
type node struct {
	raw   []byte
	split bool
	mem   []member
	items [][]byte
	kids  []*node
}

func newNode(raw []byte) *node { return &node{raw: raw[skipSpace(raw, 0):]} }

// step follows one reference token as the decoded document would: an object's
// member unless it is null (the last of duplicate names counts), an array's
// element at an index strconv.Atoi reads, null included.
func (n *node) step(token string) (*node, bool, error) {
	switch kindOf(n.raw) {
	case kindObject:
		if !n.split {
			var err error
			if n.mem, err = members(n.raw, nil); err != nil {
				return nil, false, err
			}
			n.kids = make([]*node, len(n.mem))
			n.split = true
		}
		for i := len(n.mem) - 1; i >= 0; i-- {
			if n.mem[i].is(token) {
				if kindOf(n.mem[i].value) == kindNull {
					return nil, false, nil
				}
				return n.kid(i, n.mem[i].value), true, nil
			}
		}
		return nil, false, nil
	case kindArray:
		if !n.split {
			var err error
			if n.items, err = elements(n.raw, nil); err != nil {
				return nil, false, err
			}
			n.kids = make([]*node, len(n.items))
			n.split = true
		}
		if !isDecimal(token) {
			return nil, false, nil
		}
		i, _ := strconv.Atoi(token)
		if i < 0 || i >= len(n.items) {
			return nil, false, nil
		}
		return n.kid(i, n.items[i]), true, nil
	}
	return nil, false, nil
}

func (n *node) kid(i int, raw []byte) *node {
	if n.kids[i] == nil {
		n.kids[i] = &node{raw: raw}
	}
	return n.kids[i]
}

// firstMissingParent returns the index of the first token, excluding the last,
// that does not exist in doc, or -1 when every parent exists.
func firstMissingParent(doc *node, tokens []string) (int, error) {
	cur := doc
	for i := 0; i < len(tokens)-1; i++ {
		next, ok, err := cur.step(tokens[i])
		if err != nil {
			return 0, err
		}
		if !ok {
			return i, nil
		}
		cur = next
	}
	return -1, nil
}

func lookup(doc *node, tokens []string) (*node, bool, error) {
	cur := doc
	for _, t := range tokens {
		next, ok, err := cur.step(t)
		if err != nil || !ok {
			return nil, false, err
		}
		cur = next
	}
	return cur, true, nil
}

// splitPointer decodes an RFC 6901 JSON pointer.
func splitPointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		if strings.IndexByte(s, '~') >= 0 {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
		}
	}
	return parts
}

func joinPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
