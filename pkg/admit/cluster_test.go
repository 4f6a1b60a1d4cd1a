package admit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// fakeCluster is a cluster with one Laminar api Deployment (3 replicas) in
// "laminar", plus whatever budgets and autoscalers a test adds.
type fakeCluster struct {
	api      *workload.Workload
	pdbs     []policyv1.PodDisruptionBudget
	hpas     []autoscalingv2.HorizontalPodAutoscaler
	services []corev1.Service
	classes  []networkingv1.IngressClass
}

func (f *fakeCluster) ServicesSelecting(_ context.Context, ns string, podLabels map[string]string) []corev1.Service {
	var out []corev1.Service
	for _, svc := range f.services {
		if sel, ok := rules.ServicePodSelector(&svc); ok && svc.Namespace == ns && sel.Matches(labels.Set(podLabels)) {
			out = append(out, svc)
		}
	}
	return out
}

func (f *fakeCluster) Service(_ context.Context, ns, name string) (*corev1.Service, bool) {
	for i := range f.services {
		if f.services[i].Namespace == ns && f.services[i].Name == name {
			return &f.services[i], true
		}
	}
	return nil, false
}

func (f *fakeCluster) IngressClass(_ context.Context, name string) (*networkingv1.IngressClass, bool) {
	for i := range f.classes {
		if f.classes[i].Name == name {
			return &f.classes[i], true
		}
	}
	return nil, false
}

func newFakeCluster(t testing.TB) *fakeCluster {
	t.Helper()
	obj, _, err := manifest.Decode([]byte(fixtureYAML(t, "mutate/api-minimal.golden.yaml")))
	require.NoError(t, err)
	w, ok := workload.FromObject(obj)
	require.True(t, ok)
	return &fakeCluster{api: w}
}

func (f *fakeCluster) Workload(_ context.Context, kind, ns, name string) (*workload.Workload, bool) {
	if kind == f.api.Kind && ns == f.api.Meta.Namespace && name == f.api.Meta.Name {
		return f.api, true
	}
	return nil, false
}

func (f *fakeCluster) WorkloadsSelected(_ context.Context, ns string, sel labels.Selector) []*workload.Workload {
	if ns == f.api.Meta.Namespace && sel.Matches(labels.Set(f.api.Template.Labels)) {
		return []*workload.Workload{f.api}
	}
	return nil
}

func (f *fakeCluster) AutoscalersTargeting(_ context.Context, ns, kind, name string) []autoscalingv2.HorizontalPodAutoscaler {
	var out []autoscalingv2.HorizontalPodAutoscaler
	for _, h := range f.hpas {
		if h.Namespace == ns && h.Spec.ScaleTargetRef.Kind == kind && h.Spec.ScaleTargetRef.Name == name {
			out = append(out, h)
		}
	}
	return out
}

func (f *fakeCluster) BudgetsSelecting(_ context.Context, ns string, podLabels map[string]string) []policyv1.PodDisruptionBudget {
	var out []policyv1.PodDisruptionBudget
	for _, b := range f.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err == nil && b.Namespace == ns && sel.Matches(labels.Set(podLabels)) {
			out = append(out, b)
		}
	}
	return out
}

func scaleRequest(resource string, name string, replicas, oldReplicas int32) admission.Request {
	obj := fmt.Sprintf(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":%q,"namespace":"laminar"},"spec":{"replicas":%d}}`, name, replicas)
	old := fmt.Sprintf(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":%q,"namespace":"laminar"},"spec":{"replicas":%d}}`, name, oldReplicas)
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "s-1", Operation: admissionv1.Update, Namespace: "laminar", Name: name, SubResource: "scale",
		Kind:      metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
		Resource:  metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource},
		Object:    runtime.RawExtension{Raw: []byte(obj)},
		OldObject: runtime.RawExtension{Raw: []byte(old)},
	}}
}

func TestScaleSubresource(t *testing.T) {
	c := newFakeCluster(t)
	v := admit.NewScaleValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
	ctx := context.Background()

	r := v.Handle(ctx, scaleRequest("deployments", "laminar-api", 1, 3))
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result.Details)
	assert.Equal(t, "Deployment", r.Result.Details.Kind)
	require.Len(t, r.Result.Details.Causes, 1)
	assert.Equal(t, "spec.replicas", r.Result.Details.Causes[0].Field)
	// The same message an edit of spec.replicas gets.
	assert.Contains(t, r.Result.Message, `spec.replicas: Invalid value: 1: [replicas-min] a Laminar api needs at least 2 replicas`)

	r = v.Handle(ctx, scaleRequest("deployments", "laminar-api", 5, 3))
	assert.True(t, r.Allowed, "scaling within limits is never blocked")
	assert.Empty(t, r.Warnings)

	r = v.Handle(ctx, scaleRequest("deployments", "laminar-api", 2, 3))
	assert.True(t, r.Allowed)
	assert.Len(t, r.Warnings, 1, "2 is below the recommended 3")

	r = v.Handle(ctx, scaleRequest("deployments", "web", 0, 3))
	assert.True(t, r.Allowed, "not a Laminar workload")
	r = v.Handle(ctx, scaleRequest("replicasets", "laminar-api", 0, 3))
	assert.True(t, r.Allowed)

	// An exemption on the parent holds for its scale subresource too.
	c.api = c.api.WithReplicas(3)
	c.api.Meta.Annotations = map[string]string{"ha.laminar.io/exempt": "replicas-min", "ha.laminar.io/exempt-reason": "nightly scale-to-zero, INC-88"}
	r = v.Handle(ctx, scaleRequest("deployments", "laminar-api", 0, 3))
	assert.True(t, r.Allowed)
	assert.Equal(t, "replicas-min", r.AuditAnnotations[admit.AuditExempted])

	// Broken Scale objects are errors, never allows.
	bad := scaleRequest("deployments", "laminar-api", 1, 3)
	bad.Object.Raw = []byte(`{"spec":{"replicas":"one"}}`)
	r = v.Handle(ctx, bad)
	assert.False(t, r.Allowed)
	assert.Equal(t, int32(400), r.Result.Code)
}

func relatedRequest(t *testing.T, kind metav1.GroupVersionKind, obj any) admission.Request {
	t.Helper()
	raw, err := jsonMarshal(obj)
	require.NoError(t, err)
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "r-1", Operation: admissionv1.Create, Namespace: "laminar", Kind: kind,
		Object: runtime.RawExtension{Raw: raw},
	}}
}

func TestPodDisruptionBudgets(t *testing.T) {
	v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: newFakeCluster(t)})
	kind := metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	pdb := func(min, max string) *policyv1.PodDisruptionBudget {
		b := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "laminar"},
			Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}}}}
		if min != "" {
			b.Spec.MinAvailable = intOrString(min)
		}
		if max != "" {
			b.Spec.MaxUnavailable = intOrString(max)
		}
		return b
	}
	for _, tc := range []struct {
		name     string
		pdb      *policyv1.PodDisruptionBudget
		allowed  bool
		rule     string
		causeFor string
	}{
		{name: "minAvailable 1", pdb: pdb("1", ""), allowed: true},
		{name: "maxUnavailable 1", pdb: pdb("", "1"), allowed: true},
		{name: "maxUnavailable 0 blocks drains", pdb: pdb("", "0"), rule: "pdb-allows-drain", causeFor: "spec.maxUnavailable"},
		{name: "minAvailable 100% blocks drains", pdb: pdb("100%", ""), rule: "pdb-allows-drain", causeFor: "spec.minAvailable"},
		{name: "minAvailable 3 of 3 blocks drains", pdb: pdb("3", ""), rule: "pdb-allows-drain", causeFor: "spec.minAvailable"},
		{name: "minAvailable 0 keeps nothing", pdb: pdb("0", ""), rule: "pdb-keeps-one", causeFor: "spec.minAvailable"},
		{name: "maxUnavailable 3 of 3 keeps nothing", pdb: pdb("", "3"), rule: "pdb-keeps-one", causeFor: "spec.maxUnavailable"},
		{name: "selecting other pods is not judged", pdb: func() *policyv1.PodDisruptionBudget {
			b := pdb("", "0")
			b.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
			return b
		}(), allowed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.Handle(context.Background(), relatedRequest(t, kind, tc.pdb))
			assert.Equal(t, tc.allowed, r.Allowed, "%v", r.Result)
			if !tc.allowed {
				require.NotNil(t, r.Result.Details)
				assert.Equal(t, "PodDisruptionBudget", r.Result.Details.Kind)
				require.Len(t, r.Result.Details.Causes, 1)
				assert.Equal(t, tc.causeFor, r.Result.Details.Causes[0].Field)
				assert.Contains(t, r.Result.Details.Causes[0].Message, "["+tc.rule+"]")
			}
		})
	}
}

func TestAutoscalers(t *testing.T) {
	v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: newFakeCluster(t)})
	kind := metav1.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}
	hpa := func(target string, min *int32, max int32) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "laminar"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
				MinReplicas:    min, MaxReplicas: max}}
	}
	two, one := int32(2), int32(1)
	r := v.Handle(context.Background(), relatedRequest(t, kind, hpa("laminar-api", &two, 10)))
	assert.True(t, r.Allowed)
	r = v.Handle(context.Background(), relatedRequest(t, kind, hpa("laminar-api", &one, 10)))
	assert.False(t, r.Allowed)
	assert.Contains(t, r.Result.Message, "spec.minReplicas: Invalid value: 1: [hpa-min-replicas]")
	r = v.Handle(context.Background(), relatedRequest(t, kind, hpa("laminar-api", nil, 10)))
	assert.False(t, r.Allowed, "unset minReplicas counts as 1")
	r = v.Handle(context.Background(), relatedRequest(t, kind, hpa("web", &one, 1)))
	assert.True(t, r.Allowed, "not a Laminar target")
}

func TestWorkloadWarningsFromTheCluster(t *testing.T) {
	c := newFakeCluster(t)
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
	obj := fixtureJSON(t, "mutate/api-minimal.golden.yaml")
	ctx := context.Background()

	r := v.Handle(ctx, request(t, admissionv1.Create, "laminar", obj, ""))
	assert.True(t, r.Allowed)
	require.Len(t, r.Warnings, 1)
	assert.Contains(t, r.Warnings[0], "[pdb-missing]")

	c.pdbs = []policyv1.PodDisruptionBudget{{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "laminar"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}}}}}
	r = v.Handle(ctx, request(t, admissionv1.Create, "laminar", obj, ""))
	assert.Empty(t, r.Warnings)

	// With an autoscaler, an update that resets the count warns; one that keeps it does not.
	c.hpas = []autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "laminar"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "laminar-api"}}}}
	scaled := c.api.WithReplicas(6)
	old, err := jsonMarshal(scaled.Deployment)
	require.NoError(t, err)
	r = v.Handle(ctx, request(t, admissionv1.Update, "laminar", obj, string(old)))
	assert.True(t, r.Allowed)
	require.Len(t, r.Warnings, 1)
	assert.Contains(t, r.Warnings[0], "[hpa-static-replicas]")
	r = v.Handle(ctx, request(t, admissionv1.Update, "laminar", obj, obj))
	assert.Empty(t, r.Warnings)
}

// TestObjectsAreReadCaseSensitively: a Scale, budget or workload that names a
// field twice (or beside a case variant) is refused as unreadable, never read
// the way encoding/json would, which takes "Replicas" for "replicas".
func TestObjectsAreReadCaseSensitively(t *testing.T) {
	c := newFakeCluster(t)
	ctx := context.Background()
	scale := admit.NewScaleValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
	req := scaleRequest("deployments", "laminar-api", 3, 3)
	req.Object.Raw = []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"laminar-api","namespace":"laminar"},"spec":{"replicas":1,"Replicas":3}}`)
	r := scale.Handle(ctx, req)
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result)
	assert.Equal(t, int32(400), r.Result.Code)
	assert.Contains(t, r.Result.Message, "spec.Replicas")

	related := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
	r = related.Handle(ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "p-1", Operation: admissionv1.Create, Namespace: "laminar", Name: "pdb",
		Kind:     metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
		Resource: metav1.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		Object: runtime.RawExtension{Raw: []byte(`{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb","namespace":"laminar"},` +
			`"spec":{"minAvailable":0,"minAvailable":2,"selector":{"matchLabels":{"app":"laminar-api"}}}}`)},
	}})
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result)
	assert.Equal(t, int32(400), r.Result.Code)
	assert.Contains(t, r.Result.Message, "spec.minAvailable")
}

// TestAnAutoscalerFloorUnderABudgetIsJudgedWhicheverSideMoves: the autoscaler
// may scale the api (3 replicas) down to its minReplicas, so a budget of
// minAvailable 2 over an autoscaler with floor 2 leaves every drain blocked
// there. It MUST be denied whether the autoscaler or the budget is written,
// with the budget check's message, at the field that moved.
func TestAnAutoscalerFloorUnderABudgetIsJudgedWhicheverSideMoves(t *testing.T) {
	hpaKind := metav1.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}
	pdbKind := metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	hpa := func(floor int32) autoscalingv2.HorizontalPodAutoscaler {
		return autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "laminar"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "laminar-api"},
				MinReplicas:    &floor, MaxReplicas: 10}}
	}
	minAvailable2 := policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "api-budget", Namespace: "laminar"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOrString("2"),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}}}}

	t.Run("the autoscaler is written", func(t *testing.T) {
		c := newFakeCluster(t)
		c.pdbs = []policyv1.PodDisruptionBudget{minAvailable2}
		v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
		floor2 := hpa(2)
		r := v.Handle(context.Background(), relatedRequest(t, hpaKind, &floor2))
		require.False(t, r.Allowed)
		require.Len(t, r.Result.Details.Causes, 1)
		assert.Equal(t, "spec.minReplicas", r.Result.Details.Causes[0].Field)
		assert.Contains(t, r.Result.Details.Causes[0].Message, "[pdb-allows-drain] PodDisruptionBudget api-budget spec.minAvailable: blocks every eviction of Deployment laminar-api (2 replicas)")

		floor3 := hpa(3)
		r = v.Handle(context.Background(), relatedRequest(t, hpaKind, &floor3))
		assert.True(t, r.Allowed, "at a floor of 3 one of 3 may be drained: %v", r.Result)
		c.pdbs[0].Spec.MinAvailable = intOrString("1")
		r = v.Handle(context.Background(), relatedRequest(t, hpaKind, &floor2))
		assert.True(t, r.Allowed, "%v", r.Result)
	})
	t.Run("the budget is written", func(t *testing.T) {
		c := newFakeCluster(t)
		v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c})
		r := v.Handle(context.Background(), relatedRequest(t, pdbKind, &minAvailable2))
		assert.True(t, r.Allowed, "without an autoscaler 2 of 3 may be drained: %v", r.Result)

		c.hpas = []autoscalingv2.HorizontalPodAutoscaler{hpa(2)}
		r = v.Handle(context.Background(), relatedRequest(t, pdbKind, &minAvailable2))
		require.False(t, r.Allowed)
		require.Len(t, r.Result.Details.Causes, 1)
		assert.Equal(t, "spec.minAvailable", r.Result.Details.Causes[0].Field)
		assert.Contains(t, r.Result.Details.Causes[0].Message, "[pdb-allows-drain] blocks every eviction of Deployment laminar-api (2 replicas)")
	})
}
