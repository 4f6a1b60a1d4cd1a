package manifest_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/manifest"
)

func op(kind, path string, value any) jsonpatch.JsonPatchOperation {
	return jsonpatch.NewOperation(kind, path, value)
}

func patch(t *testing.T, in string, ops ...jsonpatch.JsonPatchOperation) (string, bool) {
	t.Helper()
	docs := manifest.Split([]byte(in))
	require.Len(t, docs, 1)
	out, kept, err := docs[0].Patch(ops)
	require.NoError(t, err)
	return string(out), kept
}

func TestPatchKeepsCommentsOrderAndStyle(t *testing.T) {
	in := `# Source: laminar/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api # the name
spec:
  replicas: 3
  strategy: {type: RollingUpdate}
  template:
    spec:
      containers:
      - name: api
        # the arguments
        args: ["api", "--listen=:8000"]
        ports:
        - containerPort: 8000
`
	out, kept := patch(t, in,
		op("add", "/spec/template/spec/terminationGracePeriodSeconds", 60),
		op("add", "/spec/strategy/rollingUpdate", map[string]any{"maxUnavailable": 0, "maxSurge": 1}),
		op("add", "/spec/template/spec/containers/0/args/-", "--leader-elect=true"),
		op("add", "/spec/template/spec/containers/0/resources", map[string]any{"requests": map[string]any{"cpu": "500m"}}),
		op("replace", "/spec/replicas", 4),
		op("add", "/metadata/labels", map[string]any{"on": "on", "n": "1"}),
	)
	assert.True(t, kept)
	assert.Equal(t, `# Source: laminar/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api # the name
  labels:
    "n": "1"
    "on": "on"
spec:
  replicas: 4
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    spec:
      containers:
      - name: api
        # the arguments
        args: ["api", "--listen=:8000", "--leader-elect=true"]
        ports:
        - containerPort: 8000
        resources:
          requests:
            cpu: 500m
      terminationGracePeriodSeconds: 60
`, out)
}

func TestPatchIndentation(t *testing.T) {
	in := "spec:\n    containers:\n        -   name: a\n"
	out, kept := patch(t, in, op("add", "/spec/replicas", 2))
	assert.True(t, kept)
	assert.Equal(t, "spec:\n    containers:\n        - name: a\n    replicas: 2\n", out)
}

// TestPatchOrderDoesNotMatter: the engine's patch library orders operations on
// new keys by map iteration; the output must not change with it.
func TestPatchOrderDoesNotMatter(t *testing.T) {
	in := "a: {}\nb:\n  c: 1\n"
	ops := []jsonpatch.JsonPatchOperation{
		op("add", "/a/z", 1), op("add", "/a/y", 2), op("add", "/a/x", 3),
		op("add", "/b/w", 4), op("add", "/b/v", 5), op("add", "/d", 6),
	}
	want, _ := patch(t, in, ops...)
	for i := 0; i < 20; i++ {
		rand.Shuffle(len(ops), func(a, b int) { ops[a], ops[b] = ops[b], ops[a] })
		got, _ := patch(t, in, ops...)
		require.Equal(t, want, got)
	}
	assert.Equal(t, "a:\n  x: 3\n  \"y\": 2\n  z: 1\nb:\n  c: 1\n  v: 5\n  w: 4\nd: 6\n", want, "an empty {} grows into a block")
}

func TestPatchJSONDocumentStaysJSON(t *testing.T) {
	in := `{"kind": "X", "spec": {"b": 1, "a": [1]}}`
	out, kept := patch(t, in, op("add", "/spec/c", map[string]any{"on": true}), op("add", "/spec/a/-", 2))
	assert.True(t, kept)
	assert.Equal(t, `{
  "kind": "X",
  "spec": {
    "b": 1,
    "a": [
      1,
      2
    ],
    "c": {
      "on": true
    }
  }
}
`, out)
	assert.True(t, manifest.IsJSON([]byte(out)))
}

// TestPatchFallsBack: where the node tree would not say what the patch says, the
// object is written afresh, and the result still decodes to the patched object.
func TestPatchFallsBack(t *testing.T) {
	cases := map[string]struct {
		in  string
		ops []jsonpatch.JsonPatchOperation
	}{
		"anchor shared by two places": {
			in:  "# head\na: &x {k: 1}\nb: *x\n",
			ops: []jsonpatch.JsonPatchOperation{op("add", "/a/j", 2)},
		},
		"merge key": {
			in:  "base: &b {k: 1}\nc:\n  <<: *b\n  m: 2\n",
			ops: []jsonpatch.JsonPatchOperation{op("replace", "/c/k", 5)},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, kept := patch(t, c.in, c.ops...)
			assert.False(t, kept)
			js, err := yaml.YAMLToJSON([]byte(c.in))
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, json.Unmarshal(js, &doc))
			got, err := yaml.YAMLToJSON([]byte(out))
			require.NoError(t, err)
			var after map[string]any
			require.NoError(t, json.Unmarshal(got, &after))
			switch name {
			case "anchor shared by two places":
				assert.Equal(t, map[string]any{"k": 1.0, "j": 2.0}, after["a"])
				assert.Equal(t, map[string]any{"k": 1.0}, after["b"])
				assert.Contains(t, out, "# head\n", "comments above the object survive")
			case "merge key":
				assert.Equal(t, 5.0, after["c"].(map[string]any)["k"])
			}
		})
	}
}

func TestPatchRemoveAndReplace(t *testing.T) {
	out, kept := patch(t, "a:\n  - 1\n  - 2 # two\n  - 3\nb: x\nc: y\n",
		op("remove", "/a/0", nil), op("replace", "/a/0", 20), op("remove", "/b", nil))
	assert.True(t, kept)
	assert.Equal(t, "a:\n  - 20 # two\n  - 3\nc: y\n", out)
}

func TestPatchErrors(t *testing.T) {
	docs := manifest.Split([]byte("a: 1\n"))
	_, _, err := docs[0].Patch([]jsonpatch.JsonPatchOperation{op("replace", "/missing/x", 1)})
	assert.ErrorContains(t, err, "apply patch")
	_, _, err = manifest.Split([]byte("a: [\n"))[0].Patch(nil)
	assert.ErrorContains(t, err, "not YAML or JSON")
}

func TestPatchCRLF(t *testing.T) {
	out, kept := patch(t, "# head\r\na: 1 # one\r\n", op("add", "/b", 2))
	assert.True(t, kept)
	assert.Equal(t, "# head\r\na: 1 # one\r\nb: 2\r\n", out)
}
