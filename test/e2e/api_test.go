package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// A compliant api Deployment is stored with every HA default filled in.
func TestAPIDeploymentGetsHADefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		podLabels  map[string]string
	}{
		{"app label", example("api-good.yaml"), map[string]string{"app": "laminar-api"}},
		{"app.kubernetes.io labels", testdata("api-name-labels.yaml"),
			map[string]string{"app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			c, warns := newClient(t)
			d := loadDeployment(t, tc.path, newHANamespace(t))
			require.NoError(t, c.Create(ctx, d))
			assert.Empty(t, warns.Take(), "a compliant api gets no warnings")

			got := &appsv1.Deployment{}
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
			assertAPIDefaults(t, got, tc.podLabels)
			assert.Equal(t, int32(3), *got.Spec.Replicas, "replicas are the user's")
		})
	}
}

// A non-compliant api Deployment is denied with one field cause per violation.
func TestAPIDeploymentDenied(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	d := loadDeployment(t, example("api-bad.yaml"), newNamespace(t, nil))
	err := c.Create(ctx, d)
	requireDenied(t, err, "Deployment", "laminar-api", map[string]string{
		"spec.replicas":      "replicas-min",
		"spec.strategy.type": "api-strategy-rolling",
		"spec.template.spec.terminationGracePeriodSeconds": "api-prestop-within-grace",
		"spec.template.spec.affinity.podAntiAffinity":      "api-anti-affinity",
	})
	requireNotFound(t, c, d)
}

// Soft items are admitted with a warning naming the field and rule.
func TestAPITwoReplicasWarns(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	d := loadDeployment(t, testdata("api-two-replicas.yaml"), newHANamespace(t))
	require.NoError(t, c.Create(ctx, d))
	got := warns.Take()
	requireWarning(t, got, "spec.replicas: [replicas-recommended] ")
	assert.Len(t, got, 1, "warnings: %q", got)
}

// TestAnAPIWithNoRoomForAPreStopIsFlagged: a grace period of 10s leaves the
// mutating webhook no room for the 10s preStop delay, so none is added; applied
// with real kubectl, the api MUST come back with a warning saying so rather
// than be admitted silently with no graceful shutdown.
func TestAnAPIWithNoRoomForAPreStopIsFlagged(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	raw, err := os.ReadFile(example("api-good.yaml"))
	require.NoError(t, err)
	short := strings.Replace(string(raw), "    spec:\n      containers:\n", "    spec:\n      terminationGracePeriodSeconds: 10\n      containers:\n", 1)
	require.NotEqual(t, string(raw), short)
	out, stderr, err := kubectlStdin(t, short, "-n", ns, "apply", "--dry-run=server", "-o", "yaml", "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.template.spec.terminationGracePeriodSeconds: [api-graceful-shutdown] 10s leaves no room for a 10s preStop delay")
	assert.NotContains(t, out, "preStop", "no hook the grace period cannot hold")
}

// TestAnEagerLivenessProbeIsWarned: applied with real kubectl, an api whose
// liveness probe restarts on a single failed check MUST come back with a
// warning naming the field; the guide's probe gets none.
func TestAnEagerLivenessProbeIsWarned(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	raw, err := os.ReadFile(example("api-good.yaml"))
	require.NoError(t, err)
	eager := strings.Replace(string(raw), "          ports:\n", "          livenessProbe:\n            httpGet: {path: /health, port: 8000}\n            failureThreshold: 1\n          ports:\n", 1)
	require.NotEqual(t, string(raw), eager)
	_, stderr, err := kubectlStdin(t, eager, "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.template.spec.containers[0].livenessProbe.failureThreshold: [api-liveness-aggressive] 1: one failed check restarts")
}

// TestAnAPIWithoutAStartupProbeIsWarned: where mutation is off, an api whose
// liveness probe alone bounds its start, applied with real kubectl, MUST come
// back with a warning naming the startup probe and how long a start may take.
func TestAnAPIWithoutAStartupProbeIsWarned(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, map[string]string{policy.LabelMutate: policy.MutateOff})
	raw, err := os.ReadFile(filepath.Join(env.RepoRoot, "test", "testdata", "mutate", "api-minimal.golden.yaml"))
	require.NoError(t, err)
	doc := strings.Replace(string(raw), "  namespace: laminar\n", "", 1)
	start := strings.Index(doc, "        startupProbe:\n")
	require.GreaterOrEqual(t, start, 0)
	end := start + len("        startupProbe:\n")
	for strings.HasPrefix(doc[end:], "          ") {
		end += strings.Index(doc[end:], "\n") + 1
	}
	noStartup := doc[:start] + doc[end:]
	_, stderr, err := kubectlStdin(t, noStartup, "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.template.spec.containers[0].startupProbe: [api-startup-probe] start over 60s restarts")

	_, stderr, err = kubectlStdin(t, doc, "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "[api-startup-probe]", "the guide's startup probe is enough")
}
