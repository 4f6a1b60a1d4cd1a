package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/laminar/ha-webhook/pkg/manifest"
)

// TestObjectsReadFieldsAsTheAPIServerDoes: a field is read under its exact name
// only, and one written twice is an error rather than a guess.
func TestObjectsReadFieldsAsTheAPIServerDoes(t *testing.T) {
	read := func(t *testing.T, in string) (manifest.Content, error) {
		t.Helper()
		docs := manifest.Split([]byte(in))
		require.Len(t, docs, 2)
		return docs[1].Objects()
	}
	const head = "# first\n---\n"

	t.Run("a case variant beside the field", func(t *testing.T) {
		c, err := read(t, head+"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  Replicas: 3\n")
		require.NoError(t, err)
		require.Len(t, c.Objects, 1)
		assert.EqualError(t, c.Objects[0].Err,
			`Deployment: object does not fit apps/v1 Deployment: field "spec.Replicas" duplicates "spec.replicas" (field names are case-sensitive)`)
	})
	t.Run("a case variant alone is not the field", func(t *testing.T) {
		c, err := read(t, head+"apiVersion: apps/v1\nkind: Deployment\nspec:\n  Replicas: 3\n")
		require.NoError(t, err)
		require.Len(t, c.Objects, 1)
		require.NoError(t, c.Objects[0].Err)
		assert.Nil(t, c.Objects[0].Typed.(*appsv1.Deployment).Spec.Replicas)
	})
	t.Run("a case variant of kind", func(t *testing.T) {
		c, err := read(t, head+"apiVersion: apps/v1\nkind: Deployment\nKind: StatefulSet\n")
		require.NoError(t, err)
		require.Len(t, c.Objects, 1)
		assert.Equal(t, "Deployment", c.Objects[0].GVK.Kind)
		assert.ErrorContains(t, c.Objects[0].Err, `field "Kind" duplicates "kind"`)
	})
	t.Run("in a List item, the item's error", func(t *testing.T) {
		c, err := read(t, head+`apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: a}
- apiVersion: apps/v1
  kind: StatefulSet
  spec: {template: {spec: {containers: [{name: a, Name: b}]}}}
`)
		require.NoError(t, err)
		require.Len(t, c.Objects, 2)
		assert.NoError(t, c.Objects[0].Err)
		assert.ErrorContains(t, c.Objects[1].Err, `field "spec.template.spec.containers[0].Name" duplicates "spec.template.spec.containers[0].name"`)
	})
	t.Run("a key written twice", func(t *testing.T) {
		_, err := read(t, head+"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  paused: true\n  replicas: 3\n")
		assert.EqualError(t, err, `duplicate key: line 8: key "replicas" already set in map`)
	})
	t.Run("a key written twice in a document without objects is not judged", func(t *testing.T) {
		c, err := read(t, head+"replicas: 1\nreplicas: 3\n")
		require.NoError(t, err)
		assert.Empty(t, c.Objects)
	})
	t.Run("a JSON key written twice", func(t *testing.T) {
		_, err := read(t, head+`{"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1", "a": "2"}}`)
		assert.EqualError(t, err, `duplicate key: line 3: key "a" already set in map`)
	})
}

func TestObjectsFromJSONWithADuplicate(t *testing.T) {
	_, err := manifest.ObjectsFromJSON([]byte(`{"apiVersion":"v1","kind":"List","items":[],"items":[]}`))
	assert.EqualError(t, err, `duplicate field "items"`)
	_, err = manifest.ObjectsFromJSON([]byte(`{"apiVersion":`))
	assert.ErrorContains(t, err, "not YAML or JSON")
}

func TestDecodeRefusesDuplicates(t *testing.T) {
	_, _, err := manifest.Decode([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  replicas: 3\n"))
	assert.EqualError(t, err, `duplicate key: line 5: key "replicas" already set in map`)
	_, _, err = manifest.Decode([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  Replicas: 3\n"))
	assert.ErrorContains(t, err, `field "spec.Replicas" duplicates "spec.replicas"`)
}
