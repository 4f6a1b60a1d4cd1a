package e2e

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// The webhook's cluster cache keeps a workload's ha.laminar.io/ annotations
// (its exemptions) and drops the others, however large: kubectl's
// last-applied-configuration alone can be 256 KiB per object, and a cluster
// has thousands of Deployments. Budgets and autoscalers lose their annotations
// too. A cache of its own, started as the webhook starts it, reads what the API
// server lists.
func TestClusterCacheDropsForeignAnnotations(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t, nil)
	big := strings.Repeat("x", 200<<10)
	own := map[string]string{
		exempt.AnnotationRules:  "replicas-recommended",
		exempt.AnnotationReason: "load-test cluster, INC-4711",
	}
	foreign := func() map[string]string {
		a := map[string]string{"kubectl.kubernetes.io/last-applied-configuration": big, "example.com/owner": "team-a"}
		for k, v := range own {
			a[k] = v
		}
		return a
	}

	d := loadDeployment(t, example("api-good.yaml"), ns)
	d.Annotations = foreign()
	require.NoError(t, env.Client.Create(ctx, d))
	budget := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns, Annotations: foreign()},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: d.Spec.Template.Labels},
			MaxUnavailable: ptr.To(intstr.FromInt32(1))},
	}
	require.NoError(t, env.Client.Create(ctx, budget))
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns, Annotations: foreign()},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: workload.KindDeployment, Name: d.Name},
			MinReplicas:    ptr.To[int32](3), MaxReplicas: 6},
	}
	require.NoError(t, env.Client.Create(ctx, hpa))

	c, err := cluster.New(env.Config)
	require.NoError(t, err)
	run, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(run) }()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-done)
	})
	require.Eventually(t, func() bool { return c.SyncedChecker(nil) == nil }, 30*time.Second, 20*time.Millisecond, "the cache never synced")

	w, ok := c.Workload(ctx, workload.KindDeployment, ns, d.Name)
	require.True(t, ok, "the api Deployment is in the cache")
	assertOwnAnnotations(t, own, w.Meta.Annotations, "Deployment")
	assert.Empty(t, w.Meta.ManagedFields)
	assert.Equal(t, d.Spec.Template.Labels, w.Template.Labels)
	assert.Equal(t, d.Spec.Replicas, w.Deployment.Spec.Replicas)
	assert.Empty(t, w.Template.Spec.Containers, "no pod spec")

	budgets := c.BudgetsSelecting(ctx, ns, d.Spec.Template.Labels)
	require.Len(t, budgets, 1)
	assertOwnAnnotations(t, own, budgets[0].Annotations, "PodDisruptionBudget")
	assert.Equal(t, budget.Spec.MaxUnavailable, budgets[0].Spec.MaxUnavailable)

	hpas := c.AutoscalersTargeting(ctx, ns, workload.KindDeployment, d.Name)
	require.Len(t, hpas, 1)
	assertOwnAnnotations(t, own, hpas[0].Annotations, "HorizontalPodAutoscaler")
	assert.Equal(t, hpa.Spec.MinReplicas, hpas[0].Spec.MinReplicas)
	assert.Equal(t, hpa.Spec.MaxReplicas, hpas[0].Spec.MaxReplicas)

	// Workloads are stored in a form of their own: updates and deletes reach
	// it through the watch as they reach typed objects.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		d.Spec.Replicas = ptr.To[int32](5)
		return env.Client.Update(ctx, d)
	}))
	require.Eventually(t, func() bool {
		w, ok := c.Workload(ctx, workload.KindDeployment, ns, d.Name)
		return ok && w.Replicas() == 5
	}, 30*time.Second, 20*time.Millisecond, "the update never reached the cache")
	selected := c.WorkloadsSelected(ctx, ns, labels.SelectorFromSet(d.Spec.Template.Labels))
	require.Len(t, selected, 1)
	assert.Equal(t, int32(5), selected[0].Replicas())
	assertOwnAnnotations(t, own, selected[0].Meta.Annotations, "selected Deployment")

	require.NoError(t, env.Client.Delete(ctx, d))
	require.Eventually(t, func() bool {
		_, ok := c.Workload(ctx, workload.KindDeployment, ns, d.Name)
		return !ok
	}, 30*time.Second, 20*time.Millisecond, "the delete never reached the cache")
	assert.Empty(t, c.WorkloadsSelected(ctx, ns, labels.Everything()))
}

// assertOwnAnnotations compares the keys first, so that a failure names the
// annotations kept by mistake instead of printing 200 KiB of them.
func assertOwnAnnotations(t *testing.T, want, got map[string]string, kind string) {
	t.Helper()
	if assert.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "%s: only the ha.laminar.io/ annotations are kept", kind) {
		assert.Equal(t, want, got, kind)
	}
}
