package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// eventuallyDenied polls a dry-run request until the webhook denies it with rule:
// scale, budget and autoscaler checks find the Laminar workload in the webhook's
// watch-fed cache, which may lag the API server by a moment.
func eventuallyDenied(t *testing.T, rule string, try func() error) {
	t.Helper()
	var last error
	require.Eventually(t, func() bool {
		last = try()
		return devenv.DeniedByRule(last, rule)
	}, 15*time.Second, 50*time.Millisecond, "never denied with [%s]; last: %v", rule, last)
}

func scaleTo(d *appsv1.Deployment, n int32) *autoscalingv1.Scale {
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace},
		Spec:       autoscalingv1.ScaleSpec{Replicas: n},
	}
}

// The scale subresource (kubectl scale, autoscalers) is judged like spec.replicas.
func TestScaleSubresource(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	d := createGoodAPI(t, c)

	eventuallyDenied(t, "replicas-min", func() error {
		return c.SubResource("scale").Update(ctx, d.DeepCopy(), client.WithSubResourceBody(scaleTo(d, 1)), client.DryRunAll)
	})
	err := c.SubResource("scale").Update(ctx, d.DeepCopy(), client.WithSubResourceBody(scaleTo(d, 1)))
	requireDenied(t, err, "Deployment", d.Name, map[string]string{"spec.replicas": "replicas-min"})

	_, stderr, err := kubectl(t, "scale", "-n", d.Namespace, "deployment/"+d.Name, "--replicas=1")
	require.Error(t, err, "kubectl scale must fail")
	assert.Contains(t, stderr, "[replicas-min]")

	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, int32(3), *got.Spec.Replicas, "the denied scale-downs changed nothing")

	mustKubectl(t, "scale", "-n", d.Namespace, "deployment/"+d.Name, "--replicas=5")
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, int32(5), *got.Spec.Replicas)
}

// PodDisruptionBudgets over Laminar pods must keep one pod and still allow drains;
// a workload without one is warned.
func TestPodDisruptionBudgets(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	d := loadDeployment(t, example("api-good.yaml"), newNamespace(t, nil))
	require.NoError(t, c.Create(ctx, d))
	requireWarning(t, warns.Take(), "spec.template.metadata.labels: [pdb-missing] ")

	pdb := func(mutate func(*policyv1.PodDisruptionBudget)) *policyv1.PodDisruptionBudget {
		p, ok := readObject(t, testdata("pdb-api.yaml")).(*policyv1.PodDisruptionBudget)
		require.True(t, ok)
		p.Namespace = d.Namespace
		mutate(p)
		return p
	}
	eventuallyDenied(t, "pdb-keeps-one", func() error {
		return c.Create(ctx, pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(0)) }), client.DryRunAll)
	})
	for _, tc := range []struct {
		name        string
		mutate      func(*policyv1.PodDisruptionBudget)
		field, rule string
	}{
		{"minAvailable 0", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(0)) },
			"spec.minAvailable", "pdb-keeps-one"},
		{"minAvailable = replicas", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(3)) },
			"spec.minAvailable", "pdb-allows-drain"},
		{"maxUnavailable 0", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, ptr.To(intstr.FromInt32(0))
		}, "spec.maxUnavailable", "pdb-allows-drain"},
	} {
		err := c.Create(ctx, pdb(tc.mutate))
		requireDenied(t, err, "PodDisruptionBudget", "laminar-api", map[string]string{tc.field: tc.rule})
	}

	// A budget letting two of the three go at once protects less than the guide's: warned, admitted.
	warns.Take()
	require.NoError(t, c.Create(ctx, pdb(func(p *policyv1.PodDisruptionBudget) {
		p.Spec.MinAvailable = ptr.To(intstr.FromInt32(1))
	}), client.DryRunAll))
	requireWarning(t, warns.Take(), "spec.minAvailable: [pdb-one-at-a-time] lets 2 of 3 go at once")
	require.NoError(t, c.Create(ctx, pdb(func(*policyv1.PodDisruptionBudget) {})), "minAvailable 2 of 3 is the guide's budget")
	// Once the webhook's cache has the budget, the workload is no longer warned.
	require.Eventually(t, func() bool {
		warns.Take()
		again := loadDeployment(t, example("api-good.yaml"), d.Namespace)
		again.Name = "pdb-check"
		if err := c.Create(ctx, again, client.DryRunAll); err != nil {
			return false
		}
		for _, w := range warns.Take() {
			if ruleTag.FindString(w) == "[pdb-missing]" {
				return false
			}
		}
		return true
	}, 15*time.Second, 50*time.Millisecond)

	// The pair is judged whichever side moves: scaling 3 → 2 under minAvailable 2
	// would block every drain, and so would a workload created after its budget.
	_, stderr, err := kubectl(t, "scale", "-n", d.Namespace, "deployment/"+d.Name, "--replicas=2")
	require.Error(t, err, "a scale-down that leaves the budget blocking drains must fail")
	assert.Contains(t, stderr, "[pdb-allows-drain] PodDisruptionBudget laminar-api spec.minAvailable: blocks every eviction")
	late := loadDeployment(t, example("api-good.yaml"), d.Namespace)
	late.Name, late.Spec.Replicas = "late", ptr.To[int32](2)
	requireDenied(t, c.Create(ctx, late, client.DryRunAll), "Deployment", "late", map[string]string{"spec.replicas": "pdb-allows-drain"})
	mustKubectl(t, "scale", "-n", d.Namespace, "deployment/"+d.Name, "--replicas=4")

	// An autoscaler moves the workload's side too: with a floor of 2 it would
	// scale the 4 replicas down to where minAvailable 2 blocks every drain.
	hpa := func(floor int32) *autoscalingv2.HorizontalPodAutoscaler {
		h, ok := readObject(t, testdata("hpa-api.yaml")).(*autoscalingv2.HorizontalPodAutoscaler)
		require.True(t, ok)
		h.Namespace, h.Spec.MinReplicas = d.Namespace, &floor
		return h
	}
	requireDenied(t, c.Create(ctx, hpa(2)), "HorizontalPodAutoscaler", "laminar-api", map[string]string{"spec.minReplicas": "pdb-allows-drain"})
	require.NoError(t, c.Create(ctx, hpa(3)), "at a floor of 3, one of 3 may be drained")
	// And a budget written under that autoscaler is judged at its floor: minAvailable
	// 3 of the 4 replicas would pass, but not of the 3 the autoscaler may leave.
	eventuallyDenied(t, "pdb-allows-drain", func() error {
		tight := pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Name, p.Spec.MinAvailable = "tight", ptr.To(intstr.FromInt32(3))
		})
		return c.Create(ctx, tight, client.DryRunAll)
	})
}

// An autoscaler may not scale a Laminar workload below the HA minimum.
func TestHorizontalPodAutoscaler(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	d := createGoodAPI(t, c)
	hpa := func(minReplicas int32) *autoscalingv2.HorizontalPodAutoscaler {
		h, ok := readObject(t, testdata("hpa-api.yaml")).(*autoscalingv2.HorizontalPodAutoscaler)
		require.True(t, ok)
		h.Namespace = d.Namespace
		h.Spec.MinReplicas = &minReplicas
		return h
	}
	eventuallyDenied(t, "hpa-min-replicas", func() error {
		return c.Create(ctx, hpa(1), client.DryRunAll)
	})
	err := c.Create(ctx, hpa(1))
	requireDenied(t, err, "HorizontalPodAutoscaler", "laminar-api", map[string]string{"spec.minReplicas": "hpa-min-replicas"})
	require.NoError(t, c.Create(ctx, hpa(3)))

	// autoscaling/v1 requests reach the webhook too (matchPolicy Equivalent).
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api-v1", Namespace: d.Namespace},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name},
			MinReplicas:    ptr.To[int32](1),
			MaxReplicas:    4,
		},
	}
	err = c.Create(context.Background(), v1)
	requireDenied(t, err, "HorizontalPodAutoscaler", "laminar-api-v1", map[string]string{"spec.minReplicas": "hpa-min-replicas"})
}
