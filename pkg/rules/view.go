package rules

import (
	"context"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// View is the cluster state some rules read: PodDisruptionBudgets, autoscalers
// and the workloads they point at. The webhook answers from watch-fed caches; the
// offline check from the objects in its input.
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
}

// Situation is what a cluster-aware workload rule sees besides the object.
type Situation struct {
	Ctx context.Context
	// Old is the stored object on UPDATE, nil on CREATE.
	Old *workload.Workload
	// View is nil where no cluster state is known; cluster-aware rules then pass.
	View View
}

// ClusterCheckFunc is a workload check that needs cluster state or the old object.
type ClusterCheckFunc func(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList

// RelatedCheckFunc judges an object that governs a Laminar workload (a
// PodDisruptionBudget, an autoscaler) against that workload.
type RelatedCheckFunc func(obj runtime.Object, target *workload.Workload, p *policy.Policy) field.ErrorList

// Kinds of related objects.
const (
	KindPodDisruptionBudget     = "PodDisruptionBudget"
	KindHorizontalPodAutoscaler = "HorizontalPodAutoscaler"
)
