package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	evanjsonpatch "github.com/evanphx/json-patch/v5"
	yamlv3 "go.yaml.in/yaml/v3"
	"gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/kubejson"
)

// Patch applies JSON patch operations, with paths from the document's root, to the
// document and returns its new text, which always decodes to exactly the document's
// JSON with the patch applied (what an API server stores after a mutating webhook).
//
// The patch is applied to the YAML node tree, so comments, key order, quoting and
// flow style of everything it does not touch are kept, and the indentation is the
// document's own (kept reports this); keys the patch adds come after the written
// ones, sorted. A document written as JSON is written back as JSON, indented by
// two spaces. Where the node tree cannot take the patch
// faithfully — anchors and aliases, merge keys, or anything the check afterwards
// finds different — the patched object is written afresh instead: keys sorted,
// comments other than those above the object lost (kept is false).
func (d Document) Patch(ops []jsonpatch.JsonPatchOperation) (text []byte, kept bool, err error) {
	// The YAML writer knows only \n; a CRLF document is patched as LF and given
	// its CRLF back.
	if bytes.Contains(d.Text, []byte("\r\n")) {
		d.Text = bytes.ReplaceAll(d.Text, []byte("\r\n"), []byte("\n"))
		text, kept, err = d.Patch(ops)
		return bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n")), kept, err
	}
	js, err := yaml.YAMLToJSON(d.Text)
	if err != nil {
		return nil, false, fmt.Errorf("not YAML or JSON: %w", err)
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, false, err
	}
	p, err := evanjsonpatch.DecodePatch(raw)
	if err != nil {
		return nil, false, err
	}
	want, err := p.Apply(js)
	if err != nil {
		return nil, false, fmt.Errorf("apply patch: %w", err)
	}
	if out, err := patchNodes(d.Text, ops); err == nil && sameJSON(out, want) {
		return out, true, nil
	}
	if IsJSON(d.Text) {
		var out bytes.Buffer
		if err := json.Indent(&out, want, "", "  "); err != nil {
			return nil, false, err
		}
		out.WriteByte('\n')
		return out.Bytes(), false, nil
	}
	out, err := yaml.JSONToYAML(want)
	if err != nil {
		return nil, false, err
	}
	return append(d.leadingComments(), out...), false, nil
}

// leadingComments returns the comment lines above the object (Helm's "# Source:").
func (d Document) leadingComments() []byte {
	var b bytes.Buffer
	for _, l := range lines(d.Text) {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		if t != "" {
			b.WriteString(strings.TrimRight(l, "\r") + "\n")
		}
	}
	return b.Bytes()
}

func sameJSON(yamlText, want []byte) bool {
	got, err := yaml.YAMLToJSON(yamlText)
	if err != nil {
		return false
	}
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

var errNotFaithful = errors.New("the YAML node tree cannot take this patch faithfully")

// patchNodes applies the operations to the document's node tree and writes it
// back: as YAML in the document's own layout, or as indented JSON when the
// document was written as JSON.
func patchNodes(text []byte, ops []jsonpatch.JsonPatchOperation) ([]byte, error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 {
		return nil, errNotFaithful
	}
	added := map[*yamlv3.Node]bool{}
	for _, op := range ops {
		if err := applyNodeOp(doc.Content[0], op, added); err != nil {
			return nil, err
		}
	}
	sortAdded(doc.Content[0], added)
	if IsJSON(text) {
		var b bytes.Buffer
		if err := writeJSON(&b, doc.Content[0]); err != nil {
			return nil, err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
			return nil, err
		}
		out.WriteByte('\n')
		return out.Bytes(), nil
	}
	indent, compact := layout(text)
	var b bytes.Buffer
	enc := yamlv3.NewEncoder(&b)
	enc.SetIndent(indent)
	if compact {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// IsJSON reports whether a document is written as JSON rather than YAML.
func IsJSON(text []byte) bool {
	t := bytes.TrimSpace(text)
	return len(t) > 0 && t[0] == '{' && json.Valid(t)
}

// writeJSON writes a node tree as compact JSON, keeping the order of keys.
func writeJSON(b *bytes.Buffer, n *yamlv3.Node) error {
	switch n.Kind {
	case yamlv3.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k := n.Content[i]
			if k.Kind != yamlv3.ScalarNode || k.Tag == "!!merge" {
				return errNotFaithful
			}
			kj, err := json.Marshal(k.Value)
			if err != nil {
				return err
			}
			b.Write(kj)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yamlv3.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yamlv3.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		vj, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(vj)
	default:
		return errNotFaithful
	}
	return nil
}

// applyNodeOp applies one operation to the node tree; keys it adds to a mapping
// are recorded in added.
func applyNodeOp(root *yamlv3.Node, op jsonpatch.JsonPatchOperation, added map[*yamlv3.Node]bool) error {
	tokens, err := kubejson.SplitPointer(op.Path)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return errNotFaithful
	}
	parent := root
	for _, t := range tokens[:len(tokens)-1] {
		if parent, err = child(parent, t); err != nil {
			return err
		}
	}
	if parent.Kind == yamlv3.AliasNode || parent.Anchor != "" {
		return errNotFaithful
	}
	last := tokens[len(tokens)-1]
	var value *yamlv3.Node
	if op.Operation == "add" || op.Operation == "replace" {
		if value, err = toNode(op.Value); err != nil {
			return err
		}
	}
	if value != nil {
		matchQuoting(parent, value)
	}
	switch parent.Kind {
	case yamlv3.MappingNode:
		i := keyIndex(parent, last)
		switch {
		case op.Operation == "remove" && i >= 0:
			parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
		case (op.Operation == "add" || op.Operation == "replace") && i >= 0:
			keepComments(value, parent.Content[i+1])
			parent.Content[i+1] = value
		case op.Operation == "add":
			key := &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: last}
			parent.Content = append(parent.Content, key, value)
			added[key] = true
		default:
			return errNotFaithful
		}
	case yamlv3.SequenceNode:
		n := len(parent.Content)
		i, err := strconv.Atoi(last)
		if last == "-" {
			i, err = n, nil
		}
		if err != nil || i < 0 || i > n {
			return errNotFaithful
		}
		switch {
		case op.Operation == "add":
			parent.Content = append(parent.Content[:i], append([]*yamlv3.Node{value}, parent.Content[i:]...)...)
		case op.Operation == "replace" && i < n:
			keepComments(value, parent.Content[i])
			parent.Content[i] = value
		case op.Operation == "remove" && i < n:
			parent.Content = append(parent.Content[:i], parent.Content[i+1:]...)
		default:
			return errNotFaithful
		}
	default:
		return errNotFaithful
	}
	return nil
}

// sortAdded puts the keys the patch added to each mapping after the keys that were
// written, sorted, so the output does not depend on the order of the operations
// (which the patch library derives from map iteration).
func sortAdded(n *yamlv3.Node, added map[*yamlv3.Node]bool) {
	if n == nil {
		return
	}
	if n.Kind == yamlv3.MappingNode {
		var kept, fresh [][2]*yamlv3.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			pair := [2]*yamlv3.Node{n.Content[i], n.Content[i+1]}
			if added[pair[0]] {
				fresh = append(fresh, pair)
			} else {
				kept = append(kept, pair)
			}
		}
		if len(fresh) > 0 {
			sort.SliceStable(fresh, func(a, b int) bool { return fresh[a][0].Value < fresh[b][0].Value })
			n.Content = n.Content[:0]
			for _, pair := range append(kept, fresh...) {
				n.Content = append(n.Content, pair[0], pair[1])
			}
		}
	}
	for _, c := range n.Content {
		sortAdded(c, added)
	}
}

func child(n *yamlv3.Node, token string) (*yamlv3.Node, error) {
	var c *yamlv3.Node
	switch n.Kind {
	case yamlv3.MappingNode:
		if i := keyIndex(n, token); i >= 0 {
			c = n.Content[i+1]
		}
	case yamlv3.SequenceNode:
		if i, err := strconv.Atoi(token); err == nil && i >= 0 && i < len(n.Content) {
			c = n.Content[i]
		}
	}
	if c == nil || c.Kind == yamlv3.AliasNode {
		return nil, errNotFaithful
	}
	return c, nil
}

func keyIndex(m *yamlv3.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yamlv3.ScalarNode && k.Value == key {
			return i
		}
	}
	return -1
}

// matchQuoting quotes a new plain string the way its siblings' strings are
// quoted, so ["a", "b"] grows into ["a", "b", "c"], not ["a", "b", c].
func matchQuoting(parent, value *yamlv3.Node) {
	if value.Kind != yamlv3.ScalarNode || value.Tag != "!!str" || value.Style != 0 {
		return
	}
	var siblings []*yamlv3.Node
	switch parent.Kind {
	case yamlv3.SequenceNode:
		siblings = parent.Content
	case yamlv3.MappingNode:
		for i := 1; i < len(parent.Content); i += 2 {
			siblings = append(siblings, parent.Content[i])
		}
	}
	for i := len(siblings) - 1; i >= 0; i-- {
		if sib := siblings[i]; sib.Kind == yamlv3.ScalarNode && sib.Tag == "!!str" {
			if sib.Style == yamlv3.DoubleQuotedStyle || sib.Style == yamlv3.SingleQuotedStyle {
				value.Style = sib.Style
			}
			return
		}
	}
}

func keepComments(to, from *yamlv3.Node) {
	to.HeadComment, to.LineComment, to.FootComment = from.HeadComment, from.LineComment, from.FootComment
}

// toNode turns a JSON value into a YAML node, going through the same YAML writer
// as the rest of the project, so strings that look like other types are quoted.
func toNode(v any) (*yamlv3.Node, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, err
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(y, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, errNotFaithful
	}
	return doc.Content[0], nil
}

// layout guesses how the document indents: spaces per level, and whether block
// sequences sit at their parent key's column ("compact", as kubectl writes them)
// or one level in. Defaults: 2 and not compact.
func layout(text []byte) (indent int, compact bool) {
	type line struct {
		indent int
		s      string
	}
	var ls []line
	for _, l := range lines(text) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ls = append(ls, line{len(l) - len(strings.TrimLeft(l, " ")), t})
	}
	indent = 0
	seqSeen := false
	for i := 0; i+1 < len(ls); i++ {
		a, b := ls[i], ls[i+1]
		if !strings.HasSuffix(a.s, ":") || strings.HasPrefix(a.s, "- ") {
			continue
		}
		if strings.HasPrefix(b.s, "- ") || b.s == "-" {
			if !seqSeen {
				seqSeen = true
				compact = b.indent == a.indent
				if !compact && indent == 0 {
					indent = b.indent - a.indent
				}
			}
		} else if indent == 0 && b.indent > a.indent {
			indent = b.indent - a.indent
		}
		if indent > 0 && seqSeen {
			break
		}
	}
	if indent < 2 || indent > 8 {
		indent = 2
	}
	return indent, compact
}
