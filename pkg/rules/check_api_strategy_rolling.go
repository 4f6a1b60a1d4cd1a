package rules

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIStrategyRolling denies Recreate: it stops every API pod before starting
// new ones, so each rollout is an outage.
func checkAPIStrategyRolling(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	if t := w.Deployment.Spec.Strategy.Type; t == appsv1.RecreateDeploymentStrategyType {
		return field.ErrorList{field.Invalid(workload.SpecPath.Child("strategy", "type"), t,
			"stops every api replica before starting new ones, so each rollout is an outage; fix: use RollingUpdate with maxUnavailable 0, maxSurge 1")}
	}
	return nil
}
