package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkPDBKeepsOne denies a budget that lets a drain evict every pod of a Laminar
// workload at once (minAvailable 0, or maxUnavailable at or above its replicas).
func checkPDBKeepsOne(obj runtime.Object, target *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	pdb, ok := asPDB(obj)
	if !ok {
		return nil
	}
	replicas := target.Replicas()
	ref := fmt.Sprintf("%s %s (%d replicas)", target.Kind, target.Meta.Name, replicas)
	if n, ok := budgetCount(pdb.Spec.MinAvailable, replicas); ok && n == 0 {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "minAvailable"), pdb.Spec.MinAvailable.String(),
			"lets a drain evict every pod of "+ref+"; fix: set minAvailable to 1 or more")}
	}
	if n, ok := budgetCount(pdb.Spec.MaxUnavailable, replicas); ok && replicas > 0 && n >= int(replicas) {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "maxUnavailable"), pdb.Spec.MaxUnavailable.String(),
			fmt.Sprintf("lets a drain evict every pod of %s; fix: set maxUnavailable below %d", ref, replicas))}
	}
	return nil
}
