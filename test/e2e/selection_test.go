package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// A Deployment without Laminar labels is neither mutated nor judged.
func TestUnlabelledDeploymentUntouched(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	d := loadDeployment(t, testdata("unlabelled.yaml"), newNamespace(t, nil))
	require.NoError(t, c.Create(ctx, d), "one replica and Recreate are fine for non-Laminar workloads")
	assert.Empty(t, warns.Take())

	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, got.Spec.Strategy.Type)
	assert.Nil(t, got.Spec.Strategy.RollingUpdate)
	assert.Equal(t, int64(30), *got.Spec.Template.Spec.TerminationGracePeriodSeconds, "Kubernetes' own default")
	assertUntouched(t, &got.Spec.Template.Spec)
}

// kube-system and the webhook's own namespace are never judged.
func TestExcludedSystemNamespaces(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"kube-system", devenv.Namespace} {
		t.Run(ns, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			c, warns := newClient(t)
			d := loadDeployment(t, example("api-bad.yaml"), ns)
			d.Name = "e2e-laminar-api-" + rand.String(5)
			require.NoError(t, c.Create(ctx, d), "a bad laminar-api is admitted in %s", ns)
			t.Cleanup(func() { _ = env.Client.Delete(testContext(t), d) })
			assert.Empty(t, warns.Take())
			got := &appsv1.Deployment{}
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
			assert.Equal(t, int32(1), *got.Spec.Replicas)
			assert.Empty(t, got.Spec.Template.Spec.TopologySpreadConstraints, "not mutated either")
			assert.Nil(t, container(t, &got.Spec.Template.Spec, "api").StartupProbe, "not mutated either")
		})
	}
}

// The namespace opt-out labels switch off validation and mutation separately.
func TestNamespaceOptOut(t *testing.T) {
	t.Parallel()
	t.Run("ha.laminar.io/enforce=off admits a bad api, still mutated", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, warns := newClient(t)
		d := loadDeployment(t, example("api-bad.yaml"), newNamespace(t, map[string]string{"ha.laminar.io/enforce": "off"}))
		require.NoError(t, c.Create(ctx, d))
		assert.Empty(t, warns.Take(), "no validation, so no warnings")
		got := &appsv1.Deployment{}
		require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
		assert.Equal(t, int32(1), *got.Spec.Replicas)
		assert.NotNil(t, container(t, &got.Spec.Template.Spec, "api").StartupProbe, "defaults are still filled in")
	})
	t.Run("ha.laminar.io/mutate=off leaves defaults out, still enforced", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		d := loadDeployment(t, example("api-good.yaml"), newNamespace(t, map[string]string{"ha.laminar.io/mutate": "off"}))
		err := c.Create(ctx, d)
		// Without mutation the bare example misses what mutation would have added.
		requireDenied(t, err, "Deployment", d.Name, map[string]string{
			"spec.template.spec.containers[0].readinessProbe": "api-readiness-probe",
			"spec.template.spec.containers[0].livenessProbe":  "api-liveness-probe",
			"spec.template.spec.affinity.podAntiAffinity":     "api-anti-affinity",
			"spec.template.spec.topologySpreadConstraints":    "api-zone-spread",
		})
		requireNotFound(t, c, d)
	})
}
