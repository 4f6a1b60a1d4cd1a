package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kubectlStdin runs real kubectl with a manifest on standard input.
func kubectlStdin(t *testing.T, manifest string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	stdout, stderr, err = env.Kubectl(testContext(t), strings.NewReader(manifest), args...)
	t.Logf("kubectl %s\n--- stdout\n%s--- stderr\n%s--- err: %v", strings.Join(args, " "), stdout, stderr, err)
	return stdout, stderr, err
}

// calledMutating reports whether the API server's audit entry of a create shows
// a call of our mutating webhook: the API server records every mutating webhook
// it invokes, whatever the webhook answers.
func calledMutating(t *testing.T, ns, name string) bool {
	t.Helper()
	for k, v := range auditOf(t, ns, name, "deployments", "statefulsets") {
		if strings.HasPrefix(k, "mutation.webhook.admission.k8s.io/") && strings.Contains(v, `"mutate.ha.laminar.io"`) {
			return true
		}
	}
	return false
}

// unlabelledAPI is a Laminar api whose Deployment carries no labels of its own,
// as many raw manifests and chart templates write it.
const unlabelledAPI = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  replicas: %d
  strategy: {type: %s}
  selector: {matchLabels: {app: laminar-api}}
  template:
    metadata: {labels: {app: laminar-api}}
    spec:
      containers:
        - name: api
          image: ghcr.io/laminar/laminar:1.4.0
`

// TestWorkloadsAreSelectedByTheirPodTemplate: what makes a workload Laminar is
// its pods. A Deployment that labels only its pods MUST be judged and defaulted
// in the cluster (it was admitted unjudged while the configurations selected by
// the object's own labels), and an unrelated Deployment MUST NOT reach the
// webhook at all.
func TestWorkloadsAreSelectedByTheirPodTemplate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, nil)

	// One replica and Recreate, no labels of its own: denied, naming both rules.
	_, stderr, err := kubectlStdin(t, fmt.Sprintf(unlabelledAPI, "web-frontend", ns, 1, "Recreate"), "apply", "--dry-run=server", "-f", "-")
	require.Error(t, err, "an unlabelled one-replica Recreate api must be denied")
	assert.Contains(t, stderr, "[replicas-min]")
	assert.Contains(t, stderr, "[api-strategy-rolling]")

	// Three replicas, rolling: admitted with the HA defaults filled in, and the
	// audit log shows the API server called the webhook.
	mustKubectlStdin(t, fmt.Sprintf(unlabelledAPI, "web-frontend", ns, 3, "RollingUpdate"), "apply", "-f", "-")
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-frontend"}, got))
	assertAPIDefaults(t, got, map[string]string{"app": "laminar-api"})
	assert.True(t, calledMutating(t, ns, "web-frontend"), "the API server called the mutating webhook for a Laminar api")

	// An unrelated Deployment is created without any call.
	mustKubectlStdin(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: %s, labels: {app: nginx}}
spec:
  replicas: 1
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: nginx, image: nginx:1.27}]
`, ns), "apply", "-f", "-")
	assert.False(t, calledMutating(t, ns, "nginx"), "the matchConditions keep unrelated workloads away from the webhook")
}

// TestRemovingTheWorkloadsOwnLabelsDoesNotEscapeTheWebhook: `kubectl label deploy
// x app-` on a compliant api MUST leave later changes judged (it switched the
// webhook off for that workload while the configurations selected by the
// object's own labels).
func TestRemovingTheWorkloadsOwnLabelsDoesNotEscapeTheWebhook(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	mustKubectl(t, "apply", "-n", ns, "-f", example("api-good.yaml"))
	mustKubectl(t, "label", "-n", ns, "deployment/laminar-api", "app-")
	_, stderr, err := kubectl(t, "patch", "-n", ns, "deployment/laminar-api", "--type=merge", "-p", `{"spec":{"replicas":1}}`)
	require.Error(t, err, "a one-replica api must be denied, whatever the Deployment's own labels")
	assert.Contains(t, stderr, "[replicas-min]")
}

func mustKubectlStdin(t *testing.T, manifest string, args ...string) string {
	t.Helper()
	out, stderr, err := kubectlStdin(t, manifest, args...)
	require.NoError(t, err, "kubectl %s: %s", strings.Join(args, " "), stderr)
	return out
}
