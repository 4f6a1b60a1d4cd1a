package helm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/policy"
	// The rule catalog, which the policy loader checks rule IDs against.
	_ "github.com/laminar/ha-webhook/pkg/rules"
)

// valueSets are the installs the tests render, lint and apply.
var valueSets = map[string][]string{
	"default":      nil,
	"self-managed": {"--set", "certificates.mode=selfManaged"},
	"monitoring":   {"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true"},
	"tuned":        {"-f", "test/helm/testdata/tuned.yaml"},
	"no-metrics":   {"--set", "metrics.enabled=false", "--set", "networkPolicy.enabled=false"},
}

// helm lint passes, strictly, for every value set.
func TestLint(t *testing.T) {
	r := findRepo(t)
	for name, args := range valueSets {
		t.Run(name, func(t *testing.T) {
			out, stderr, err := r.run(context.Background(), r.Helm, append([]string{"lint", "--strict", chartDir}, args...)...)
			require.NoError(t, err, "%s%s", out, stderr)
			assert.Contains(t, out, "0 chart(s) failed")
		})
	}
}

// values.schema.json refuses wrong values at install time, naming the value.
func TestSchemaRefusesBadValues(t *testing.T) {
	r := findRepo(t)
	for name, tc := range map[string]struct{ set, want string }{
		"one replica":          {"replicas=1", "/replicas"},
		"unknown value":        {"replica=3", "additional properties 'replica'"},
		"unknown mode":         {"certificates.mode=vault", "/certificates/mode"},
		"policy typo":          {"policy.enforcment.mode=warn", "additional properties 'enforcment'"},
		"policy mode":          {"policy.enforcement.mode=strict", "/policy/enforcement/mode"},
		"rule action":          {"policy.rules.replicas-min=block", "/policy/rules/replicas-min"},
		"failure policy":       {"webhooks.failurePolicy.validate\\.ha\\.laminar\\.io=Never", "/webhooks/failurePolicy"},
		"timeout":              {"webhooks.timeoutSeconds=60", "/webhooks/timeoutSeconds"},
		"enforcement shortcut": {"enforcement.mode=strict", "/enforcement/mode"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.template(t, namespace, "--set", tc.set)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// The chart with default values installs the objects of deploy/manifests,
// compared as objects: everything but the Namespace, which `helm install
// --namespace` owns (docs/install.md creates it with the same labels).
func TestDefaultRenderingIsTheKustomization(t *testing.T) {
	r := findRepo(t)
	out, stderr, err := r.run(context.Background(), r.Kubectl, "kustomize", "deploy/manifests")
	require.NoError(t, err, stderr)
	kust, err := decode(out)
	require.NoError(t, err)
	want := byKey(kust)
	ns := want["v1 Namespace /"+namespace]
	require.NotNil(t, ns, "deploy/manifests has the Namespace")
	delete(want, key(ns))

	// The Report CRD is in the chart's crds/ (installed before the templates,
	// never templated), which helm template shows with --include-crds.
	got := byKey(r.mustTemplate(t, "--include-crds"))
	require.Equal(t, keys(want), keys(got), "the same objects")
	for k, w := range want {
		assert.Equal(t, w.Object, got[k].Object, k)
	}
}

// The image tag the chart runs by default is the kustomization's.
func TestAppVersionIsTheKustomizationTag(t *testing.T) {
	r := findRepo(t)
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	var kust struct {
		Images []struct{ Name, NewTag string } `json:"images"`
	}
	readYAML(t, filepath.Join(r.Root, chartDir, "Chart.yaml"), &chart)
	readYAML(t, filepath.Join(r.Root, "deploy/manifests/kustomization.yaml"), &kust)
	require.Len(t, kust.Images, 1)
	assert.Equal(t, kust.Images[0].NewTag, chart.AppVersion)
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, into), path)
}

// Installed into another namespace, nothing names laminar-ha-system, and the
// webhooks leave the release namespace out.
func TestNamespaceFollowsTheRelease(t *testing.T) {
	r := findRepo(t)
	out, err := r.template(t, "ha-webhook")
	require.NoError(t, err)
	assert.NotContains(t, out, namespace)
	objs, err := decode(out)
	require.NoError(t, err)
	v := find(t, objs, "ValidatingWebhookConfiguration", appName)
	assert.Equal(t, "ha-webhook/laminar-ha-webhook-serving", v.GetAnnotations()["cert-manager.io/inject-ca-from"])
	for _, w := range webhooks(t, v) {
		if sel, ok := w["namespaceSelector"].(map[string]any); ok {
			assert.Contains(t, yamlOf(t, sel), "- ha-webhook\n", w["name"])
		}
	}
}

func webhooks(t *testing.T, o *unstructured.Unstructured) []map[string]any {
	t.Helper()
	list, ok, err := unstructured.NestedSlice(o.Object, "webhooks")
	require.NoError(t, err)
	require.True(t, ok)
	var out []map[string]any
	for _, w := range list {
		out = append(out, w.(map[string]any))
	}
	return out
}

func yamlOf(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// The tuned value set reaches the objects it names.
func TestValuesReachTheObjects(t *testing.T) {
	r := findRepo(t)
	objs := r.mustTemplate(t, valueSets["tuned"]...)
	dep := find(t, objs, "Deployment", appName)
	assert.EqualValues(t, 3, yamlValue(dep.Object, "spec", "replicas"))
	c := container(t, dep)
	assert.Equal(t, "registry.example.com/laminar-ha-webhook:v9.9.9", c["image"])
	assert.Equal(t, "512Mi", yamlValue(c, "resources", "limits", "memory"))
	assert.Contains(t, yamlOf(t, c["env"]), "value: 460MiB")
	spec, _, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec")
	assert.Equal(t, "system-cluster-critical", spec["priorityClassName"])

	for _, w := range webhooks(t, find(t, objs, "ValidatingWebhookConfiguration", appName)) {
		assert.EqualValues(t, 10, w["timeoutSeconds"], w["name"])
		if w["name"] == "validate.ha.laminar.io" {
			assert.Equal(t, "Ignore", w["failurePolicy"])
		}
		if sel, ok := w["namespaceSelector"].(map[string]any); ok {
			assert.Contains(t, yamlOf(t, sel), "- flux-system\n")
		}
	}
	b := find(t, objs, "ClusterRoleBinding", "laminar-ha-enforcement-override")
	assert.Contains(t, yamlOf(t, b.Object["subjects"]), "name: platform-team")
	b = find(t, objs, "ClusterRoleBinding", "laminar-ha-metrics-reader")
	assert.Contains(t, yamlOf(t, b.Object["subjects"]), "namespace: monitoring")
}

func container(t *testing.T, dep *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, err := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	return cs[0].(map[string]any)
}

func yamlValue(m map[string]any, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(m, path...)
	return v
}

// The policy the chart writes is one the webhook loads: its own loader, and
// its binary's `rules --policy`, which fails on a policy it cannot use.
func TestPolicyValueLoadsInTheWebhook(t *testing.T) {
	r := findRepo(t)
	bin := filepath.Join(t.TempDir(), "laminar-ha-webhook")
	_, stderr, err := r.run(context.Background(), "go", "build", "-o", bin, "./cmd/webhook")
	require.NoError(t, err, stderr)
	load := func(t *testing.T, args ...string) (string, error) {
		cm := find(t, r.mustTemplate(t, args...), "ConfigMap", "laminar-ha-webhook-policy")
		data, _, _ := unstructured.NestedString(cm.Object, "data", "policy.yaml")
		path := filepath.Join(t.TempDir(), "policy.yaml")
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
		_, perr := policy.Load(path)
		out, stderr, err := r.run(context.Background(), bin, "rules", "--policy", path)
		if perr != nil {
			assert.Error(t, err, "the binary refuses what the loader refuses")
			return stderr, perr
		}
		assert.NoError(t, err, stderr)
		return out, nil
	}
	out, err := load(t, "-f", "test/helm/testdata/tuned.yaml")
	require.NoError(t, err)
	assert.Regexp(t, `api-zone-spread\s.*audit`, out)

	// The schema checks shapes; the loader checks meaning, e.g. a floor above
	// the recommendation.
	_, err = load(t, "--set", "policy.api.replicas.min=5", "--set", "policy.api.replicas.recommended=3")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api.replicas")

	// The enforcement shortcut lands in the policy.
	cm := find(t, r.mustTemplate(t, "--set", "enforcement.mode=warn"), "ConfigMap", "laminar-ha-webhook-policy")
	data, _, _ := unstructured.NestedString(cm.Object, "data", "policy.yaml")
	p, err := policy.Parse([]byte(data))
	require.NoError(t, err)
	assert.Equal(t, policy.ModeWarn, p.Enforcement.Mode)
}

// Without cert-manager the chart renders no cert-manager object and no
// injection annotation; the webhook gets the rotation flags, its Secret and
// exactly the extra permissions rotation needs.
func TestSelfManagedRendering(t *testing.T) {
	r := findRepo(t)
	objs := r.mustTemplate(t, valueSets["self-managed"]...)
	for _, o := range objs {
		assert.NotEqual(t, "cert-manager.io/v1", o.GetAPIVersion(), key(o))
		_, injected := o.GetAnnotations()["cert-manager.io/inject-ca-from"]
		assert.False(t, injected, key(o))
	}
	secret := find(t, objs, "Secret", "laminar-ha-webhook-serving")
	assert.NotContains(t, secret.Object, "data", "the webhook owns the data")
	args := strings.Join(toStrings(container(t, find(t, objs, "Deployment", appName))["args"]), " ")
	assert.Contains(t, args, "--cert-rotation-secret="+namespace+"/laminar-ha-webhook-serving")
	role := find(t, objs, "Role", "laminar-ha-webhook-cert-rotation")
	assert.Contains(t, yamlOf(t, role.Object["rules"]), "- laminar-ha-webhook-serving")
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
