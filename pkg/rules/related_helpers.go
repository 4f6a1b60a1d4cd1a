package rules

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// asPDB and asHPA narrow a related object; a rule registered for one kind never
// sees another, so a mismatch only means "nothing to judge".
func asPDB(obj runtime.Object) (*policyv1.PodDisruptionBudget, bool) {
	pdb, ok := obj.(*policyv1.PodDisruptionBudget)
	return pdb, ok
}

func asHPA(obj runtime.Object) (*autoscalingv2.HorizontalPodAutoscaler, bool) {
	hpa, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	return hpa, ok
}

// budgetCount resolves a PDB figure against the replica count the way the
// disruption controller does: percentages round up.
func budgetCount(v *intstr.IntOrString, replicas int32) (int, bool) {
	if v == nil {
		return 0, false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, int(replicas), true)
	return n, err == nil
}

// AutoscalerFloor is the fewest replicas an autoscaler scales its target to;
// Kubernetes defaults an unset minReplicas to 1.
func AutoscalerFloor(hpa *autoscalingv2.HorizontalPodAutoscaler) int32 { return hpaMin(hpa) }

func hpaMin(hpa *autoscalingv2.HorizontalPodAutoscaler) int32 {
	if hpa.Spec.MinReplicas == nil {
		return 1
	}
	return *hpa.Spec.MinReplicas
}
