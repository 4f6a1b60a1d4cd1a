package kubejson

import (
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-openapi/jsonpointer"
)

// SplitPointer decodes an RFC 6901 JSON pointer, the path of a JSON patch
// operation, into its reference tokens: "" is the whole document (no tokens),
// "/a~1b/0" is ["a/b", "0"]. A pointer that is not "" and does not start with
// "/" is an error.
//
// A valid pointer is split by jsontext.Pointer, which allocates the tokens
// only; anything else is go-openapi's, with its errors (the two agree on every
// pointer jsontext calls valid: TestSplitPointerAgreesWithGoOpenAPI).
func SplitPointer(p string) ([]string, error) {
	if ptr := jsontext.Pointer(p); ptr.IsValid() {
		out := make([]string, 0, strings.Count(p, "/"))
		for t := range ptr.Tokens() {
			out = append(out, t)
		}
		return out, nil
	}
	ptr, err := jsonpointer.New(p)
	if err != nil {
		return nil, fmt.Errorf("JSON pointer %q: %w", p, err)
	}
	return ptr.DecodedTokens(), nil
}
