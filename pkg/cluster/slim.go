package cluster

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// keptAnnotationPrefix starts the only annotations the cache keeps: the webhook's
// own (the exemptions, pkg/exempt). Every other annotation is somebody else's —
// kubectl's last-applied-configuration alone can be 256 KiB per object — and no
// rule reads it.
const keptAnnotationPrefix = "ha.laminar.io/"

// stripManagedFields is what objects of a kind slim does not know get: it
// cannot tell what their readers need, and no reader needs managedFields.
var stripManagedFields = cache.TransformStripManagedFields()

// slim is the transform of every cached object: it keeps what the webhook
// reads and drops the rest, so the cache grows with the number of objects in
// the cluster but not with their size.
//
// What is read, and so kept:
//   - Deployments and StatefulSets (rules.View.Workload, WorkloadsSelected):
//     the pod template's labels (role and selection by budgets), spec.replicas,
//     and the ha.laminar.io/ annotations (exemptions, for scale requests and for
//     the budgets and autoscalers judged against the workload);
//   - HorizontalPodAutoscalers (AutoscalersTargeting): scaleTargetRef, and the
//     minReplicas/maxReplicas bounds;
//   - PodDisruptionBudgets (BudgetsSelecting, the budget rules): selector,
//     minAvailable and maxUnavailable; the rules name the budget;
//   - Nodes (Nodes): labels (zone, hostname), whether cordoned, and taints;
//   - Services (Service, the backends an Ingress names): selector (which pods
//     it routes to), type and sessionAffinity;
//   - IngressClasses (IngressClass): spec.controller (which load balancer
//     serves an Ingress of the class);
//   - Namespaces, cached as metadata only (Labels): their labels.
//
// Every kind keeps name, namespace, uid, resourceVersion (what identifies the
// object and its version in the informer) and creationTimestamp (whether a
// workload behind a scale request may be ratcheted). Only Nodes and the
// metadata-only kinds (Namespaces, the audit's reports) keep their own labels:
// those are read. The others' own labels are read by no rule and go — Helm
// alone puts six on every object, which cost more than the rest of a slimmed
// budget or autoscaler: 1.7 of the 5.4 KiB of live heap a Helm-installed
// Deployment, budget and autoscaler took together (docs/performance.md, "Scale
// with the cluster"). Status, the pod spec, the workload's
// selector, owner references, finalizers, managedFields and every other
// annotation go.
//
// Workloads, budgets and autoscalers are then kept in a form of their own
// (stored), a seventh to a half of the typed object's size (168 bytes
// against 1,232 for a Deployment, 168 against 352 for a budget).
//
// slim may be handed an object it already slimmed (client-go asks transforms to
// be idempotent), and it is: every step keeps a subset of what is there.
func slim(obj any) (any, error) {
	if s, ok := obj.(stored); ok {
		return s, nil
	}
	obj, err := slimObject(obj)
	if err != nil {
		return nil, err
	}
	if s, ok := store(obj); ok {
		return s, nil
	}
	return obj, nil
}

// slimObject is slim's typed half: the object of the same type with only what
// is read. The offline check's fixed view holds these (FromObjects).
func slimObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas, Template: slimTemplate(&o.Spec.Template)}
		o.Status = appsv1.DeploymentStatus{}
	case *appsv1.StatefulSet:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas, Template: slimTemplate(&o.Spec.Template)}
		o.Status = appsv1.StatefulSetStatus{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: o.Spec.ScaleTargetRef,
			MinReplicas: o.Spec.MinReplicas, MaxReplicas: o.Spec.MaxReplicas}
		o.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	case *policyv1.PodDisruptionBudget:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = policyv1.PodDisruptionBudgetSpec{Selector: o.Spec.Selector,
			MinAvailable: o.Spec.MinAvailable, MaxUnavailable: o.Spec.MaxUnavailable}
		o.Status = policyv1.PodDisruptionBudgetStatus{}
	case *corev1.Node:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, true)
		o.Spec = corev1.NodeSpec{Unschedulable: o.Spec.Unschedulable, Taints: o.Spec.Taints}
		o.Status = corev1.NodeStatus{}
	case *corev1.Service:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = corev1.ServiceSpec{Selector: o.Spec.Selector, Type: o.Spec.Type, SessionAffinity: o.Spec.SessionAffinity}
		o.Status = corev1.ServiceStatus{}
	case *networkingv1.IngressClass:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, false)
		o.Spec = networkingv1.IngressClassSpec{Controller: o.Spec.Controller}
	case *metav1.PartialObjectMetadata:
		o.ObjectMeta = slimMeta(&o.ObjectMeta, true)
	default:
		return stripManagedFields(obj)
	}
	return obj, nil
}

// slimMeta keeps what identifies the object, its creation time and the
// webhook's annotations, and its labels only with keepLabels.
func slimMeta(m *metav1.ObjectMeta, keepLabels bool) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:            m.Name,
		Namespace:       m.Namespace,
		UID:             m.UID,
		ResourceVersion: m.ResourceVersion,
		// Ratcheting trusts an old object only if it was created after its
		// namespace's enforcement was last switched back on.
		CreationTimestamp: m.CreationTimestamp,
		Annotations:       ownAnnotations(m.Annotations),
	}
	if keepLabels {
		out.Labels = m.Labels
	}
	return out
}

// slimTemplate keeps the pod labels: they make a workload Laminar's and are
// what budgets select. A workload whose labels name no Laminar role keeps
// none: every reader of the cache's workloads (rules.View's Workload and
// WorkloadsSelected, through workload.FromObject) passes over it, and in a
// cluster that runs other things beside Laminar those are most workloads.
//
// A controller's containers keep their names, command, args and env: a scale
// request carries none of them, yet more than one replica of a controller
// that elects no leader is two leaders (controller-leader-election judges
// scale requests too). They are a few short strings, and only Laminar
// controllers keep them.
func slimTemplate(t *corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	role, ok := workload.RoleFromLabels(t.Labels)
	if !ok {
		return corev1.PodTemplateSpec{}
	}
	out := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: t.Labels}}
	if role == workload.RoleController {
		for _, c := range t.Spec.Containers {
			out.Spec.Containers = append(out.Spec.Containers, corev1.Container{Name: c.Name, Command: c.Command, Args: c.Args, Env: c.Env})
		}
	}
	return out
}

// ownAnnotations is a new map of the ha.laminar.io/ annotations, nil when
// there are none, so the dropped values are not kept alive by the old map.
func ownAnnotations(in map[string]string) map[string]string {
	var out map[string]string
	for k, v := range in {
		if !strings.HasPrefix(k, keptAnnotationPrefix) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}
