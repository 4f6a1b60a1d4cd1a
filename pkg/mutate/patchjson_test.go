package mutate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// requireMarshalled holds EncodePatch to json.Marshal, which
// admission.Response used to encode the patch: the same bytes, or an error
// from both.
func requireMarshalled(t *testing.T, ops []jsonpatch.Operation, msgAndArgs ...any) {
	t.Helper()
	want, wantErr := json.Marshal(ops)
	got, gotErr := EncodePatch(ops)
	if wantErr != nil {
		require.Error(t, gotErr, msgAndArgs...)
		return
	}
	require.NoError(t, gotErr, msgAndArgs...)
	require.Equal(t, string(want), string(got), msgAndArgs...)
}

func TestEncodePatchIsJSONMarshalOnTheFixtures(t *testing.T) {
	n := 0
	forEachFixture(t, func(f string, obj runtime.Object, raw []byte) {
		js, err := yaml.YAMLToJSON(raw)
		require.NoError(t, err)
		res, err := Object(obj, js, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		if len(res.Patch) > 0 {
			requireMarshalled(t, res.Patch, f)
			n++
		}
	})
	assert.Greater(t, n, 5, "fixtures that get a patch")
}

func TestEncodePatchIsJSONMarshalOnEveryKindOfOperation(t *testing.T) {
	for name, ops := range map[string][]jsonpatch.Operation{
		"none": {},
		"nil":  nil,
		"values of every kind": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(`{"b":[1,2,{"c":null}]}`)},
			{Operation: "replace", Path: "/a/b/0", Value: json.RawMessage(`0`)},
			{Operation: "add", Path: "/m", Value: map[string]any{"z": 1.5, "a": []any{"x", true}}},
			{Operation: "add", Path: "/s", Value: "text"},
			{Operation: "remove", Path: "/r"},
		},
		"null values": {
			{Operation: "add", Path: "/a"},
			{Operation: "replace", Path: "/b"},
			{Operation: "remove", Path: "/c"},
			{Operation: "test", Path: "/d"},
			{Operation: "add", Path: "/e", Value: json.RawMessage(nil)},
			{Operation: "remove", Path: "/f", Value: json.RawMessage(`null`)},
		},
		"a value written loosely, or with HTML in it": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(" {\n\t\"b\" : [ 1 , \"<&>\" ] } ")},
			{Operation: "add", Path: "/b", Value: json.RawMessage(`"\u2028 line separator"`)},
			{Operation: "add", Path: "/c", Value: map[string]any{"<k>": "a&b"}},
		},
		"paths to escape": {
			{Operation: "add", Path: `/metadata/annotations/a~1b<&>`, Value: "x"},
			{Operation: "add", Path: `/with "quote" and \ backslash`, Value: "x"},
			{Operation: "add", Path: "/control\x01\t", Value: "x"},
			{Operation: "add", Path: "/é/ü\u2028", Value: "x"},
			{Operation: "add", Path: "/invalid\xffutf8", Value: "x"},
		},
		"what encoding/json's scanner reads and jsontext's refuses by default": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(`{"b":1,"b":2}`)},
			{Operation: "add", Path: "/b", Value: json.RawMessage("\"\xff\"")},
			{Operation: "add", Path: "/c", Value: json.RawMessage(`["a b",{"c d":"<e>"}]`)},
		},
		"invalid raw values": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(`{"b":`)},
		},
		"a raw value with something after it": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(`{}{}`)},
		},
		"a raw value that is not JSON at all": {
			{Operation: "add", Path: "/a", Value: json.RawMessage(`nil`)},
		},
		"a value json cannot encode": {
			{Operation: "add", Path: "/a", Value: make(chan int)},
		},
	} {
		t.Run(name, func(t *testing.T) { requireMarshalled(t, ops) })
	}
}

// BenchmarkEncodePatch compares EncodePatch with json.Marshal on the patch of
// the minimal api Deployment (the gain docs/performance.md gives).
func BenchmarkEncodePatch(b *testing.B) {
	obj, raw := minimalAPI(b)
	js, err := yaml.YAMLToJSON(raw)
	require.NoError(b, err)
	res, err := Object(obj, js, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(b, err)
	require.NotEmpty(b, res.Patch)
	for name, encode := range map[string]func([]jsonpatch.Operation) ([]byte, error){
		"EncodePatch":  EncodePatch,
		"json.Marshal": func(ops []jsonpatch.Operation) ([]byte, error) { return json.Marshal(ops) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encode(res.Patch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
