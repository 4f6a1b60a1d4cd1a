package offline

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strconv"

	"gomodules.xyz/jsonpatch/v2"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/report"
)

// MutateStats counts what Mutate did.
type MutateStats struct {
	Documents int // documents written
	Mutated   int // Laminar objects the webhook would patch
}

// Mutate writes the sources to w as one YAML stream, in input order, with every
// Laminar object as the mutating webhook would leave it: the object as written
// with the webhook's JSON patch applied, the same patch the admission handler
// returns (none where mutation is off in the object's namespace, from a
// trusted Namespace object in the input or the policy's default), with
// exemptions judged at opts.Clock's time. opts.AsWritten does not apply. Every other document — other kinds, objects that are not Laminar's,
// Laminar objects already complete, comment-only documents, and documents that
// cannot be read — is written byte for byte as it came, with its own separator
// line; documents holding only blank lines are dropped. Documents are separated
// by "---". The returned errors are the inputs and documents that could not be
// read; err is a write error.
func Mutate(w io.Writer, srcs []Source, opts Options) (stats MutateStats, errs []report.InputError, err error) {
	out := bufio.NewWriter(w)
	sources, e := newEngine(srcs, opts)
	for _, src := range sources {
		if src.Err != nil {
			errs = append(errs, report.InputError{File: src.Name, Message: src.Err.Error()})
			continue
		}
		for _, pd := range src.docs {
			doc := pd.doc
			if len(bytes.TrimSpace(doc.Text)) == 0 {
				continue
			}
			text, docErrs := mutateDocument(src.Name, pd, e, &stats)
			errs = append(errs, docErrs...)
			switch {
			case len(doc.Separator) > 0:
				out.Write(doc.Separator)
				if !bytes.HasSuffix(doc.Separator, []byte("\n")) {
					out.WriteByte('\n')
				}
			case stats.Documents > 0:
				out.WriteString("---\n")
			}
			out.Write(text)
			if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
				out.WriteByte('\n')
			}
			stats.Documents++
		}
	}
	return stats, errs, out.Flush()
}

// mutateDocument returns the document's new text: its own text when nothing in it
// is patched or it cannot be read.
func mutateDocument(file string, pd parsedDoc, e engine, stats *MutateStats) ([]byte, []report.InputError) {
	doc, content := pd.doc, pd.content
	if doc.Blank() {
		return doc.Text, nil
	}
	if err := pd.err; err != nil {
		line, msg := yamlErrorLine(doc, err)
		return doc.Text, []report.InputError{{File: file, Document: doc.Index, Line: line, Message: msg}}
	}
	var errs []report.InputError
	var ops []jsonpatch.JsonPatchOperation
	var loc *manifest.Locator
	mutated := 0
	for _, o := range content.Objects {
		if o.Err != nil {
			if loc == nil {
				loc = manifest.NewLocator(doc)
			}
			errs = append(errs, report.InputError{File: file, Document: doc.Index, Item: o.Item, Line: loc.Object(o.Item).Line, Message: o.Err.Error()})
			continue
		}
		v, err := e.mutateObject(o)
		if err != nil {
			errs = append(errs, report.InputError{File: file, Document: doc.Index, Item: o.Item, Message: err.Error()})
			continue
		}
		if v == nil || v.Mutation == nil || len(v.Mutation.Patch) == 0 {
			continue
		}
		res := v.Mutation
		mutated++
		prefix := ""
		if o.Item > 0 {
			prefix = "/items/" + strconv.Itoa(o.Item-1)
		}
		for _, op := range res.Patch {
			op.Path = prefix + op.Path
			ops = append(ops, op)
		}
	}
	if len(errs) > 0 || len(ops) == 0 {
		return doc.Text, errs
	}
	text, _, err := doc.Patch(ops)
	if err != nil {
		return doc.Text, []report.InputError{{File: file, Document: doc.Index, Message: "mutate: " + err.Error()}}
	}
	stats.Mutated += mutated
	return text, nil
}

// yamlLine finds the line a YAML parser names in its error, counted from the
// start of the document.
var yamlLine = regexp.MustCompile(`yaml: line (\d+):`)

// yamlErrorLine returns the stream line of a document's parse error and the
// message with the parser's document-relative line made a stream line, so that
// "file:line" and the message agree.
func yamlErrorLine(doc manifest.Document, err error) (int, string) {
	msg := err.Error()
	line := doc.ContentLine()
	if line == 0 {
		line = doc.Line
	}
	m := yamlLine.FindStringSubmatchIndex(msg)
	if m == nil {
		return line, msg
	}
	n, convErr := strconv.Atoi(msg[m[2]:m[3]])
	if convErr != nil {
		return line, msg
	}
	abs := doc.Line + n - 1
	return abs, msg[:m[2]] + strconv.Itoa(abs) + msg[m[3]:]
}
