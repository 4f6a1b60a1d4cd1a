package mutate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	evanjsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-openapi/jsonpointer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// The patch is computed by jsonpatch.CreatePatch over the spec encodings alone
// when nothing else changed (encodePair), and rooted in the request by
// splitting only the objects on the operations' paths (rootPatch). These tests
// hold it to the straightforward computation: jsonpatch.CreatePatch over both
// whole typed encodings, then rooting in the fully decoded request.

// referencePatch is the computation mutate.Object used before: the oracle.
func referencePatch(t testing.TB, before, after, request []byte) []jsonpatch.Operation {
	t.Helper()
	ops, err := jsonpatch.CreatePatch(before, after)
	require.NoError(t, err)
	out, err := referenceRootPatch(request, after, ops)
	require.NoError(t, err)
	return out
}

func referenceRootPatch(request, mutated []byte, ops []jsonpatch.Operation) ([]jsonpatch.Operation, error) {
	var doc, after any
	if err := json.Unmarshal(request, &doc); err != nil {
		return nil, fmt.Errorf("request object: %w", err)
	}
	out := make([]jsonpatch.Operation, 0, len(ops))
	added := map[string]bool{}
	for _, op := range ops {
		tokens, err := kubejson.SplitPointer(op.Path)
		if err != nil {
			return nil, err
		}
		missing := refFirstMissingParent(doc, tokens)
		if missing < 0 {
			out = append(out, op)
			continue
		}
		path := ""
		for _, t := range tokens[:missing+1] {
			path += "/" + jsonpointer.Escape(t)
		}
		if added[path] {
			continue
		}
		if after == nil {
			if err := json.Unmarshal(mutated, &after); err != nil {
				return nil, fmt.Errorf("mutated object: %w", err)
			}
		}
		v, ok := refLookup(after, tokens[:missing+1])
		if !ok {
			return nil, fmt.Errorf("patch path %s is not in the mutated object", op.Path)
		}
		added[path] = true
		out = append(out, jsonpatch.NewOperation("add", path, v))
	}
	refSort(out)
	return out, nil
}

func refSort(ops []jsonpatch.Operation) {
	sort.SliceStable(ops, func(i, j int) bool {
		a, _ := kubejson.SplitPointer(ops[i].Path)
		b, _ := kubejson.SplitPointer(ops[j].Path)
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] == b[k] {
				continue
			}
			na, errA := strconv.Atoi(a[k])
			nb, errB := strconv.Atoi(b[k])
			if errA == nil && errB == nil {
				return na < nb
			}
			return a[k] < b[k]
		}
		return len(a) < len(b)
	})
}

func refFirstMissingParent(doc any, tokens []string) int {
	cur := doc
	for i := 0; i < len(tokens)-1; i++ {
		next, ok := refStep(cur, tokens[i])
		if !ok {
			return i
		}
		cur = next
	}
	return -1
}

func refLookup(doc any, tokens []string) (any, bool) {
	cur := doc
	for _, t := range tokens {
		next, ok := refStep(cur, t)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func refStep(cur any, token string) (any, bool) {
	switch c := cur.(type) {
	case map[string]any:
		v, ok := c[token]
		return v, ok && v != nil
	case []any:
		i, err := strconv.Atoi(token)
		if err != nil || i < 0 || i >= len(c) {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

// sortedByPath orders a patch for comparison (jsonpatch's order follows map iteration).
// decodedValues is ops with every value as jsonpatch.CreatePatch holds it,
// decoded from JSON with UseNumber: the typed diff gives values as their
// encodings (json.RawMessage), which encode to the same JSON.
func decodedValues(t testing.TB, ops []jsonpatch.Operation) []jsonpatch.Operation {
	t.Helper()
	out := make([]jsonpatch.Operation, len(ops))
	for i, op := range ops {
		if op.Value != nil {
			js, err := json.Marshal(op.Value)
			require.NoError(t, err)
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.UseNumber()
			var v any
			require.NoError(t, dec.Decode(&v))
			op.Value = v
		}
		out[i] = op
	}
	return out
}

func sortedByPath(ops []jsonpatch.Operation) []jsonpatch.Operation {
	out := append([]jsonpatch.Operation(nil), ops...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// TestPatchMatchesReferenceOnFixtures runs every workload fixture of the
// repository through Object and compares its patch with the reference, for the
// request as written and for the typed encoding as the request.
func TestPatchMatchesReferenceOnFixtures(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		"../../test/testdata/mutate/*.yaml", "../../test/testdata/admission/*.yaml", "../../examples/*.yaml",
	} {
		got, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, got...)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".policy.yaml") {
			continue
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		obj, _, err := manifest.Decode(raw)
		if err != nil || obj == nil {
			continue // not a workload (PodDisruptionBudgets, a stream)
		}
		js, err := yaml.YAMLToJSON(raw)
		require.NoError(t, err)
		for _, request := range [][]byte{js, nil} {
			res, err := Object(obj, request, policy.Default(), rules.Situation{Now: testNow})
			require.NoError(t, err, f)
			if len(res.Applied) == 0 {
				continue
			}
			seen++
			before, err := json.Marshal(obj)
			require.NoError(t, err)
			after, err := json.Marshal(res.Object)
			require.NoError(t, err)
			req := request
			if req == nil {
				req = before
			}
			assert.Equal(t, decodedValues(t, referencePatch(t, before, after, req)), decodedValues(t, res.Patch), "%s (request given: %v)", f, request != nil)
		}
	}
	require.Greater(t, seen, 5)
}

// TestRootedPatchOfRandomPairs: over random documents and random edits of
// them, rooting CreatePatch's operations in the document they were computed
// from only orders them, and the patch turns that document, as written or
// indented, into the edited one.
func TestRootedPatchOfRandomPairs(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	applied := 0
	for i := 0; i < 3000; i++ {
		a := randomValue(rng, 0)
		if i%3 == 0 {
			a = randomObject(rng, 0)
		}
		b := edit(rng, deepCopy(a), 0)
		ja, err := json.Marshal(a)
		require.NoError(t, err)
		jb, err := json.Marshal(b)
		require.NoError(t, err)
		if i%2 == 1 {
			ja, _ = json.MarshalIndent(a, "", "\t")
		}
		want, err := jsonpatch.CreatePatch(ja, jb)
		require.NoError(t, err)
		got, err := rootPatch(ja, encoded(jb), append([]jsonpatch.Operation(nil), want...))
		require.NoError(t, err)
		require.Equal(t, sortedByPath(want), sortedByPath(got), "a=%s\nb=%s", ja, jb)

		// A patch applies to an object (json-patch replaces no whole
		// document), and in rootPatch's order only when it removes no array
		// element: it removes those of one array lowest index first, which
		// the default rules, filling in only, never ask for.
		_, aObject := a.(map[string]any)
		_, bObject := b.(map[string]any)
		if !aObject || !bObject || len(got) == 0 || removesElements(t, ja, got) {
			continue
		}
		applied++
		ops, err := json.Marshal(got)
		require.NoError(t, err)
		p, err := evanjsonpatch.DecodePatch(ops)
		require.NoError(t, err)
		patched, err := p.Apply(ja)
		require.NoError(t, err, "a=%s\npatch=%s", ja, ops)
		require.JSONEq(t, string(jb), string(patched), "a=%s\npatch=%s", ja, ops)
	}
	require.Greater(t, applied, 800, "pairs whose patch was applied (about 1,000 of 3,000)")
}

// removesElements reports whether the patch removes an element of an array of doc.
func removesElements(t *testing.T, doc []byte, ops []jsonpatch.Operation) bool {
	var d any
	require.NoError(t, json.Unmarshal(doc, &d))
	for _, op := range ops {
		tokens, err := kubejson.SplitPointer(op.Path)
		require.NoError(t, err)
		if op.Operation != "remove" || len(tokens) == 0 {
			continue
		}
		if parent, ok := refLookup(d, tokens[:len(tokens)-1]); ok {
			if _, isArray := parent.([]any); isArray {
				return true
			}
		}
	}
	return false
}

// TestRootPatchMatchesReference roots random patches in requests that lack
// random parents, are indented, or repeat member names.
func TestRootPatchMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		a, _, jb, ops := randomEdit(t, rng)
		request := dropRandom(rng, deepCopy(a), 0)
		jr, _ := json.Marshal(request)
		switch i % 4 {
		case 1:
			jr, _ = json.MarshalIndent(request, " ", "\t")
		case 2:
			// A duplicate member name: the last one counts.
			if bytes.HasPrefix(jr, []byte("{")) && len(jr) > 2 {
				jr = append([]byte(`{"dup":{"x":1},"dup":null,`), jr[1:]...)
			}
		}
		want, wantErr := referenceRootPatch(jr, jb, append([]jsonpatch.Operation(nil), ops...))
		got, gotErr := rootPatch(jr, encoded(jb), append([]jsonpatch.Operation(nil), ops...))
		if wantErr != nil {
			require.Error(t, gotErr)
			require.Equal(t, wantErr.Error(), gotErr.Error())
			continue
		}
		require.NoError(t, gotErr, "request=%s\nafter=%s", jr, jb)
		require.Equal(t, want, got, "request=%s\nafter=%s", jr, jb)
	}
}

func TestRootPatchRejectsBrokenRequestLikeBefore(t *testing.T) {
	ops := []jsonpatch.Operation{jsonpatch.NewOperation("add", "/a/b", "x")}
	for _, req := range []string{``, `{`, `{"a":}`, `[1,]`, `{"a":1} x`} {
		_, wantErr := referenceRootPatch([]byte(req), []byte(`{"a":{"b":"x"}}`), ops)
		_, gotErr := rootPatch([]byte(req), encoded([]byte(`{"a":{"b":"x"}}`)), ops)
		require.Error(t, wantErr, req)
		require.Error(t, gotErr, req)
		assert.Equal(t, wantErr.Error(), gotErr.Error(), req)
	}
}

var keys = []string{"a", "b", "spec", "containers", "x/y", "t~1", "é", "<&>", "with \"quote\"", "0", "1", "n"}

func randomKey(rng *rand.Rand) string { return keys[rng.Intn(len(keys))] }

func randomObject(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for n := rng.Intn(5); n >= 0; n-- {
		m[randomKey(rng)] = randomValue(rng, depth+1)
	}
	if depth < 2 && rng.Intn(6) == 0 {
		// A big object (labels, annotations): found through a map, not in place.
		for n := 12 + rng.Intn(12); n >= 0; n-- {
			m[fmt.Sprintf("key-%d", rng.Intn(30))] = randomValue(rng, depth+2)
		}
	}
	return m
}

func randomValue(rng *rand.Rand, depth int) any {
	max := 8
	if depth > 3 {
		max = 5
	}
	switch rng.Intn(max) {
	case 0:
		return nil
	case 1:
		return rng.Intn(2) == 0
	case 2:
		return json.Number(strconv.Itoa(rng.Intn(100) - 50))
	case 3:
		return []string{"", "x", "y z", "é\u2028", "<tag>", `back\slash`}[rng.Intn(6)]
	case 4:
		return rng.Float64() * 1000
	case 5, 6:
		return randomObject(rng, depth)
	default:
		var l []any
		for n := rng.Intn(4); n > 0; n-- {
			l = append(l, randomValue(rng, depth+1))
		}
		return l
	}
}

// edit changes v at random places: replaced values, added and removed members
// and elements, changed types.
func edit(rng *rand.Rand, v any, depth int) any {
	if rng.Intn(6) == 0 {
		return randomValue(rng, depth)
	}
	switch c := v.(type) {
	case map[string]any:
		for k := range c {
			switch rng.Intn(5) {
			case 0:
				delete(c, k)
			case 1, 2:
				c[k] = edit(rng, c[k], depth+1)
			}
		}
		if rng.Intn(3) == 0 {
			c[randomKey(rng)] = randomValue(rng, depth+1)
		}
		return c
	case []any:
		for i := range c {
			if rng.Intn(3) == 0 {
				c[i] = edit(rng, c[i], depth+1)
			}
		}
		switch rng.Intn(4) {
		case 0:
			c = append(c, randomValue(rng, depth+1))
		case 1:
			if len(c) > 0 {
				c = c[:len(c)-1]
			}
		}
		return c
	}
	return v
}

// dropRandom removes members at random, as a request that leaves parents out.
func dropRandom(rng *rand.Rand, v any, depth int) any {
	switch c := v.(type) {
	case map[string]any:
		for k := range c {
			if rng.Intn(4) == 0 {
				delete(c, k)
				continue
			}
			c[k] = dropRandom(rng, c[k], depth+1)
		}
	case []any:
		for i := range c {
			c[i] = dropRandom(rng, c[i], depth+1)
		}
	}
	return v
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(c))
		for i, x := range c {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}

// TestEncodePairGivesTheSamePatch: whether both documents hold the whole
// objects (something besides the spec changed) or only their specs, the patch
// is the one between the whole encodings.
func TestEncodePairGivesTheSamePatch(t *testing.T) {
	for _, f := range []string{"api-minimal.yaml", "controller-minimal.yaml"} {
		raw, err := os.ReadFile(filepath.Join("../../test/testdata/mutate", f))
		require.NoError(t, err)
		obj, _, err := manifest.Decode(raw)
		require.NoError(t, err)
		res, err := Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		for _, change := range []struct {
			name string
			fn   func(o metav1.Object)
		}{
			{"spec only", func(metav1.Object) {}},
			{"labels too", func(o metav1.Object) { o.SetLabels(map[string]string{"app": "x", "new": "y"}) }},
			{"annotations too", func(o metav1.Object) { o.SetAnnotations(map[string]string{"a/b": "~c"}) }},
		} {
			out := res.Object.DeepCopyObject()
			change.fn(out.(metav1.Object))
			before, after, err := encodePair(obj, out)
			require.NoError(t, err)
			got, err := jsonpatch.CreatePatch(before, after)
			require.NoError(t, err)
			wb, err := json.Marshal(obj)
			require.NoError(t, err)
			wa, err := json.Marshal(out)
			require.NoError(t, err)
			want, err := jsonpatch.CreatePatch(wb, wa)
			require.NoError(t, err)
			assert.Equal(t, sortedByPath(want), sortedByPath(got), "%s: %s", f, change.name)
		}
	}
}

// encoded is rootPatch's mutated document, given.
func encoded(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }

// randomEdit is a random object, its encoding, the encoding of a random edit
// of it, and CreatePatch between the two.
func randomEdit(t *testing.T, rng *rand.Rand) (a any, ja, jb []byte, ops []jsonpatch.Operation) {
	t.Helper()
	a = randomObject(rng, 0)
	b := edit(rng, deepCopy(a), 0)
	ja, err := json.Marshal(a)
	require.NoError(t, err)
	jb, err = json.Marshal(b)
	require.NoError(t, err)
	ops, err = jsonpatch.CreatePatch(ja, jb)
	require.NoError(t, err)
	return a, ja, jb, ops
}

// forEachFixture calls f with every workload fixture of test/testdata/mutate
// (the files that decode as one), decoded, and its bytes.
func forEachFixture(t *testing.T, f func(path string, obj runtime.Object, raw []byte)) {
	t.Helper()
	files, err := filepath.Glob("../../test/testdata/mutate/*.yaml")
	require.NoError(t, err)
	for _, path := range files {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		obj, _, err := manifest.Decode(raw)
		if err != nil {
			continue // a policy or golden file
		}
		f(path, obj, raw)
	}
}

// minimalAPI is the minimal api Deployment fixture, decoded, and its bytes:
// what the benchmarks of the patch's parts mutate.
func minimalAPI(tb testing.TB) (runtime.Object, []byte) {
	tb.Helper()
	raw, err := os.ReadFile("../../test/testdata/mutate/api-minimal.yaml")
	require.NoError(tb, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(tb, err)
	return obj, raw
}
