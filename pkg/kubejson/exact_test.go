package kubejson

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// fixtures are every object of the repository's YAML — examples, test data,
// manifests — as JSON, with the typed value its kind decodes into.
func fixtures(t testing.TB) (docs [][]byte, types []reflect.Type) {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../examples/*.yaml", "../../test/testdata/*/*.yaml", "../../deploy/manifests/*.yaml"} {
		m, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for doc := range bytes.SplitSeq(data, []byte("\n---")) {
			js, err := yaml.YAMLToJSON(doc)
			if err != nil || len(js) < 3 {
				continue
			}
			var tm metav1.TypeMeta
			if strictUnmarshal(js, &tm) != nil {
				continue
			}
			gv, err := schema.ParseGroupVersion(tm.APIVersion)
			if err != nil {
				continue
			}
			obj, err := scheme.Scheme.New(gv.WithKind(tm.Kind))
			if err != nil {
				continue
			}
			docs = append(docs, js)
			types = append(types, reflect.TypeOf(obj).Elem())
		}
	}
	return docs, types
}

// Whatever the one pass decodes, the two-pass decoder MUST decode the same way,
// without an error.
func TestExactAgreesWithStrictOnEveryFixture(t *testing.T) {
	docs, types := fixtures(t)
	fast := 0
	for i, js := range docs {
		a := reflect.New(types[i])
		if !exact(js, a.Interface()) {
			continue
		}
		fast++
		b := reflect.New(types[i])
		require.NoError(t, strictUnmarshal(js, b.Interface()), "%s", js)
		assert.Equal(t, b.Interface(), a.Interface(), "%s", js)
	}
	// Fixtures written by hand hold only known fields: nearly all take the fast path.
	assert.Greater(t, fast, len(docs)*3/4, "of %d fixtures", len(docs))
}

// Everything the two-pass decoder refuses or reads leniently MUST leave the
// fast path, so that its error — or its reading — stays the answer, and
// MUST leave the target as it was.
func TestExactRefusesWhatOnlyStrictCanJudge(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate":          `{"spec":{"replicas":1,"replicas":3}}`,
		"duplicate map key":  `{"metadata":{"labels":{"app":"a","app":"b"}}}`,
		"case variant":       `{"spec":{"replicas":1,"Replicas":3}}`,
		"case variant alone": `{"spec":{"Replicas":3}}`,
		"unknown field":      `{"spec":{"replicas":1,"newField":true}}`,
		"invalid UTF-8":      "{\"metadata\":{\"name\":\"a\xff\"}}",
		"wrong type":         `{"spec":{"replicas":"1"}}`,
		"float for int":      `{"spec":{"replicas":1.5}}`,
		"exponent for int":   `{"spec":{"replicas":1e0}}`,
		"trailing data":      `{"spec":{}} {}`,
		"malformed":          `{"spec":`,
		"not an object":      `[1]`,
	} {
		t.Run(name, func(t *testing.T) {
			var d appsv1.Deployment
			assert.False(t, exact([]byte(in), &d))
			assert.Equal(t, appsv1.Deployment{}, d, "left as it was")
		})
	}
}

// The fast path MUST NOT be taken where one pass cannot agree with the other:
// a filled target (the slow path merges into it) and untyped values.
func TestExactOnlyForZeroTypedTargets(t *testing.T) {
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}
	assert.False(t, exact([]byte(`{"spec":{"replicas":2}}`), &d))
	assert.Equal(t, "kept", d.Name)

	var untyped map[string]any
	assert.False(t, exact([]byte(`{"replicas":2}`), &untyped))
	require.NoError(t, Unmarshal([]byte(`{"replicas":2}`), &untyped))
	assert.Equal(t, int64(2), untyped["replicas"], "integers stay int64, as sigs.k8s.io/json reads them")

	var raw struct {
		Object runtime.RawExtension `json:"object"`
	}
	assert.True(t, exact([]byte(`{"object":{"a":1}}`), &raw), "a type that decodes itself is no untyped value")
	assert.Equal(t, `{"a":1}`, string(raw.Object.Raw))

	var nilPtr *appsv1.Deployment
	assert.False(t, exact([]byte(`{}`), nilPtr))
	assert.False(t, exact([]byte(`{}`), appsv1.Deployment{}), "not a pointer")
}

func TestOneWay(t *testing.T) {
	for _, v := range []any{appsv1.Deployment{}, appsv1.StatefulSet{}, autoscalingv1.Scale{}, metav1.TypeMeta{}} {
		assert.True(t, oneWay(reflect.TypeOf(v)), "%T", v)
	}
	for _, v := range []any{map[string]any{}, []any{}, struct {
		N int `json:"n,string"`
	}{}, struct{ V struct{ X any } }{}} {
		assert.False(t, oneWay(reflect.TypeOf(v)), "%T", v)
	}
}

// FuzzExactAgreesWithStrict: whatever the one pass decodes into a Deployment,
// the two-pass decoder MUST decode the same way, without an error.
func FuzzExactAgreesWithStrict(f *testing.F) {
	docs, types := fixtures(f)
	for i, js := range docs {
		if types[i] == reflect.TypeFor[appsv1.Deployment]() || types[i] == reflect.TypeFor[appsv1.StatefulSet]() {
			f.Add(js)
		}
	}
	f.Add([]byte(`{"spec":{"replicas":1,"Replicas":3}}`))
	f.Add([]byte(`{"spec":{"template":{"spec":{"containers":[null,{"resources":{"limits":{"cpu":null}}}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []reflect.Type{reflect.TypeFor[appsv1.Deployment](), reflect.TypeFor[appsv1.StatefulSet]()} {
			a := reflect.New(typ)
			if !exact(data, a.Interface()) {
				if !reflect.DeepEqual(a.Elem().Interface(), reflect.Zero(typ).Interface()) {
					t.Fatalf("refused, but the target was changed: %s", data)
				}
				continue
			}
			b := reflect.New(typ)
			if err := strictUnmarshal(data, b.Interface()); err != nil {
				t.Fatalf("one pass decoded what the strict decoder refuses (%v): %s", err, data)
			}
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				t.Fatalf("decoded differently:\n%s\none pass: %+v\nstrict:   %+v", data, a.Interface(), b.Interface())
			}
		}
	})
}
