package manifest

import (
	"bytes"
	"strings"
)

// Document is one document of a YAML stream, exactly as written.
type Document struct {
	// Index is the document's 1-based position in its stream. It is 0 for text
	// before the first separator that holds only comments and blank lines (a
	// licence header, say), which YAML does not count as a document.
	Index int
	// Separator is the line that opened the document ("---\n", possibly with a
	// comment after the dashes); empty for the first document of a stream that
	// does not start with one.
	Separator []byte
	// Text is the document without its separator line.
	Text []byte
	// Line is the 1-based line of the stream on which Text starts.
	Line int
}

// Split cuts a YAML stream into documents on separator lines: a line that starts
// with "---" followed by nothing but blanks or a comment, the rule kubectl's and
// kustomize's readers follow. Cutting the text, rather than letting a parser walk
// the stream, keeps one broken document from hiding the others and keeps every
// document's original bytes. A JSON object is one document. A UTF-8 byte order
// mark at the start is dropped.
//
// apimachinery's readers (k8s.io/apimachinery/pkg/util/yaml) cut streams too,
// but give neither what the callers need nor YAML's rule. NewYAMLReader, which
// kubectl uses, returns each document's lines re-terminated with "\n" (CRLF and
// a missing final newline are lost), drops separator lines except a leading one,
// which stays in the first document, returns the second of two consecutive
// separators as a document, and fails the rest of the stream at a line such as
// "---x". NewDocumentDecoder keeps the bytes except the newline that ends each
// document, and cuts at any line starting with "---" ("----", which YAML reads
// as text, included) but not at a separator on the first line. Neither tells a
// document's separator, exact text, line or number, which every report and the
// mutate command (writing untouched documents back byte for byte) need; so the
// cut is made here, on the lines bytes.Lines gives.
func Split(data []byte) []Document {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var docs []Document
	cur := Document{Line: 1}
	start, off, line := 0, 0, 1 // start: offset of cur.Text in data
	for l := range bytes.Lines(data) {
		off += len(l)
		line++
		if isSeparator(l) {
			cur.Text = data[start : off-len(l)]
			docs = append(docs, cur)
			cur = Document{Separator: l, Line: line}
			start = off
		}
	}
	cur.Text = data[start:]
	docs = append(docs, cur)

	n := 0
	for i := range docs {
		if i == 0 && len(docs[0].Separator) == 0 && docs[0].Blank() {
			continue
		}
		n++
		docs[i].Index = n
	}
	if len(docs) > 0 && docs[0].Index == 0 && len(docs[0].Text) == 0 {
		docs = docs[1:]
	}
	return docs
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := strings.TrimSpace(string(line[3:]))
	return rest == "" || strings.HasPrefix(rest, "#")
}

// Blank reports whether the document holds only blank lines and comments.
func (d Document) Blank() bool {
	return d.ContentLine() == 0
}

// ContentLine is the stream line of the document's first line that is neither
// blank nor a comment, or 0 when there is none.
func (d Document) ContentLine() int {
	for i, l := range lines(d.Text) {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return d.Line + i
		}
	}
	return 0
}

// HelmSource is the template a document came from, as `helm template` writes it in
// a "# Source: chart/templates/file.yaml" comment above the object; empty if none.
func (d Document) HelmSource() string {
	for _, l := range lines(d.Text) {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "#") {
			break
		}
		if s, ok := strings.CutPrefix(t, "# Source:"); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func lines(b []byte) []string {
	return strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}
