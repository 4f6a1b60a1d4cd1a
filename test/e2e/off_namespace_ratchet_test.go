package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// TestObjectsWrittenWhileEnforcementWasOffAreNotRatcheted: a workload created
// in a namespace whose enforcement was off was never judged, so when
// enforcement comes back on its violations MUST NOT become a ratchet baseline:
// its next update is judged as a CREATE. The switch back on is recorded on the
// namespace (ha.laminar.io/enforced-since) by the webhook.
func TestObjectsWrittenWhileEnforcementWasOffAreNotRatcheted(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, map[string]string{policy.LabelMode: policy.ModeOff, policy.LabelMutate: policy.MutateOff})

	d := loadDeployment(t, example("api-bad.yaml"), ns)
	require.NoError(t, c.Create(ctx, d), "enforcement is off: nothing is judged")

	mustKubectl(t, "label", "namespace", ns, policy.LabelMode+"-")
	var got corev1.Namespace
	require.NoError(t, env.Client.Get(ctx, types.NamespacedName{Name: ns}, &got))
	since, err := time.Parse(time.RFC3339, got.Annotations[policy.AnnotationEnforcedSince])
	require.NoError(t, err, "the switch back on is recorded: %v", got.Annotations)
	assert.False(t, since.Before(d.CreationTimestamp.Time), "recorded after the workload was written")

	// The webhook's cache has the record once an unrelated edit is denied: a marker, not a sleep.
	relabel := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"payments"}}}`))
	var last error
	require.Eventually(t, func() bool {
		last = c.Patch(ctx, d.DeepCopy(), relabel, client.DryRunAll)
		return devenv.DeniedByRule(last, "replicas-min")
	}, 15*time.Second, 50*time.Millisecond, "the old violations were ratcheted: %v", last)
	requireDenied(t, c.Patch(ctx, d.DeepCopy(), relabel), "Deployment", d.Name, map[string]string{
		"spec.replicas":      "replicas-min",
		"spec.strategy.type": "api-strategy-rolling",
		"spec.template.spec.terminationGracePeriodSeconds": "api-prestop-within-grace",
		"spec.template.spec.affinity.podAntiAffinity":      "api-anti-affinity",
		"spec.template.spec.topologySpreadConstraints":     "api-zone-spread",
		"spec.template.spec.containers[0].readinessProbe":  "api-readiness-probe",
		"spec.template.spec.containers[0].livenessProbe":   "api-liveness-probe",
	})
}
