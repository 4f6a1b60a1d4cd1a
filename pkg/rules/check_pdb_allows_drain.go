package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkPDBAllowsDrain denies a budget that forbids every voluntary eviction of a
// Laminar workload (maxUnavailable 0, or minAvailable at or above its replicas):
// node drains and cluster upgrades then hang until someone deletes the budget.
func checkPDBAllowsDrain(obj runtime.Object, target *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	pdb, ok := asPDB(obj)
	if !ok {
		return nil
	}
	replicas := target.Replicas()
	ref := fmt.Sprintf("%s %s (%d replicas)", target.Kind, target.Meta.Name, replicas)
	if n, ok := budgetCount(pdb.Spec.MaxUnavailable, replicas); ok && n == 0 {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "maxUnavailable"), pdb.Spec.MaxUnavailable.String(),
			"blocks every eviction of "+ref+", so drains hang; fix: set maxUnavailable to 1")}
	}
	if n, ok := budgetCount(pdb.Spec.MinAvailable, replicas); ok && n >= int(replicas) && replicas > 0 {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "minAvailable"), pdb.Spec.MinAvailable.String(),
			fmt.Sprintf("blocks every eviction of %s, so drains hang; fix: set minAvailable to %d or less", ref, replicas-1))}
	}
	return nil
}
