package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/manifest"
)

const locateStream = `# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: laminar-api
  labels:
    app.kubernetes.io/name: laminar
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: sidecar
      - name: api
        args: ["api", "--listen=:8000"]
        env:
          - name: A
            value: b
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: StatefulSet
    spec:
      replicas: &r 1
      other: *r
`

func TestLocator(t *testing.T) {
	docs := manifest.Split([]byte(locateStream))
	require.Len(t, docs, 2)
	first, list := manifest.NewLocator(docs[0]), manifest.NewLocator(docs[1])

	assert.Equal(t, manifest.Position{Line: 2, Column: 1}, first.Object(0))
	cases := []struct {
		path string
		line int
		col  int
		ok   bool
	}{
		{"kind", 3, 1, true},
		{"spec.replicas", 9, 3, true},
		{"metadata.labels[app.kubernetes.io/name]", 7, 5, true},
		{"spec.template.spec.containers[1]", 14, 9, true},
		{"spec.template.spec.containers[1].args[1]", 15, 23, true},
		{"spec.template.spec.containers[1].env[0].value", 18, 13, true},
		// Not written: the nearest written ancestor.
		{"spec.template.spec.containers[1].livenessProbe", 14, 9, true},
		{"spec.template.spec.affinity.podAntiAffinity", 11, 5, true},
		{"spec.template.spec.containers[7]", 12, 7, true},
		{"status", 2, 1, false},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			pos, ok := first.Field(0, c.path)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, manifest.Position{Line: c.line, Column: c.col}, pos)
		})
	}

	assert.Equal(t, manifest.Position{Line: 23, Column: 5}, list.Object(1))
	pos, ok := list.Field(1, "spec.replicas")
	assert.True(t, ok)
	assert.Equal(t, 26, pos.Line)
	pos, ok = list.Field(1, "spec.other")
	assert.True(t, ok, "aliases resolve")
	assert.Equal(t, 27, pos.Line)
	assert.Equal(t, manifest.Position{Line: 20, Column: 1}, list.Object(2), "no such item: the document")
}

func TestLocatorOnBrokenYAML(t *testing.T) {
	docs := manifest.Split([]byte("a: 1\n---\n# head\nkind: [\n"))
	require.Len(t, docs, 2)
	l := manifest.NewLocator(docs[1])
	assert.Equal(t, manifest.Position{Line: 4, Column: 1}, l.Object(0))
	pos, ok := l.Field(0, "kind")
	assert.False(t, ok)
	assert.Equal(t, 4, pos.Line)
}
