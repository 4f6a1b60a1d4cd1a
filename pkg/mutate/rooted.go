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
func rootPatch(request, mutated []byte, ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, error) {
	var doc, after any
	if err := json.Unmarshal(request, &doc); err != nil {
		return nil, fmt.Errorf("request object: %w", err)
	}
	out := make([]jsonpatch.JsonPatchOperation, 0, len(ops))
	added := map[string]bool{}
	for _, op := range ops {
		tokens := splitPointer(op.Path)
		missing := firstMissingParent(doc, tokens)
		if missing < 0 {
			out = append(out, op)
			continue
		}
		path := joinPointer(tokens[:missing+1])
		if added[path] {
			continue
		}
		if after == nil {
			// Decoded only when needed: a request from the API server has every parent.
			if err := json.Unmarshal(mutated, &after); err != nil {
				return nil, fmt.Errorf("mutated object: %w", err)
			}
		}
		v, ok := lookup(after, tokens[:missing+1])
		if !ok {
			return nil, fmt.Errorf("patch path %s is not in the mutated object", op.Path)
		}
		added[path] = true
		out = append(out, jsonpatch.NewOperation("add", path, v))
	}
	sortOperations(out)
	return out, nil
}

// sortOperations orders operations by path, comparing array indexes as numbers, so
// the same object always gets the same patch (the diff library walks Go maps) and
// appends to one array stay in ascending index order.
func sortOperations(ops []jsonpatch.JsonPatchOperation) {
	sort.SliceStable(ops, func(i, j int) bool {
		a, b := splitPointer(ops[i].Path), splitPointer(ops[j].Path)
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] == b[k] {
				continue
			}
			na, errA := strconv.Atoi(a[k])
			nb, errB := strconv.Atoi(b[k])
			if errA == nil && errB == nil {
				return na < nb
			}
			return a[k] < b[k]
		}
		return len(a) < len(b)
	})
}

// firstMissingParent returns the index of the first token, excluding the last,
// that does not exist in doc, or -1 when every parent exists.
func firstMissingParent(doc any, tokens []string) int {
	cur := doc
	for i := 0; i < len(tokens)-1; i++ {
		next, ok := step(cur, tokens[i])
		if !ok {
			return i
		}
		cur = next
	}
	return -1
}

func lookup(doc any, tokens []string) (any, bool) {
	cur := doc
	for _, t := range tokens {
		next, ok := step(cur, t)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func step(cur any, token string) (any, bool) {
	switch c := cur.(type) {
	case map[string]any:
		v, ok := c[token]
		return v, ok && v != nil
	case []any:
		i, err := strconv.Atoi(token)
		if err != nil || i < 0 || i >= len(c) {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

// splitPointer decodes an RFC 6901 JSON pointer.
func splitPointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
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
