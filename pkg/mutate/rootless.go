package mutate

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// pathNode is a member or element the operations' parents go through, in a
// tree of their paths.
type pathNode struct {
	children map[string]*pathNode
	// adds are the names "add" operations write into this node.
	adds  [][]byte
	found bool
}

func (n *pathNode) child(token string) *pathNode {
	if n.children == nil {
		n.children = map[string]*pathNode{}
	}
	c := n.children[token]
	if c == nil {
		c = &pathNode{}
		n.children[token] = c
	}
	return c
}

// nothingToRoot reports whether rootPatch would return ops as they are, only
// sorted: in the request, every operation's parent exists, and no object an
// "add" writes into holds a case variant of the added name. That is so for
// everything the API server sends (it encodes the typed object), and it is
// found in one scan of request that descends only into the members on the
// operations' paths, decoding nothing.
//
// It answers false for anything it does not read exactly as document.walk
// does — a null or a scalar on a path, a name written twice, an index other
// than plain digits, invalid JSON, a document that is not an object — and
// rootPatch then takes its general path, with its errors.
func nothingToRoot(request []byte, ops []pathOp) bool {
	root := &pathNode{}
	for _, op := range ops {
		tokens := op.tokens
		if len(tokens) == 0 {
			continue
		}
		n := root
		for _, t := range tokens[:len(tokens)-1] {
			n = n.child(t.s)
		}
		if op.op.Operation == "add" {
			n.adds = append(n.adds, []byte(tokens[len(tokens)-1].s))
		}
	}
	// A name twice or invalid UTF-8 where no path goes is no matter: the
	// general path reads those members as encoding/json does and walks past
	// them. On the paths, visit refuses both itself.
	dec := jsontext.NewDecoder(bytes.NewBuffer(request), // read in place, not copied
		jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if dec.PeekKind() != '{' || !visit(dec, root) {
		return false
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return false // something after the document
	}
	return allFound(root)
}

// visit reads the value dec is at as node n, descending into n's children.
func visit(dec *jsontext.Decoder, n *pathNode) bool {
	n.found = true
	if len(n.children) == 0 && len(n.adds) == 0 {
		return dec.PeekKind() != 'n' && dec.SkipValue() == nil
	}
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return false
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil || name.Kind() != '"' {
				return false
			}
			s := name[1 : len(name)-1]
			if bytes.IndexByte(s, '\\') >= 0 {
				if s, err = jsontext.AppendUnquote(nil, name); err != nil {
					return false
				}
			}
			if !utf8.Valid(s) {
				return false // encoding/json would read another name
			}
			for _, a := range n.adds {
				if !bytes.Equal(s, a) && bytes.EqualFold(s, a) {
					return false // a case variant to drop
				}
			}
			if c := n.children[string(s)]; c != nil {
				if c.found || !visit(dec, c) {
					// c.found: the name is written twice; the last counts.
					return false
				}
			} else if dec.SkipValue() != nil {
				return false
			}
		}
		_, err := dec.ReadToken()
		return err == nil
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return false
		}
		for i := 0; dec.PeekKind() != ']'; i++ {
			if c := n.children[strconv.Itoa(i)]; c != nil {
				if !visit(dec, c) {
					return false
				}
			} else if dec.SkipValue() != nil {
				return false
			}
		}
		_, err := dec.ReadToken()
		return err == nil
	}
	// A scalar or null holds no children; walk would stop at it.
	return len(n.children) == 0 && dec.PeekKind() != 'n' && dec.SkipValue() == nil
}

// allFound reports whether every node of the tree was read; a child found
// under an array by a token that is not plain digits never is.
func allFound(n *pathNode) bool {
	if !n.found {
		return false
	}
	for _, c := range n.children {
		if !allFound(c) {
			return false
		}
	}
	return true
}
