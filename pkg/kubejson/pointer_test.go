package kubejson_test

import (
	"testing"

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
