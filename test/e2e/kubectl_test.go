package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// `kubectl apply --dry-run=server -o yaml` shows the mutated object and stores nothing.
func TestKubectlDryRunShowsMutation(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	out, stderr, err := kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", example("api-good.yaml"), "-o", "yaml")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "Warning:")
	d := &appsv1.Deployment{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(out), d), "stdout is one Deployment")
	assertAPIDefaults(t, d, apiPodLabels)
	requireNotFound(t, env.Client, d)
}

// A denied apply exits non-zero, prints each rule message, and stores nothing.
func TestKubectlDryRunDenied(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	_, stderr, err := kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", example("api-bad.yaml"))
	require.Error(t, err, "kubectl must exit non-zero")
	for _, want := range []string{
		`The Deployment "laminar-api" is invalid:`,
		`spec.replicas: Invalid value: 1: [replicas-min]`,
		`spec.strategy.type: Invalid value: "Recreate": [api-strategy-rolling]`,
		`spec.template.spec.terminationGracePeriodSeconds: Invalid value: 15: [api-prestop-within-grace]`,
		`spec.template.spec.affinity.podAntiAffinity: Required value: [api-anti-affinity]`,
	} {
		assert.Contains(t, stderr, want)
	}
	d := loadDeployment(t, example("api-bad.yaml"), ns)
	requireNotFound(t, env.Client, d)

	// Not dry-run either: nothing is stored.
	_, _, err = kubectl(t, "apply", "-n", ns, "-f", example("api-bad.yaml"))
	require.Error(t, err)
	requireNotFound(t, env.Client, d)
}

// Admission warnings reach kubectl's stderr.
func TestKubectlShowsWarnings(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	_, stderr, err := kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", testdata("api-two-replicas.yaml"))
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.replicas: [replicas-recommended] 2 is below the recommended 3")

	_, stderr, err = kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", testdata("controller-no-checkpoint.yaml"))
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.template.spec.containers[0].args: [controller-checkpoint-url-missing]")
}
