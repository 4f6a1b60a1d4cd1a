package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkPDBMissing warns when no PodDisruptionBudget covers the workload's pods: a
// node drain may then evict every replica at once. It only warns, because a
// budget is often applied after the workload it protects.
func checkPDBMissing(w *workload.Workload, _ *policy.Policy, s Situation) field.ErrorList {
	if s.View == nil || len(s.View.BudgetsSelecting(s.Ctx, w.Meta.Namespace, w.Template.Labels)) > 0 {
		return nil
	}
	return field.ErrorList{field.Required(workload.SpecPath.Child("template", "metadata", "labels"),
		"no PodDisruptionBudget covers these pods; fix: add one, minAvailable 1")}
}
