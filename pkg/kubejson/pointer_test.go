package kubejson_test

import (
	"fmt"
	"testing"

	"github.com/go-openapi/jsonpointer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/kubejson"
)

func TestSplitPointer(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"/", []string{""}},
		{"/spec/replicas", []string{"spec", "replicas"}},
		{"/metadata/labels/app.kubernetes.io~1name", []string{"metadata", "labels", "app.kubernetes.io/name"}},
		{"/a~0b/~01/~10", []string{"a~b", "~1", "/0"}},
		{"/items/0//x", []string{"items", "0", "", "x"}},
	}
	for _, c := range cases {
		got, err := kubejson.SplitPointer(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	_, err := kubejson.SplitPointer("spec/replicas")
	assert.ErrorContains(t, err, `JSON pointer "spec/replicas"`)
}

// Every pointer of up to five characters from an alphabet of what pointers
// escape MUST split as go-openapi splits it, or fail as it does.
func TestSplitPointerAgreesWithGoOpenAPI(t *testing.T) {
	alphabet := []string{"/", "~", "0", "1", "a", "é", "\xff"}
	var all func(prefix string, n int)
	checked := 0
	all = func(prefix string, n int) {
		want, wantErr := splitWithGoOpenAPI(prefix)
		got, gotErr := kubejson.SplitPointer(prefix)
		if wantErr != nil {
			require.Error(t, gotErr, "%q", prefix)
			require.Equal(t, wantErr.Error(), gotErr.Error())
		} else {
			require.NoError(t, gotErr, "%q", prefix)
			require.Equal(t, want, got, "%q", prefix)
		}
		checked++
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			all(prefix+c, n-1)
		}
	}
	all("", 5)
	assert.Greater(t, checked, 10000)
}

func splitWithGoOpenAPI(p string) ([]string, error) {
	ptr, err := jsonpointer.New(p)
	if err != nil {
		return nil, fmt.Errorf("JSON pointer %q: %w", p, err)
	}
	return ptr.DecodedTokens(), nil
}
