package kubejson

import (
	"fmt"

	"github.com/go-openapi/jsonpointer"
)

// SplitPointer decodes an RFC 6901 JSON pointer, the path of a JSON patch
// operation, into its reference tokens: "" is the whole document (no tokens),
// "/a~1b/0" is ["a/b", "0"]. A pointer that is not "" and does not start with
// "/" is an error.
func SplitPointer(p string) ([]string, error) {
	ptr, err := jsonpointer.New(p)
	if err != nil {
		return nil, fmt.Errorf("JSON pointer %q: %w", p, err)
	}
	return ptr.DecodedTokens(), nil
}
