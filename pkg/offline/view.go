package offline

import (
	"context"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var _ rules.View = (*inputView)(nil)

// inputView is the input as the cluster around the Services and Ingresses it
// holds: its Laminar workloads (as written: only their pod labels are read),
// Services and IngressClasses, as the Namespaces of the input play the
// cluster's namespaces. Its budgets and autoscalers are not read, so the
// related checks of those pass.
//
// The workloads' own checks get no view: rules such as pdb-missing would
// otherwise judge the input as if it were the whole cluster.
type inputView struct {
	workloads []*workload.Workload
	services  []corev1.Service
	classes   []networkingv1.IngressClass
}

// add takes in what one object of the input contributes; later objects of the
// same name win, as a later apply would.
func (v *inputView) add(o manifest.Object) {
	switch {
	case o.Typed != nil && o.Err == nil:
		if w, ok := workload.FromObject(o.Typed); ok {
			v.workloads = append(v.workloads, w)
		}
	case o.GVK == corev1.SchemeGroupVersion.WithKind(rules.KindService):
		var svc corev1.Service
		if kubejson.Unmarshal(o.JSON, &svc) == nil {
			v.services = append(v.services, svc)
		}
	case o.GVK == networkingv1.SchemeGroupVersion.WithKind("IngressClass"):
		var class networkingv1.IngressClass
		if kubejson.Unmarshal(o.JSON, &class) == nil {
			v.classes = append(v.classes, class)
		}
	}
}

// Workload implements rules.View.
func (v *inputView) Workload(_ context.Context, kind, namespace, name string) (*workload.Workload, bool) {
	for i := len(v.workloads) - 1; i >= 0; i-- {
		w := v.workloads[i]
		if w.Kind == kind && w.Meta.Namespace == namespace && w.Meta.Name == name {
			return w, true
		}
	}
	return nil, false
}

// WorkloadsSelected implements rules.View.
func (v *inputView) WorkloadsSelected(_ context.Context, namespace string, sel labels.Selector) []*workload.Workload {
	var out []*workload.Workload
	seen := map[string]bool{}
	for i := len(v.workloads) - 1; i >= 0; i-- {
		w := v.workloads[i]
		key := w.Kind + "/" + w.Meta.Name
		if w.Meta.Namespace != namespace || seen[key] {
			continue
		}
		seen[key] = true
		if sel.Matches(labels.Set(w.Template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// AutoscalersTargeting implements rules.View: none are read from the input.
func (*inputView) AutoscalersTargeting(context.Context, string, string, string) []autoscalingv2.HorizontalPodAutoscaler {
	return nil
}

// BudgetsSelecting implements rules.View: none are read from the input.
func (*inputView) BudgetsSelecting(context.Context, string, map[string]string) []policyv1.PodDisruptionBudget {
	return nil
}

// ServicesSelecting implements rules.View: the workloads' own checks, which
// alone ask, get no view offline.
func (*inputView) ServicesSelecting(context.Context, string, map[string]string) []corev1.Service {
	return nil
}

// Service implements rules.View.
func (v *inputView) Service(_ context.Context, namespace, name string) (*corev1.Service, bool) {
	for i := len(v.services) - 1; i >= 0; i-- {
		if s := &v.services[i]; s.Namespace == namespace && s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// IngressClass implements rules.View.
func (v *inputView) IngressClass(_ context.Context, name string) (*networkingv1.IngressClass, bool) {
	for i := len(v.classes) - 1; i >= 0; i-- {
		if c := &v.classes[i]; c.Name == name {
			return c, true
		}
	}
	return nil, false
}
