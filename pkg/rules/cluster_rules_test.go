package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// fakeView is a cluster with a few PDBs, autoscalers, workloads, Services
// and IngressClasses.
type fakeView struct {
	pdbs      []policyv1.PodDisruptionBudget
	hpas      []autoscalingv2.HorizontalPodAutoscaler
	workloads []*workload.Workload
	services  []corev1.Service
	classes   []networkingv1.IngressClass
}

func (fakeView) Workload(context.Context, string, string, string) (*workload.Workload, bool) {
	return nil, false
}

func (f fakeView) WorkloadsSelected(_ context.Context, ns string, sel labels.Selector) []*workload.Workload {
	var out []*workload.Workload
	for _, w := range f.workloads {
		if w.Meta.Namespace == ns && sel.Matches(labels.Set(w.Template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (f fakeView) ServicesSelecting(_ context.Context, ns string, podLabels map[string]string) []corev1.Service {
	var out []corev1.Service
	for _, svc := range f.services {
		if sel, ok := ServicePodSelector(&svc); ok && svc.Namespace == ns && sel.Matches(labels.Set(podLabels)) {
			out = append(out, svc)
		}
	}
	return out
}

func (f fakeView) Service(_ context.Context, ns, name string) (*corev1.Service, bool) {
	for i := range f.services {
		if f.services[i].Namespace == ns && f.services[i].Name == name {
			return &f.services[i], true
		}
	}
	return nil, false
}

func (f fakeView) IngressClass(_ context.Context, name string) (*networkingv1.IngressClass, bool) {
	for i := range f.classes {
		if f.classes[i].Name == name {
			return &f.classes[i], true
		}
	}
	return nil, false
}

func (f fakeView) AutoscalersTargeting(_ context.Context, ns, kind, name string) []autoscalingv2.HorizontalPodAutoscaler {
	var out []autoscalingv2.HorizontalPodAutoscaler
	for _, h := range f.hpas {
		if h.Namespace == ns && h.Spec.ScaleTargetRef.Kind == kind && h.Spec.ScaleTargetRef.Name == name {
			out = append(out, h)
		}
	}
	return out
}

func (f fakeView) BudgetsSelecting(_ context.Context, ns string, podLabels map[string]string) []policyv1.PodDisruptionBudget {
	var out []policyv1.PodDisruptionBudget
	for _, b := range f.pdbs {
		if b.Namespace == ns && selectsPods(b.Spec.Selector, podLabels) {
			out = append(out, b)
		}
	}
	return out
}

func pdb(ns, app string, minAvailable, maxUnavailable *intstr.IntOrString) policyv1.PodDisruptionBudget {
	return policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: app + "-pdb", Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			MinAvailable:   minAvailable,
			MaxUnavailable: maxUnavailable,
		},
	}
}

func hpa(ns, kind, name string, min *int32, max int32) autoscalingv2.HorizontalPodAutoscaler {
	return autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-hpa", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: name},
			MinReplicas:    min, MaxReplicas: max,
		},
	}
}

// inNamespace places the compliant api Deployment in "laminar".
func apiIn(mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	return apiDeployment(append([]func(*appsv1.Deployment){func(d *appsv1.Deployment) { d.Namespace = "laminar" }}, mods...)...)
}

func runClusterCheck(t *testing.T, id string, obj runtime.Object, s Situation) (errs []string) {
	t.Helper()
	r := checkRule(t, id)
	if s.Ctx == nil {
		s.Ctx = context.Background()
	}
	for _, e := range runCheckIn(t, id, obj, policy.Default(), s) {
		assertDetailForm(t, r, e.Detail)
		errs = append(errs, e.Field+": "+e.Detail)
	}
	return errs
}

func TestCheckPDBMissing(t *testing.T) {
	covered := fakeView{pdbs: []policyv1.PodDisruptionBudget{pdb("laminar", "laminar-api", intVal(1), nil)}}
	elsewhere := fakeView{pdbs: []policyv1.PodDisruptionBudget{pdb("other", "laminar-api", intVal(1), nil), pdb("laminar", "web", intVal(1), nil)}}
	assert.Empty(t, runClusterCheck(t, "pdb-missing", apiIn(), Situation{}), "no view: nothing known, nothing said")
	assert.Empty(t, runClusterCheck(t, "pdb-missing", apiIn(), Situation{View: covered}))
	got := runClusterCheck(t, "pdb-missing", apiIn(), Situation{View: elsewhere})
	require.Len(t, got, 1)
	assert.Equal(t, "spec.template.metadata.labels: no PodDisruptionBudget covers these pods; fix: add one, minAvailable 1", got[0])
}

func TestCheckHPAStaticReplicas(t *testing.T) {
	view := fakeView{hpas: []autoscalingv2.HorizontalPodAutoscaler{hpa("laminar", "Deployment", "laminar-api", i32(3), 10)}}
	old := wl(t, apiIn(apiReplicas(i32(7))))
	assert.Empty(t, runClusterCheck(t, "hpa-static-replicas", apiIn(), Situation{View: view}), "create: no earlier count to reset")
	assert.Empty(t, runClusterCheck(t, "hpa-static-replicas", apiIn(apiReplicas(i32(7))), Situation{View: view, Old: old}), "count unchanged")
	assert.Empty(t, runClusterCheck(t, "hpa-static-replicas", apiIn(), Situation{View: fakeView{}, Old: old}), "no autoscaler")
	got := runClusterCheck(t, "hpa-static-replicas", apiIn(), Situation{View: view, Old: old})
	require.Len(t, got, 1)
	assert.Equal(t, "spec.replicas: an autoscaler scales this workload; fix: drop spec.replicas from the manifest", got[0])
}

// TestClusterWarningsFit holds the cluster-aware warnings to the warning length
// with long names, as TestWarningsFit does for the others.
// manyUnzonedNodes is a large cluster without zone labels.
var manyUnzonedNodes = func() Nodes {
	n := Nodes{Known: true}
	for i := range 12345 {
		n.Labels = append(n.Labels, map[string]string{"kubernetes.io/hostname": fmt.Sprintf("metal-%d", i)})
	}
	return n
}()

func TestClusterWarningsFit(t *testing.T) {
	long := strings.Repeat("n", 40)
	d := apiIn(func(d *appsv1.Deployment) { d.Name = long })
	view := fakeView{hpas: []autoscalingv2.HorizontalPodAutoscaler{hpa("laminar", "Deployment", long, i32(3), 10)}}
	view.hpas[0].Name = long
	for id, msgs := range map[string][]string{
		"pdb-missing":         runClusterCheck(t, "pdb-missing", d, Situation{View: fakeView{}}),
		"hpa-static-replicas": runClusterCheck(t, "hpa-static-replicas", d, Situation{View: view, Old: wl(t, apiIn(apiReplicas(i32(9))))}),
		"cluster-zones":       runClusterCheck(t, "cluster-zones", d, Situation{Nodes: manyUnzonedNodes}),
		"controller-hosts": runClusterCheck(t, "controller-hosts", controllerStatefulSet(ctlReplicas(i32(99999))),
			Situation{Nodes: Nodes{Known: true, Labels: []map[string]string{{"kubernetes.io/hostname": "a"}}}}),
	} {
		require.Len(t, msgs, 1, id)
		full := strings.Replace(msgs[0], ": ", ": ["+id+"] ", 1)
		assert.LessOrEqual(t, utf8.RuneCountInString(full), 120, full)
	}
}

func TestRelatedChecks(t *testing.T) {
	api := wl(t, apiIn())                                                                        // 3 replicas
	ctl := wl(t, controllerStatefulSet(func(s *appsv1.StatefulSet) { s.Namespace = "laminar" })) // 3 replicas
	pct := func(s string) *intstr.IntOrString { return pctStr(s) }
	tests := []struct {
		name   string
		id     string
		obj    runtime.Object
		target *workload.Workload
		want   []wantErr
	}{
		{name: "hpa min 2", id: "hpa-min-replicas", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(2), 5)), target: api},
		{name: "hpa min 1", id: "hpa-min-replicas", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(1), 5)), target: api,
			want: []wantErr{invalid("spec.minReplicas", int32(1), "scale below 2 replicas", "set minReplicas to 2")}},
		{name: "hpa min unset counts as 1", id: "hpa-min-replicas", obj: ptrTo(hpa("laminar", "StatefulSet", "laminar-controller", nil, 5)), target: ctl,
			want: []wantErr{invalid("spec.minReplicas", int32(1), "Laminar controller")}},
		{name: "hpa max 5", id: "hpa-max-replicas", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(2), 5)), target: api},
		{name: "hpa max below the HA floor", id: "hpa-max-replicas", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(1), 1)), target: api,
			want: []wantErr{invalid("spec.maxReplicas", int32(1), "floor of 2", "maxReplicas to 2")}},
		{name: "hpa max below its own min", id: "hpa-max-replicas", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(4), 3)), target: api,
			want: []wantErr{invalid("spec.maxReplicas", int32(3), "floor of 4")}},

		{name: "pdb min 1", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", intVal(1), nil)), target: api},
		{name: "pdb min 2 of 3", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", intVal(2), nil)), target: api},
		{name: "pdb max 0", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(0))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "0", "blocks every eviction", "maxUnavailable to 1")}},
		{name: "pdb max 0%", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", nil, pct("0%"))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "0%", "drains hang")}},
		{name: "pdb min 3 of 3", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", intVal(3), nil)), target: api,
			want: []wantErr{invalid("spec.minAvailable", "3", "(3 replicas)", "minAvailable to 2 or less")}},
		{name: "pdb min 100%", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "StatefulSet", pct("100%"), nil)), target: ctl,
			want: []wantErr{invalid("spec.minAvailable", "100%", "StatefulSet laminar-controller")}},
		{name: "pdb min 67% of 3 rounds up to 3", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", pct("67%"), nil)), target: api,
			want: []wantErr{invalid("spec.minAvailable", "67%")}},
		{name: "pdb min 50% of 3 rounds up to 2", id: "pdb-allows-drain", obj: ptrTo(pdb("laminar", "laminar-api", pct("50%"), nil)), target: api},

		{name: "pdb keeps one: min 1", id: "pdb-keeps-one", obj: ptrTo(pdb("laminar", "laminar-api", intVal(1), nil)), target: api},
		{name: "pdb min 0", id: "pdb-keeps-one", obj: ptrTo(pdb("laminar", "laminar-api", intVal(0), nil)), target: api,
			want: []wantErr{invalid("spec.minAvailable", "0", "evict every pod", "minAvailable to 1")}},
		{name: "pdb max 3 of 3", id: "pdb-keeps-one", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(3))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "3", "maxUnavailable below 3")}},
		{name: "pdb max 100%", id: "pdb-keeps-one", obj: ptrTo(pdb("laminar", "laminar-api", nil, pct("100%"))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "100%")}},
		{name: "pdb max 1 of 3", id: "pdb-keeps-one", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(1))), target: api},
		{name: "the guide's api budget: 2 of 3", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", intVal(2), nil)), target: api},
		{name: "min 1 of 3 lets two go", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", intVal(1), nil)), target: api,
			want: []wantErr{invalid("spec.minAvailable", "1", "lets 2 of 3 go at once")}},
		{name: "max 2 of 3", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(2))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "2", "lets 2 of 3")}},
		{name: "max 34% of 3 rounds up to 2", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", nil, pct("34%"))), target: api,
			want: []wantErr{invalid("spec.maxUnavailable", "34%")}},
		{name: "2 of 9 is within a third", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(2))), target: wl(t, apiIn(apiReplicas(i32(9))))},
		{name: "4 of 9 is not", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(4))), target: wl(t, apiIn(apiReplicas(i32(9)))),
			want: []wantErr{invalid("spec.maxUnavailable", "4", "lets 4 of 9")}},
		{name: "all of them is pdb-keeps-one's", id: "pdb-one-at-a-time", obj: ptrTo(pdb("laminar", "laminar-api", nil, intVal(3))), target: api},
		{name: "wrong kind is not judged", id: "pdb-keeps-one", obj: ptrTo(hpa("laminar", "Deployment", "laminar-api", i32(0), 1)), target: api},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := relatedRule(t, tc.id)
			assertErrs(t, tc.id, r.Judge(tc.obj, tc.target, policy.Default(), Situation{}), tc.want...)
		})
	}
}

// TestControllerHosts: more controller replicas than schedulable hosts under a
// required hostname anti-affinity MUST be warned about: the surplus stays Pending.
func TestControllerHosts(t *testing.T) {
	hosts := func(n int) Situation {
		s := Situation{Nodes: Nodes{Known: true}}
		for i := range n {
			s.Nodes.Labels = append(s.Nodes.Labels, map[string]string{"kubernetes.io/hostname": fmt.Sprintf("n%d", i)})
		}
		return s
	}
	three := controllerStatefulSet() // 3 replicas, required anti-affinity
	assert.Empty(t, runClusterCheck(t, "controller-hosts", three, hosts(3)))
	assert.Empty(t, runClusterCheck(t, "controller-hosts", three, Situation{}), "nothing known")
	assert.Equal(t, []string{"spec.replicas: exceeds the 2 schedulable nodes: 1 pod(s) stay Pending (required anti-affinity)"},
		runClusterCheck(t, "controller-hosts", three, hosts(2)))
	preferred := controllerStatefulSet(ctlPod(func(p *corev1.PodSpec) {
		p.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100, PodAffinityTerm: p.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]}}}
	}))
	assert.Equal(t, []string{"spec.replicas: exceeds the 2 schedulable nodes: replicas share nodes (no required anti-affinity)"},
		runClusterCheck(t, "controller-hosts", preferred, hosts(2)), "a preferred term lets pods share a node")
}

// TestNoRequiredAntiAffinityBeyondTheHosts: the controller's required
// anti-affinity MUST NOT be injected (nor required) where its replicas
// outnumber the schedulable hosts: the surplus pods would never schedule.
func TestNoRequiredAntiAffinityBeyondTheHosts(t *testing.T) {
	two := Situation{Nodes: Nodes{Known: true, Labels: []map[string]string{{"kubernetes.io/hostname": "a"}, {"kubernetes.io/hostname": "b"}}}}
	three := minimalControllerStatefulSet(ctlReplicas(i32(3)))
	assert.False(t, runDefaultIn(t, "set-controller-anti-affinity", three, pol(), two))
	assert.Nil(t, three.Spec.Template.Spec.Affinity)
	assertNoErrs(t, runCheckIn(t, "controller-anti-affinity", three, pol(), two))
	assert.Len(t, runClusterCheck(t, "controller-hosts", three, two), 1)

	pair := minimalControllerStatefulSet(ctlReplicas(i32(2)))
	assert.True(t, runDefaultIn(t, "set-controller-anti-affinity", pair, pol(), two), "two replicas fit two hosts")
	assert.Len(t, runCheckIn(t, "controller-anti-affinity", minimalControllerStatefulSet(ctlReplicas(i32(2))), pol(), two), 1)
}
