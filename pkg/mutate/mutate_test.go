package mutate_test

import (
	"time"

	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const goldenDir = "../../test/testdata/mutate"

// inputs lists the fixtures: every .yaml that is neither a golden file nor a policy.
func inputs(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	require.NoError(t, err)
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".golden.yaml") && !strings.HasSuffix(f, ".policy.yaml") {
			out = append(out, f)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// policyFor loads <fixture>.policy.yaml when present, else the defaults.
func policyFor(t *testing.T, fixture string) *policy.Policy {
	t.Helper()
	path := strings.TrimSuffix(fixture, ".yaml") + ".policy.yaml"
	if _, err := os.Stat(path); err != nil {
		return policy.Default()
	}
	p, err := policy.Load(path)
	require.NoError(t, err)
	return p
}

func TestGolden(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			require.NoError(t, err)
			obj, gvk, err := manifest.Decode(raw)
			require.NoError(t, err)
			p := policyFor(t, in)

			js, err := yaml.YAMLToJSON(raw)
			require.NoError(t, err)
			res, err := mutate.Object(obj, js, p, rules.Situation{Now: testNow})
			require.NoError(t, err)
			out, err := manifest.EncodeYAML(res.Object, gvk)
			require.NoError(t, err)
			got := append([]byte("# applied: "+strings.Join(res.Applied, ",")+"\n"), out...)

			golden := strings.TrimSuffix(in, ".yaml") + ".golden.yaml"
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run: go test ./pkg/mutate -update")
			assert.Equal(t, string(want), string(got))

			// The patch, applied to the request's own JSON, must give the mutated object.
			if len(res.Patch) > 0 {
				ops, err := json.Marshal(res.Patch)
				require.NoError(t, err)
				decoded, err := jsonpatch.DecodePatch(ops)
				require.NoError(t, err)
				patched, err := decoded.Apply(js)
				require.NoError(t, err)
				fromPatch, _, err := manifest.Decode(patched)
				require.NoError(t, err)
				assert.Equal(t, res.Object, fromPatch)
			}
		})
	}
}

// TestIdempotent mutates every golden input twice: the second pass must find
// nothing to do, or GitOps tools would see drift on every sync.
func TestIdempotent(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			require.NoError(t, err)
			obj, _, err := manifest.Decode(raw)
			require.NoError(t, err)
			p := policyFor(t, in)
			first, err := mutate.Object(obj, nil, p, rules.Situation{Now: testNow})
			require.NoError(t, err)
			second, err := mutate.Object(first.Object, nil, p, rules.Situation{Now: testNow})
			require.NoError(t, err)
			assert.Empty(t, second.Patch)
			assert.Empty(t, second.Applied)
			assert.Equal(t, first.Object, second.Object)
		})
	}
}

// TestInputUntouched guards the promise that Object works on a copy.
func TestInputUntouched(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	before, err := json.Marshal(obj)
	require.NoError(t, err)
	res, err := mutate.Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(t, err)
	require.NotEmpty(t, res.Patch)
	after, err := json.Marshal(obj)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "input object was modified")
}

func TestKubernetesDefaultsKeptWhenPolicySaysSo(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-apiserver-defaulted.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	p := policy.Default()
	no := false
	p.TreatKubernetesDefaultsAsUnset = &no
	res, err := mutate.Object(obj, nil, p, rules.Situation{Now: testNow})
	require.NoError(t, err)
	assert.NotContains(t, res.Applied, "set-api-strategy")
	assert.NotContains(t, res.Applied, "set-api-grace-period")
	assert.Contains(t, res.Applied, "set-api-prestop")
}

// TestExemptedDefaultsAreNotApplied: an exemption with a reason switches a default
// off; without a reason it is not honoured.
func TestExemptedDefaultsAreNotApplied(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	d := obj.(*appsv1.Deployment)

	d.Annotations = map[string]string{"ha.laminar.io/exempt": "set-api-prestop,set-api-requests", "ha.laminar.io/exempt-reason": "image has no shell; INC-7"}
	res, err := mutate.Object(d, nil, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(t, err)
	assert.Equal(t, []string{"set-api-requests", "set-api-prestop"}, res.Exempted)
	assert.NotContains(t, res.Applied, "set-api-prestop")
	assert.Nil(t, res.Object.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Lifecycle)

	delete(d.Annotations, "ha.laminar.io/exempt-reason")
	res, err = mutate.Object(d, nil, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(t, err)
	assert.Empty(t, res.Exempted)
	assert.Contains(t, res.Applied, "set-api-prestop")
}

// TestDefaultsThePolicyTurnsOffAreNotApplied: a default set to off in the
// policy's rules map fills nothing, for every workload; the others still fill.
func TestDefaultsThePolicyTurnsOffAreNotApplied(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	p := policy.Default()
	p.Rules["set-api-prestop"] = policy.RuleOff
	res, err := mutate.Object(obj, nil, p, rules.Situation{Now: testNow})
	require.NoError(t, err)
	assert.NotContains(t, res.Applied, "set-api-prestop")
	assert.Empty(t, res.Exempted, "off is not an exemption")
	assert.Nil(t, res.Object.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Lifecycle)
	assert.Contains(t, res.Applied, "set-api-grace-period")

	p.Rules["set-api-prestop"] = policy.RuleDefault
	res, err = mutate.Object(obj, nil, p, rules.Situation{Now: testNow})
	require.NoError(t, err)
	assert.Contains(t, res.Applied, "set-api-prestop", "default is the catalog's action: on")
}

// TestPatchIsDeterministic: the same object always gets the same patch, so
// responses and debug logs can be compared across runs.
func TestPatchIsDeterministic(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "controller-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	first, err := mutate.Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(t, err)
	for i := 0; i < 30; i++ {
		again, err := mutate.Object(obj, nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		require.Equal(t, first.Patch, again.Patch, "run %d", i)
	}
}

// testNow is the time exemptions are judged at in these tests, far from any run's date.
var testNow = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)

// TestACaseVariantOfAnAddedFieldIsDropped: a request naming spec.sTrategy (a
// name the API server drops as unknown) gets spec.strategy added; the patched
// object MUST NOT then name the field twice, so the variant is removed.
func TestACaseVariantOfAnAddedFieldIsDropped(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	request, err := json.Marshal(obj)
	require.NoError(t, err)
	require.Contains(t, string(request), `"strategy":{}`)
	request = bytes.Replace(request, []byte(`"strategy":{}`), []byte(`"sTrategy":{"type":"Recreate"}`), 1)
	res, err := mutate.Object(obj, request, policy.Default(), rules.Situation{Now: testNow})
	require.NoError(t, err)
	ops, err := json.Marshal(res.Patch)
	require.NoError(t, err)
	assert.Contains(t, string(ops), `{"op":"remove","path":"/spec/sTrategy"}`, string(ops))
	patch, err := jsonpatch.DecodePatch(ops)
	require.NoError(t, err)
	patched, err := patch.Apply(request)
	require.NoError(t, err)
	var d appsv1.Deployment
	require.NoError(t, kubejson.Unmarshal(patched, &d), "the patched object names each field once")
	assert.Equal(t, appsv1.RollingUpdateDeploymentStrategyType, d.Spec.Strategy.Type)
}
