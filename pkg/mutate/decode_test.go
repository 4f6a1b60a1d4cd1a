package mutate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// decode MUST read every document as encoding/json does, whichever pass reads it.
func TestDecodeReadsAsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"b":[1.5,"x",null,true],"c":{"d":{}}}`,
		`{"a":1,"a":2}`,              // the last wins
		"{\"a\":\"b\xffc\"}",         // replaced by U+FFFD
		`{"a":12345678901234567890}`, // a float64
		`[1,{"a":null}]`,
		`{"a":`,
		`{"a":1e400}`,
	} {
		var want, got any
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := decode([]byte(in), &got)
		assert.Equal(t, want, got, in)
		if wantErr == nil {
			assert.NoError(t, gotErr, in)
		} else {
			assert.EqualError(t, gotErr, wantErr.Error(), in)
		}

		var wantM, gotM map[string]json.RawMessage
		wantErr = json.Unmarshal([]byte(in), &wantM)
		gotErr = decode([]byte(in), &gotM)
		assert.Equal(t, wantM, gotM, in)
		assert.Equal(t, wantErr == nil, gotErr == nil, in)
	}
}
