package manifest

import (
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// Position is a place in a stream: 1-based line and column (in characters).
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Locator finds where objects and fields are written in a document.
type Locator struct {
	doc  Document
	root *yamlv3.Node // the document's top node; nil when it did not parse
}

// NewLocator parses the document's text once for position lookups. A document the
// YAML parser rejects still gets a Locator, which answers with its first line.
func NewLocator(d Document) *Locator {
	l := &Locator{doc: d}
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(d.Text, &n); err == nil && n.Kind == yamlv3.DocumentNode && len(n.Content) > 0 {
		l.root = n.Content[0]
	}
	return l
}

// Object is where the object starts: the document, or item (1-based) of its List.
func (l *Locator) Object(item int) Position {
	if n := l.itemNode(item); n != nil {
		return l.pos(n)
	}
	return Position{Line: l.doc.ContentLine(), Column: 1}
}

// Field is the position of a field, given as a Kubernetes field path
// (spec.template.spec.containers[0].args[2], metadata.labels[app]), in the object
// at item (0 for the document itself). A field that is not written in the document
// — a required field left out, or one mutation added — gets the position of its
// deepest ancestor that is. ok is false when nothing but the object could be found.
func (l *Locator) Field(item int, path string) (pos Position, ok bool) {
	n := l.itemNode(item)
	if n == nil {
		return l.Object(item), false
	}
	pos = l.pos(n)
	for _, t := range splitFieldPath(path) {
		n = resolve(n)
		switch n.Kind {
		case yamlv3.MappingNode:
			k, v := mapLookup(n, t)
			if k == nil {
				return pos, ok
			}
			pos, ok, n = l.pos(k), true, v
		case yamlv3.SequenceNode:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(n.Content) {
				return pos, ok
			}
			n = n.Content[i]
			pos, ok = l.pos(n), true
		default:
			return pos, ok
		}
	}
	return pos, ok
}

func (l *Locator) itemNode(item int) *yamlv3.Node {
	n := resolve(l.root)
	if n == nil || item == 0 {
		return n
	}
	if n.Kind != yamlv3.MappingNode {
		return nil
	}
	_, items := mapLookup(n, "items")
	items = resolve(items)
	if items == nil || items.Kind != yamlv3.SequenceNode || item > len(items.Content) {
		return nil
	}
	return items.Content[item-1]
}

func (l *Locator) pos(n *yamlv3.Node) Position {
	return Position{Line: l.doc.Line + n.Line - 1, Column: n.Column}
}

// resolve follows an alias to the node it names.
func resolve(n *yamlv3.Node) *yamlv3.Node {
	for n != nil && n.Kind == yamlv3.AliasNode {
		n = n.Alias
	}
	return n
}

// mapLookup returns the key and value nodes of key in a mapping node.
func mapLookup(m *yamlv3.Node, key string) (k, v *yamlv3.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if kn := resolve(m.Content[i]); kn.Kind == yamlv3.ScalarNode && kn.Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// splitFieldPath splits a Kubernetes field path (as field.Path renders it) into
// its steps: names separated by dots, and indexes or map keys in brackets, where
// a key may itself contain dots (metadata.labels[app.kubernetes.io/name]).
func splitFieldPath(p string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '.':
			flush()
		case '[':
			flush()
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				cur.WriteString(p[i+1:])
				i = len(p)
				continue
			}
			out = append(out, p[i+1:i+end])
			i += end
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}
