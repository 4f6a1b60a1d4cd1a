package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkPDBOneAtATime warns of a budget that protects less than the guide's:
// its figures (minAvailable 2 of the api's 3 replicas, 1 of 2; 1 of the
// controller's 2) let one pod go at a time, a third of three. A budget that
// lets more than a third of the replicas be evicted at once leaves a drain
// free to take most of the workload; at larger counts a third scales with it.
// Budgets that keep nobody are pdb-keeps-one's. Only the api's: the controller
// serves from one leader, and the guide's minAvailable 1 holds at any count.
func checkPDBOneAtATime(obj runtime.Object, target *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	pdb, ok := asPDB(obj)
	if !ok {
		return nil
	}
	replicas := target.Replicas()
	var path *field.Path
	var value string
	var allowed int
	if n, ok := budgetCount(pdb.Spec.MinAvailable, replicas); ok {
		path, value, allowed = field.NewPath("spec", "minAvailable"), pdb.Spec.MinAvailable.String(), int(replicas)-n
	} else if n, ok := budgetCount(pdb.Spec.MaxUnavailable, replicas); ok {
		path, value, allowed = field.NewPath("spec", "maxUnavailable"), pdb.Spec.MaxUnavailable.String(), n
	}
	if path == nil || allowed < 2 || 3*allowed <= int(replicas) || allowed >= int(replicas) {
		return nil
	}
	// Short: on a workload's write this becomes one warning line.
	return field.ErrorList{field.Invalid(path, value, fmt.Sprintf("lets %d of %d go at once; the guide: a third", allowed, replicas))}
}
