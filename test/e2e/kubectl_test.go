package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

// Applying the same manifest twice changes nothing, with client-side and with
// server-side apply: the second apply finds the defaults already in place.
func TestKubectlApplyTwiceIsNoop(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"client-side", nil},
		{"server-side", []string{"--server-side", "--field-manager=e2e"}},
	} {
		for _, file := range []string{"api-good.yaml", "controller.yaml"} {
			t.Run(mode.name+"/"+file, func(t *testing.T) {
				t.Parallel()
				ns := newNamespace(t, nil)
				args := append([]string{"apply", "-n", ns, "-f", example(file)}, mode.args...)
				mustKubectl(t, args...)
				obj := readObject(t, example(file))
				obj.SetNamespace(ns)
				key := client.ObjectKeyFromObject(obj)
				first := obj.DeepCopyObject().(client.Object)
				require.NoError(t, env.Client.Get(testContext(t), key, first))

				out := mustKubectl(t, args...)
				if mode.name == "client-side" && file == "api-good.yaml" {
					// The controller's args list is the user's and the webhook
					// appends to it, so client-side apply resends the list and
					// kubectl says "configured"; the object still does not change.
					assert.Contains(t, out, "unchanged")
				}
				second := obj.DeepCopyObject().(client.Object)
				require.NoError(t, env.Client.Get(testContext(t), key, second))
				assert.Equal(t, first.GetResourceVersion(), second.GetResourceVersion(), "second apply must not write")
				assert.Equal(t, first.GetGeneration(), second.GetGeneration())

				diffOut, diffErr, err := kubectl(t, append([]string{"diff", "-n", ns, "-f", example(file)}, mode.args...)...)
				assert.NoError(t, err, "kubectl diff must find no difference:\n%s%s", diffOut, diffErr)
				assert.Empty(t, strings.TrimSpace(diffOut))
			})
		}
	}
}
