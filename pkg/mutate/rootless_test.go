package mutate

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

func requirePathOps(t *testing.T, ops []jsonpatch.Operation) []pathOp {
	t.Helper()
	out, err := splitPaths(ops)
	require.NoError(t, err)
	return out
}

// requireAsTheGeneralPath: when nothingToRoot says so, rooting in the decoded
// request MUST give the operations as they are, sorted.
func requireAsTheGeneralPath(t *testing.T, request, after []byte, ops []jsonpatch.Operation) bool {
	t.Helper()
	sorted, fast := asTheyAre(request, append([]jsonpatch.Operation(nil), ops...))
	general, err := rootInDocument(request, encoded(after), append([]jsonpatch.Operation(nil), ops...))
	if fast {
		require.NoError(t, err, "request=%s", request)
		require.Equal(t, general, sorted, "request=%s\nafter=%s", request, after)
	}
	return fast
}

func TestNothingToRootOnlyWhenRootingChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	fast, total := 0, 0
	for i := 0; i < 3000; i++ {
		a, ja, jb, ops := randomEdit(t, rng)
		if len(ops) == 0 {
			continue
		}
		for _, jr := range [][]byte{
			ja,
			mustMarshal(t, dropRandom(rng, deepCopy(a), 0)),
			mustIndent(t, a),
			append([]byte(`{"dup":{"x":1},"dup":null,`), ja[1:]...),
			append(append([]byte{}, ja...), " x"...),
			bytes.Replace(ja, []byte(`"a":`), []byte(`"A":1,"a":`), 1),
		} {
			total++
			if requireAsTheGeneralPath(t, jr, jb, ops) {
				fast++
			}
		}
	}
	t.Logf("%d of %d requests needed no rooting", fast, total)
	assert.Greater(t, fast, total/10, "the requests that hold every parent")
}

// What the API server sends — the typed encoding of the object — MUST need no
// rooting for any fixture's patch.
func TestNothingToRootForWhatTheAPIServerSends(t *testing.T) {
	n := 0
	forEachFixture(t, func(f string, obj runtime.Object, _ []byte) {
		request, err := json.Marshal(obj)
		require.NoError(t, err)
		res, err := Object(obj, request, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		if len(res.Patch) == 0 {
			return
		}
		after, err := json.Marshal(res.Object)
		require.NoError(t, err)
		assert.True(t, requireAsTheGeneralPath(t, request, after, res.Patch), f)
		n++
	})
	assert.Greater(t, n, 5)
}

func TestNothingToRootRefusesWhatItDoesNotReadAsWalkDoes(t *testing.T) {
	add := []jsonpatch.Operation{jsonpatch.NewOperation("add", "/spec/list/0/b", 1)}
	for name, request := range map[string]string{
		"a missing parent":                       `{"spec":{}}`,
		"a null parent":                          `{"spec":{"list":null}}`,
		"a null element":                         `{"spec":{"list":[null]}}`,
		"a scalar on the path":                   `{"spec":{"list":"x"}}`,
		"an index past the end":                  `{"spec":{"list":[]}}`,
		"a case variant beside the add":          `{"spec":{"list":[{"B":1}]}}`,
		"a name written twice":                   `{"spec":{"list":[{}]},"spec":{"list":[{}]}}`,
		"a name on the path twice":               `{"spec":{"list":[{}],"list":[{}]}}`,
		"an array document":                      `[{"spec":{"list":[{}]}}]`,
		"something after the document":           `{"spec":{"list":[{}]}} {}`,
		"invalid JSON":                           `{"spec":{"list":[{}]}`,
		"invalid UTF-8 in a name beside the add": "{\"spec\":{\"list\":[{\"\xff\":1}]}}",
	} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, nothingToRoot([]byte(request), requirePathOps(t, add)))
			requireAsTheGeneralPath(t, []byte(request), []byte(`{"spec":{"list":[{"b":1}]}}`), add)
		})
	}
	for name, request := range map[string]string{
		"every parent there":               `{"spec":{"list":[{}]}}`,
		"escaped names":                    `{"sp\u0065c":{"list":[{"\u0063":1}]}}`,
		"loosely written":                  " {\n \"spec\" : { \"list\" : [ { } ] } } \n",
		"a case variant elsewhere":         `{"Spec":1,"spec":{"list":[{}],"B":1}}`,
		"other members, skipped":           `{"metadata":{"b":null,"x":[1,{"y":null}]},"spec":{"list":[{},{}]}}`,
		"null where no path goes in":       `{"status":null,"spec":{"list":[{"z":null}]}}`,
		"a name twice where no path goes":  `{"metadata":{"a":1,"a":2},"spec":{"list":[{"c":1,"c":2}]}}`,
		"invalid UTF-8 where no path goes": "{\"metadata\":{\"\xff\":\"\xfe\"},\"spec\":{\"list\":[{}]}}",
	} {
		t.Run(name, func(t *testing.T) {
			assert.True(t, nothingToRoot([]byte(request), requirePathOps(t, add)))
			assert.True(t, requireAsTheGeneralPath(t, []byte(request), []byte(`{"spec":{"list":[{"b":1}]}}`), add))
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func mustIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, " ", "\t")
	require.NoError(t, err)
	return b
}

// BenchmarkRootPatch roots the minimal api Deployment's patch in the request
// the API server would send for it, with the scan (nothingToRoot) and with the
// general path alone (the gain docs/performance.md gives).
func BenchmarkRootPatch(b *testing.B) {
	obj, _ := minimalAPI(b)
	request, err := json.Marshal(obj)
	require.NoError(b, err)
	res, err := Object(obj, request, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(b, err)
	after, err := json.Marshal(res.Object)
	require.NoError(b, err)
	for name, root := range map[string]func([]byte, func() ([]byte, error), []jsonpatch.Operation) ([]jsonpatch.Operation, error){
		"rootPatch":      rootPatch,
		"rootInDocument": rootInDocument,
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := root(request, encoded(after), append([]jsonpatch.Operation(nil), res.Patch...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
