package audit

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
)

func apiDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "laminar-api"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "laminar/api:1"}}},
			},
		},
	}
}

// auditor builds an Auditor over an in-memory API server holding objs, and
// counts the writes it makes.
func auditor(t *testing.T, p *policy.Policy, objs ...client.Object) (*Auditor, client.Client, *int) {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, reportsv1alpha1.Install(scheme))
	writes := 0
	count := func() { writes++ }
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, opts...)
		},
	}).Build()
	now := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	a := New(Config{Cache: cluster.Over(c), Writer: c, Policy: admit.Static(p), Clock: func() time.Time { return now },
		Reports: true, WriteQPS: 1000, Log: logr.Discard()})
	return a, c, &writes
}

// A full pass MUST write one report per Laminar workload and nothing for
// others; a second pass over an unchanged cluster MUST write nothing at all;
// a changed workload MUST be rewritten in place; a report whose workload is
// gone MUST be deleted.
func TestAFullPassWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	bad, good := apiDeployment("team-a", "api-one", 1), apiDeployment("team-b", "api-three", 3)
	other := apiDeployment("team-a", "web", 1)
	other.Spec.Template.Labels = map[string]string{"app": "web"}
	a, c, writes := auditor(t, policy.Default(), bad, good, other)

	require.NoError(t, a.full(ctx))
	assert.Equal(t, 2, *writes, "one report per Laminar workload")
	var reports reportsv1alpha1.ReportList
	require.NoError(t, c.List(ctx, &reports))
	require.Len(t, reports.Items, 2)

	*writes = 0
	require.NoError(t, a.full(ctx))
	assert.Zero(t, *writes, "nothing changed: nothing written")

	fixed := bad.DeepCopy()
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(bad), fixed))
	fixed.Spec.Replicas = ptr(int32(3))
	require.NoError(t, c.Update(ctx, fixed))
	*writes = 0
	require.NoError(t, a.reconcile(ctx, key{"Deployment", "team-a", "api-one"}))
	assert.Equal(t, 1, *writes, "the changed workload's report, updated in place")
	rep := &reportsv1alpha1.Report{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: ReportName("Deployment", "api-one")}, rep))
	for _, r := range rep.Results {
		if r.Rule == "replicas-min" {
			assert.Equal(t, reportsv1alpha1.Result("pass"), r.Result)
		}
	}

	require.NoError(t, c.Delete(ctx, good))
	*writes = 0
	require.NoError(t, a.full(ctx))
	assert.Equal(t, 1, *writes, "the gone workload's report deleted")
	require.NoError(t, c.List(ctx, &reports))
	assert.Len(t, reports.Items, 1)
}

// The gauges MUST count the failing and warned results per namespace, rule
// and action, replace a workload's counts when it is judged again, and drop a
// series that reaches zero.
func TestTheGaugesFollowTheFindings(t *testing.T) {
	metrics.AuditViolations.Reset()
	ctx := context.Background()
	a, c, _ := auditor(t, policy.Default(), apiDeployment("gauges", "api-one", 1))
	require.NoError(t, a.full(ctx))
	assert.Equal(t, 1.0, testutil.ToFloat64(metrics.AuditViolations.WithLabelValues("gauges", "replicas-min", "deny")))
	// Series are named here by their label values in label-name order: action, namespace, rule.
	require.Contains(t, gaugeSeries(t), "deny/gauges/replicas-min")

	d := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "gauges", Name: "api-one"}, d))
	d.Spec.Replicas = ptr(int32(3))
	require.NoError(t, c.Update(ctx, d))
	require.NoError(t, a.reconcile(ctx, key{"Deployment", "gauges", "api-one"}))
	assert.NotContains(t, gaugeSeries(t), "deny/gauges/replicas-min", "a series at zero is dropped")
	assert.Contains(t, gaugeSeries(t), "warn/gauges/pdb-missing", "the other findings stay counted")
}

func gaugeSeries(t *testing.T) []string {
	t.Helper()
	ch := make(chan prometheusMetric, 100)
	go func() { metrics.AuditViolations.Collect(ch); close(ch) }()
	var out []string
	for m := range ch {
		out = append(out, labelsOf(t, m))
	}
	return out
}

func ptr[T any](v T) *T { return &v }
