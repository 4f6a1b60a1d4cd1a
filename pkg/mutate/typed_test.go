package mutate

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// createPatch is the oracle: jsonpatch.CreatePatch over {"spec": ...} encodings.
func createPatch(t testing.TB, a, b any) []jsonpatch.Operation {
	t.Helper()
	ja, err := specDocument(a)
	require.NoError(t, err)
	jb, err := specDocument(b)
	require.NoError(t, err)
	ops, err := jsonpatch.CreatePatch(ja, jb)
	require.NoError(t, err)
	return ops
}

func byPath(ops []jsonpatch.Operation) []jsonpatch.Operation {
	out := append([]jsonpatch.Operation{}, ops...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// The typed diff MUST give CreatePatch's operations — paths, kinds and values —
// on every fixture's mutation.
func TestTypedPatchIsCreatePatchOnTheFixtures(t *testing.T) {
	n := 0
	forEachFixture(t, func(f string, obj runtime.Object, _ []byte) {
		res, err := Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		a, b := specs(obj, res.Object)
		if a == nil {
			return
		}
		got, err := typedPatch(a, b, "/spec")
		require.NoError(t, err, f)
		assert.Equal(t, byPath(createPatch(t, a, b)), byPath(decodedValues(t, got)), f)
		n++
	})
	assert.Greater(t, n, 5)
}

// On random specs, and on random specs against a random edit of themselves,
// the typed diff MUST give CreatePatch's operations.
func TestTypedPatchIsCreatePatchOnRandomSpecs(t *testing.T) {
	f := randfill.NewWithSeed(7).NilChance(0.3).NumElements(0, 3).MaxDepth(8).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewMilliQuantity(c.Int63n(10000), resource.DecimalSI)
		},
		func(v *metav1.Time, c randfill.Continue) { *v = metav1.NewTime(time.Unix(c.Int63n(2e9), 0).UTC()) },
		func(v *metav1.FieldsV1, c randfill.Continue) { v.SetRawBytes([]byte(`{"f:a":{}}`)) },
		func(v *runtime.RawExtension, c randfill.Continue) { v.Raw = []byte(`{"a":[1,"b"]}`) },
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(c.Int31n(100))
			} else {
				*v = intstr.FromString(c.String(3))
			}
		},
	)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		var a, b appsv1.DeploymentSpec
		f.Fill(&a)
		if i%2 == 0 {
			f.Fill(&b)
		} else {
			// b is a with some members of a fresh fill: mostly equal, as a mutation is.
			js, err := json.Marshal(a)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(js, &b))
			var c appsv1.DeploymentSpec
			f.Fill(&c)
			if r.IntN(2) == 0 {
				b.Template.Spec.Containers = c.Template.Spec.Containers
			}
			if r.IntN(2) == 0 {
				b.Template.Spec.Affinity = c.Template.Spec.Affinity
			}
			if r.IntN(2) == 0 {
				b.Strategy = c.Strategy
			}
			if r.IntN(2) == 0 {
				b.Template.Labels = c.Template.Labels
			}
			b.Replicas = c.Replicas
		}
		got, err := typedPatch(&a, &b, "/spec")
		require.NoError(t, err)
		requireMarshalled(t, got, "case %d", i)
		if !assert.Equal(t, byPath(createPatch(t, &a, &b)), byPath(decodedValues(t, got)), "case %d", i) {
			return
		}
	}
}

// omitzero leaves out what IsZero calls zero, as encoding/json does.
func TestTypedPatchOmitZero(t *testing.T) {
	type zeroed struct {
		T metav1.Time     `json:"t,omitzero"`
		P *metav1.Time    `json:"p,omitzero"`
		N int             `json:"n,omitzero"`
		S struct{ A int } `json:"s,omitzero"`
	}
	now := metav1.NewTime(testNow)
	for _, c := range []struct{ a, b zeroed }{
		{zeroed{}, zeroed{T: now}}, {zeroed{T: now}, zeroed{}}, {zeroed{}, zeroed{P: &now}},
		{zeroed{P: &metav1.Time{}}, zeroed{P: &now}}, {zeroed{N: 1}, zeroed{}}, {zeroed{}, zeroed{S: struct{ A int }{1}}},
	} {
		got, err := typedPatch(&c.a, &c.b, "")
		require.NoError(t, err)
		ja, _ := json.Marshal(c.a)
		jb, _ := json.Marshal(c.b)
		want, err := jsonpatch.CreatePatch(ja, jb)
		require.NoError(t, err)
		assert.Equal(t, byPath(want), byPath(decodedValues(t, got)), "%s -> %s", ja, jb)
	}
}

// What the typed diff does not follow exactly is left to the encodings.
func TestTypedPatchGivesUpOnWhatItDoesNotFollow(t *testing.T) {
	type withString struct {
		N int `json:"n,string"`
	}
	_, err := typedPatch(&withString{1}, &withString{2}, "")
	assert.ErrorIs(t, err, errUntyped)

	type inner struct {
		X int `json:"x"`
	}
	type clash struct {
		inner
		X int `json:"x"`
	}
	_, err = typedPatch(&clash{}, &clash{X: 1}, "")
	assert.ErrorIs(t, err, errUntyped)

	ops, err := typedPatch(&map[string]string{"a\xff": "b"}, &map[string]string{"a\xff": "c"}, "")
	assert.ErrorIs(t, err, errUntyped)
	assert.Nil(t, ops)
}

// Object MUST leave its input as it was, metadata and spec, though the
// mutated copy shares the input's metadata.
func TestObjectLeavesTheInputAsItWas(t *testing.T) {
	for _, f := range []string{"api-minimal.yaml", "controller-minimal.yaml"} {
		raw, err := os.ReadFile(filepath.Join("../../test/testdata/mutate", f))
		require.NoError(t, err)
		obj, _, err := manifest.Decode(raw)
		require.NoError(t, err)
		was := obj.DeepCopyObject()
		res, err := Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		require.NotEmpty(t, res.Patch, f)
		assert.Equal(t, was, obj, f)
		assert.NotEqual(t, was, res.Object, f)
	}
}

// BenchmarkTypedPatch diffs the minimal api Deployment's spec against its
// mutation, typed and as CreatePatch over the encodings.
func BenchmarkTypedPatch(b *testing.B) {
	obj, _ := minimalAPI(b)
	res, err := Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(b, err)
	before, after := specs(obj, res.Object)
	require.NotNil(b, before)
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := typedPatch(before, after, "/spec"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreatePatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ja, err := specDocument(before)
			require.NoError(b, err)
			jb, err := specDocument(after)
			require.NoError(b, err)
			if _, err := jsonpatch.CreatePatch(ja, jb); err != nil {
				b.Fatal(err)
			}
		}
	})
}
