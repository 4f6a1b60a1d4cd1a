package admit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
)

const testdata = "../../test/testdata"

// fixtureJSON reads a fixture as the JSON an API server would send.
func fixtureJSON(t *testing.T, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, rel))
	require.NoError(t, err)
	js, err := yaml.YAMLToJSON(raw)
	require.NoError(t, err)
	return string(js)
}

// review builds a raw AdmissionReview the way the API server writes one.
func review(apiVersion, op, group, version, kind, object string) string {
	obj := `"object": ` + object + `,`
	if object == "" {
		obj = ""
	}
	return fmt.Sprintf(`{
  "apiVersion": %q,
  "kind": "AdmissionReview",
  "request": {
    "uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
    "kind": {"group": %q, "version": %q, "kind": %q},
    "resource": {"group": %q, "version": %q, "resource": "things"},
    "name": "laminar-api",
    "namespace": "laminar",
    "operation": %q,
    "userInfo": {"username": "alice"},
    %s
    "dryRun": false
  }
}`, apiVersion, group, version, kind, group, version, op, obj)
}

type server struct {
	mutate, validate *httptest.Server
}

func newServer(t *testing.T) server {
	t.Helper()
	p := admit.Static(policy.Default())
	s := server{
		mutate:   httptest.NewServer(&admission.Webhook{Handler: admit.NewMutator(admit.Config{Policy: p})}),
		validate: httptest.NewServer(&admission.Webhook{Handler: admit.NewValidator(admit.Config{Policy: p})}),
	}
	t.Cleanup(s.mutate.Close)
	t.Cleanup(s.validate.Close)
	return s
}

// post sends body and decodes the AdmissionReview answer.
func post(t *testing.T, url, contentType, body string) (int, admissionv1.AdmissionReview) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotNil(t, out.Response, "every answer carries a response")
	return resp.StatusCode, out
}

func TestMutatePatchesLaminarAPI(t *testing.T) {
	s := newServer(t)
	obj := fixtureJSON(t, "mutate/api-minimal.yaml")
	_, ar := post(t, s.mutate.URL, "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", obj))
	r := ar.Response
	assert.Equal(t, "0df28fbd-5f5f-11e8-bc74-36e6bb280816", string(r.UID))
	assert.True(t, r.Allowed)
	require.NotNil(t, r.PatchType)
	assert.Equal(t, admissionv1.PatchTypeJSONPatch, *r.PatchType)
	assert.Contains(t, r.AuditAnnotations[admit.AuditDefaults], "set-api-strategy")

	// The patch applied to the request's object gives the golden output.
	p, err := jsonpatch.DecodePatch(r.Patch)
	require.NoError(t, err)
	patched, err := p.Apply([]byte(obj))
	require.NoError(t, err)
	got, _, err := manifest.Decode(patched)
	require.NoError(t, err)
	golden, err := os.ReadFile(filepath.Join(testdata, "mutate/api-minimal.golden.yaml"))
	require.NoError(t, err)
	want, _, err := manifest.Decode(golden)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// Mutating the webhook's own output again yields no patch.
	_, again := post(t, s.mutate.URL, "application/json", review("admission.k8s.io/v1", "UPDATE", "apps", "v1", "Deployment", string(patched)))
	assert.True(t, again.Response.Allowed)
	assert.Empty(t, again.Response.Patch)
	assert.Nil(t, again.Response.PatchType)
}

func TestValidateDeniesWithEveryCause(t *testing.T) {
	s := newServer(t)
	obj := fixtureJSON(t, "admission/api-bad.yaml")
	_, ar := post(t, s.validate.URL, "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", obj))
	r := ar.Response
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result)
	assert.Equal(t, int32(http.StatusUnprocessableEntity), r.Result.Code)
	assert.Equal(t, metav1.StatusReasonInvalid, r.Result.Reason)
	require.NotNil(t, r.Result.Details)
	assert.Equal(t, "laminar-api", r.Result.Details.Name)
	assert.Equal(t, "Deployment", r.Result.Details.Kind)
	fields := map[string]string{}
	for _, c := range r.Result.Details.Causes {
		fields[c.Field] += c.Message
	}
	for field, rule := range map[string]string{
		"spec.replicas":      "[replicas-min]",
		"spec.strategy.type": "[api-strategy-rolling]",
		"spec.template.spec.containers[0].readinessProbe": "[api-readiness-probe]",
		"spec.template.spec.containers[0].livenessProbe":  "[api-liveness-probe]",
		"spec.template.spec.affinity.podAntiAffinity":     "[api-anti-affinity]",
		"spec.template.spec.topologySpreadConstraints":    "[api-zone-spread]",
	} {
		assert.Contains(t, fields[field], rule, "cause for %s", field)
	}
	assert.Contains(t, r.Result.Message, `spec.replicas: Invalid value: 1: [replicas-min]`)
	assert.Equal(t, "replicas-min,api-strategy-rolling,api-readiness-probe,api-liveness-probe,api-anti-affinity,api-zone-spread",
		r.AuditAnnotations[admit.AuditViolations])
}

func TestValidateControllerDenials(t *testing.T) {
	s := newServer(t)
	obj := fixtureJSON(t, "admission/controller-bad.yaml")
	_, ar := post(t, s.validate.URL, "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "StatefulSet", obj))
	r := ar.Response
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result.Details)
	assert.Equal(t, "StatefulSet", r.Result.Details.Kind)
	var causes []string
	for _, c := range r.Result.Details.Causes {
		causes = append(causes, c.Field+" "+c.Message)
	}
	joined := strings.Join(causes, "\n")
	assert.Contains(t, joined, "spec.template.spec.containers[0].args[0] Invalid value: \"--leader-elect=false\": [controller-leader-election]")
	assert.Contains(t, joined, "spec.template.spec.volumes[0].emptyDir Invalid value: \"data\": [controller-rocksdb-volume]")
	assert.Contains(t, joined, "spec.template.spec.containers[0].args[1] Invalid value: \"file:///var/lib/laminar/ckpt\": [controller-checkpoint-url]")
	assert.Contains(t, joined, "[controller-anti-affinity]")
	// 2 replicas is what the guide runs the controller at: no replica warning.
	assert.Empty(t, r.Warnings)
}

func TestValidateAllowsMutatedObjectWithWarnings(t *testing.T) {
	s := newServer(t)
	obj := fixtureJSON(t, "mutate/api-minimal.golden.yaml")
	_, ar := post(t, s.validate.URL, "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", obj))
	assert.True(t, ar.Response.Allowed)
	assert.Empty(t, ar.Response.Warnings)

	two := strings.Replace(obj, `"replicas":3`, `"replicas":2`, 1)
	require.NotEqual(t, obj, two)
	_, ar = post(t, s.validate.URL, "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", two))
	assert.True(t, ar.Response.Allowed)
	require.Len(t, ar.Response.Warnings, 1)
	w := ar.Response.Warnings[0]
	assert.Equal(t, "spec.replicas: [replicas-recommended] 2 is below the recommended 3", w)
	assert.LessOrEqual(t, len(w), 120)
	assert.False(t, strings.HasPrefix(w, "Warning:"))
}

func TestUnjudgedRequestsAreAllowedWithoutPatch(t *testing.T) {
	s := newServer(t)
	apiObj := fixtureJSON(t, "mutate/api-minimal.yaml")
	for name, body := range map[string]string{
		"unrelated deployment": review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", fixtureJSON(t, "mutate/not-laminar.yaml")),
		"delete":               review("admission.k8s.io/v1", "DELETE", "apps", "v1", "Deployment", ""),
		"connect":              review("admission.k8s.io/v1", "CONNECT", "apps", "v1", "Deployment", ""),
		"unknown kind":         review("admission.k8s.io/v1", "CREATE", "", "v1", "ConfigMap", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`),
		"being deleted":        review("admission.k8s.io/v1", "UPDATE", "apps", "v1", "Deployment", strings.Replace(fixtureJSON(t, "admission/api-bad.yaml"), `"name":"laminar-api"`, `"name":"laminar-api","deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":["x"]`, 1)),
		"other apps version":   review("admission.k8s.io/v1", "CREATE", "apps", "v1beta2", "Deployment", apiObj),
	} {
		for _, url := range []string{s.mutate.URL, s.validate.URL} {
			t.Run(name, func(t *testing.T) {
				_, ar := post(t, url, "application/json", body)
				assert.True(t, ar.Response.Allowed)
				assert.Empty(t, ar.Response.Patch)
				assert.Empty(t, ar.Response.Warnings)
				assert.Equal(t, "0df28fbd-5f5f-11e8-bc74-36e6bb280816", string(ar.Response.UID))
			})
		}
	}
}

func TestV1beta1ReviewIsAnsweredInKind(t *testing.T) {
	s := newServer(t)
	body := review("admission.k8s.io/v1beta1", "CREATE", "apps", "v1", "Deployment", fixtureJSON(t, "admission/api-bad.yaml"))
	_, ar := post(t, s.validate.URL, "application/json", body)
	assert.Equal(t, "admission.k8s.io/v1beta1", ar.APIVersion)
	assert.False(t, ar.Response.Allowed)
	assert.Equal(t, int32(http.StatusUnprocessableEntity), ar.Response.Result.Code)

	body = review("admission.k8s.io/v1beta1", "CREATE", "apps", "v1", "Deployment", fixtureJSON(t, "mutate/api-minimal.yaml"))
	_, ar = post(t, s.mutate.URL, "application/json", body)
	assert.Equal(t, "admission.k8s.io/v1beta1", ar.APIVersion)
	assert.True(t, ar.Response.Allowed)
	assert.NotEmpty(t, ar.Response.Patch)
}

// TestBadInputIsNeverAllowed sends broken requests: each gets an error answer with a
// clear message, never an allow.
func TestBadInputIsNeverAllowed(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name, contentType, body, message string
		code                             int32
	}{
		{"empty body", "application/json", "", "request body is empty", http.StatusBadRequest},
		{"wrong content type", "text/plain", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", "{}"), "expected application/json", http.StatusBadRequest},
		{"not json", "application/json", "{this is not json", "", http.StatusBadRequest},
		{"no object", "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", ""), "no object in the request", http.StatusBadRequest},
		{"object of wrong shape", "application/json", review("admission.k8s.io/v1", "CREATE", "apps", "v1", "Deployment", `{"spec":{"replicas":"three"}}`), "does not fit apps/v1 Deployment", http.StatusBadRequest},
		{"object is null", "application/json", review("admission.k8s.io/v1", "UPDATE", "apps", "v1", "StatefulSet", "null"), "no object in the request", http.StatusBadRequest},
	}
	for _, c := range cases {
		for _, url := range []string{s.mutate.URL, s.validate.URL} {
			t.Run(c.name, func(t *testing.T) {
				resp, err := http.Post(url, c.contentType, bytes.NewBufferString(c.body))
				require.NoError(t, err)
				defer resp.Body.Close()
				var ar admissionv1.AdmissionReview
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&ar))
				require.NotNil(t, ar.Response)
				assert.False(t, ar.Response.Allowed)
				require.NotNil(t, ar.Response.Result)
				assert.Equal(t, c.code, ar.Response.Result.Code)
				assert.Contains(t, ar.Response.Result.Message, c.message)
				assert.Empty(t, ar.Response.Patch)
			})
		}
	}
}

func metav1GVK(group, version, kind string) metav1.GroupVersionKind {
	return metav1.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

func fixtureYAML(t testing.TB, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, rel))
	require.NoError(t, err)
	return string(raw)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func intOrString(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func readFixture(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(testdata, rel)) }

// applyPatch applies a mutating response's patch to obj.
func applyPatch(tb testing.TB, obj []byte, r admission.Response) []byte {
	tb.Helper()
	if len(r.Patch) == 0 {
		return obj
	}
	ops := r.Patch
	p, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := p.Apply(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestAMutationThatCannotBeComputedNeverDenies: an error answer from the
// mutating webhook is a refusal to the API server, whatever its failurePolicy,
// so a mutation that fails MUST admit the object unpatched, with a warning and
// an error outcome; the validating webhook still judges it.
func TestAMutationThatCannotBeComputedNeverDenies(t *testing.T) {
	restore := admit.FailMutation(errors.New("patch path /spec/x is not in the mutated object"))
	t.Cleanup(restore)
	m := admit.NewMutator(admit.Config{Policy: admit.Static(policy.Default())})
	before := testutil.ToFloat64(metrics.Decisions.WithLabelValues("mutate", "Deployment", "api", metrics.OutcomeError))
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "m-1", Operation: admissionv1.Create, Namespace: "laminar", Name: "laminar-api",
		Kind:   metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Object: runtime.RawExtension{Raw: []byte(fixtureJSON(t, "admission/api-bad.yaml"))},
	}}
	r := m.Handle(context.Background(), req)
	assert.True(t, r.Allowed, "a failed mutation must not deny: %v", r.Result)
	assert.Empty(t, r.Patch)
	require.Len(t, r.Warnings, 1)
	assert.True(t, strings.HasPrefix(r.Warnings[0], admit.MutationFailedWarning), r.Warnings[0])
	assert.LessOrEqual(t, len([]rune(r.Warnings[0])), 120)
	assert.Equal(t, before+1, testutil.ToFloat64(metrics.Decisions.WithLabelValues("mutate", "Deployment", "api", metrics.OutcomeError)))
}
