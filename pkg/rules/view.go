package rules

import (
	"context"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// View is the cluster state some rules read: PodDisruptionBudgets, autoscalers,
// Services and IngressClasses, and the workloads they point at. The webhook answers from watch-fed caches
// (pkg/cluster); the offline check has none, and those rules pass there.
type View interface {
	// Workload finds a Deployment or StatefulSet; ok is false when it is not known
	// or is not Laminar's.
	Workload(ctx context.Context, kind, namespace, name string) (w *workload.Workload, ok bool)
	// WorkloadsSelected lists the Laminar workloads in namespace whose pod labels sel matches.
	WorkloadsSelected(ctx context.Context, namespace string, sel labels.Selector) []*workload.Workload
	// AutoscalersTargeting lists the HorizontalPodAutoscalers in namespace that scale kind/name.
	AutoscalersTargeting(ctx context.Context, namespace, kind, name string) []autoscalingv2.HorizontalPodAutoscaler
	// BudgetsSelecting lists the PodDisruptionBudgets in namespace whose selector matches podLabels.
	BudgetsSelecting(ctx context.Context, namespace string, podLabels map[string]string) []policyv1.PodDisruptionBudget
	// ServicesSelecting lists the Services in namespace whose selector matches
	// podLabels (none of those that select no pods: ServicePodSelector).
	ServicesSelecting(ctx context.Context, namespace string, podLabels map[string]string) []corev1.Service
	// Service finds a Service (the backend an Ingress names); ok is false when it is not known.
	Service(ctx context.Context, namespace, name string) (svc *corev1.Service, ok bool)
	// IngressClass finds an IngressClass (which controller serves an Ingress); ok
	// is false when it is not known.
	IngressClass(ctx context.Context, name string) (class *networkingv1.IngressClass, ok bool)
}

// Kinds of related objects.
const (
	KindPodDisruptionBudget     = "PodDisruptionBudget"
	KindHorizontalPodAutoscaler = "HorizontalPodAutoscaler"
	KindService                 = "Service"
	KindIngress                 = "Ingress"
)
