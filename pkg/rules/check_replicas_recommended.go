package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkReplicasRecommended warns when a workload meets the floor but not the guide's
// recommendation: with two replicas, a rollout or a drain leaves a single pod.
func checkReplicasRecommended(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	r := replicasFor(w.Role, p)
	if n := w.Replicas(); n >= r.Min && n < r.Recommended {
		return field.ErrorList{field.Invalid(workload.SpecPath.Child("replicas"), n,
			fmt.Sprintf("%d is below the recommended %d", n, r.Recommended))}
	}
	return nil
}
