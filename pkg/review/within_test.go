package review

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithin(t *testing.T) {
	b := []byte(`{"object":{"a":1}}`)
	assert.True(t, within(b[10:17], b))
	assert.True(t, within(b, b))
	assert.True(t, within(b[len(b)-1:], b))
	assert.False(t, within(bytes.Clone(b[10:17]), b), "a copy")
	assert.False(t, within(b[:0], b), "empty")
	assert.False(t, within(b[10:17], nil))
	other := []byte(`{"object":{"b":2}}`)
	assert.False(t, within(other[10:17], b))
}
