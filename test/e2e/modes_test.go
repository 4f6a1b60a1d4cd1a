package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// waitForMode polls until the webhook judges the namespace in the given mode:
// the webhook reads namespace labels from an informer cache, so a label set a
// moment ago may not be visible to it yet. The marker is a server-side dry-run
// create of examples/api-bad.yaml: admitted in warn mode, denied in deny mode.
func waitForMode(t *testing.T, ns string, warn bool) {
	t.Helper()
	c, _ := newClient(t)
	require.Eventually(t, func() bool {
		d := loadDeployment(t, example("api-bad.yaml"), ns)
		d.Name = "mode-probe"
		err := c.Create(context.Background(), d, client.DryRunAll)
		if warn {
			return err == nil
		}
		return devenv.DeniedByRule(err, "replicas-min")
	}, 15*time.Second, 50*time.Millisecond, "webhook never saw namespace %s in %s mode", ns, map[bool]string{true: "warn", false: "deny"}[warn])
}

// In a namespace labelled ha.laminar.io/enforce=warn, deny rules only warn.
func TestNamespaceWarnMode(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	ns := newNamespace(t, map[string]string{"ha.laminar.io/enforce": "warn"})
	waitForMode(t, ns, true)

	d := loadDeployment(t, example("api-bad.yaml"), ns)
	require.NoError(t, c.Create(ctx, d))
	got := warns.Take()
	for _, w := range []string{
		"would deny: spec.replicas: [replicas-min]",
		"would deny: spec.strategy.type: [api-strategy-rolling]",
		"would deny: spec.template.spec.terminationGracePeriodSeconds: [api-prestop-within-grace]",
		"would deny: spec.template.spec.affinity.podAntiAffinity: [api-anti-affinity]",
	} {
		requireWarning(t, got, w)
	}
	stored := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), stored))
	assert.NotNil(t, container(t, &stored.Spec.Template.Spec, "api").StartupProbe, "mutation is on")
}

// On UPDATE a violation the stored object already had (same field, same value)
// only warns; a new or worse one is denied.
func TestRatchetOnUpdate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	ns := newNamespace(t, map[string]string{"ha.laminar.io/enforce": "warn"})
	waitForMode(t, ns, true)
	d := loadDeployment(t, example("api-bad.yaml"), ns)
	require.NoError(t, c.Create(ctx, d), "a legacy workload, admitted in warn mode")

	// The namespace now enforces.
	nsObj := &corev1.Namespace{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: ns}, nsObj))
	nsObj.Labels["ha.laminar.io/enforce"] = "deny"
	require.NoError(t, c.Update(ctx, nsObj))
	waitForMode(t, ns, false)
	warns.Take()

	// An unrelated change to the legacy workload goes through, with warnings.
	require.NoError(t, c.Patch(ctx, d.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"payments"}}}`))))
	requireWarning(t, warns.Take(), "pre-existing: spec.replicas: [replicas-min]")

	// Making it worse is denied: replicas 0 is a different bad value.
	err := c.Patch(ctx, d.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`)))
	requireDenied(t, err, "Deployment", d.Name, map[string]string{"spec.replicas": "replicas-min"})
}

// An exemption with a reason excuses the named rules and nothing else.
func TestExemption(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, nil)

	d := loadDeployment(t, example("api-bad.yaml"), ns)
	d.Annotations = map[string]string{
		"ha.laminar.io/exempt":        "replicas-min, api-strategy-rolling",
		"ha.laminar.io/exempt-reason": "single-replica staging copy, OPS-123",
	}
	err := c.Create(ctx, d)
	requireDenied(t, err, "Deployment", d.Name, map[string]string{
		"spec.template.spec.terminationGracePeriodSeconds": "api-prestop-within-grace",
		"spec.template.spec.affinity.podAntiAffinity":      "api-anti-affinity",
	})

	// Without a reason the exemption is itself denied and excuses nothing.
	delete(d.Annotations, "ha.laminar.io/exempt-reason")
	err = c.Create(ctx, d)
	requireDenied(t, err, "Deployment", d.Name, map[string]string{
		"metadata.annotations[ha.laminar.io/exempt-reason]": "exemption-reason",
		"spec.replicas":      "replicas-min",
		"spec.strategy.type": "api-strategy-rolling",
		"spec.template.spec.terminationGracePeriodSeconds": "api-prestop-within-grace",
		"spec.template.spec.affinity.podAntiAffinity":      "api-anti-affinity",
	})
	requireNotFound(t, c, d)
}
