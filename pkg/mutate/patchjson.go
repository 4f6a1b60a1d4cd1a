package mutate

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"gomodules.xyz/jsonpatch/v2"
)

// EncodePatch is json.Marshal(ops), byte for byte, as admission.Response
// encodes its Patches, without the round trips it takes: every operation's
// MarshalJSON marshals a struct whose output is validated and compacted again,
// and the values the typed diff already holds encoded (json.RawMessage) are
// compacted twice more. Here each value is compacted and HTML-escaped once, as
// encoding/json does with a Marshaler's output, and anything else is
// json.Marshal's. Its measured gain is in docs/performance.md.
func EncodePatch(ops []jsonpatch.Operation) ([]byte, error) {
	if ops == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	size := 2
	for i := range ops {
		size += 32 + len(ops[i].Path)
		if raw, ok := ops[i].Value.(json.RawMessage); ok {
			size += len(raw)
		}
	}
	b.Grow(size)
	b.WriteByte('[')
	for i := range ops {
		op := &ops[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"op":`)
		if err := writeString(&b, op.Operation); err != nil {
			return nil, err
		}
		b.WriteString(`,"path":`)
		if err := writeString(&b, op.Path); err != nil {
			return nil, err
		}
		// As Operation.MarshalJSON: an add or a replace says "value" even when null.
		if op.Value != nil || op.Operation == "add" || op.Operation == "replace" {
			b.WriteString(`,"value":`)
			if err := writeValue(&b, op.Value); err != nil {
				return nil, fmt.Errorf("patch operation %s %s: %w", op.Operation, op.Path, err)
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any) error {
	raw, isRaw := v.(json.RawMessage)
	if !isRaw || raw == nil {
		out, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(out)
		return nil
	}
	if !bytes.ContainsAny(raw, " \t\r\n") && jsontext.Value(raw).IsValid(asEncodingJSONReads...) {
		// Compact already, as the typed diff's values always are: what
		// encoding/json's own scanner would have checked and left as it is.
		json.HTMLEscape(b, raw)
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return err
	}
	json.HTMLEscape(b, compact.Bytes())
	return nil
}

// asEncodingJSONReads makes jsontext accept what encoding/json's scanner
// accepts: a name written twice, and invalid UTF-8 in strings.
var asEncodingJSONReads = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// writeString writes s quoted as encoding/json quotes it: the bytes as they
// are when none needs escaping (a pointer into an object nearly always),
// else json.Marshal's escapes.
func writeString(b *bytes.Buffer, s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, err := json.Marshal(s)
			if err != nil {
				return err
			}
			b.Write(out)
			return nil
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
	return nil
}
