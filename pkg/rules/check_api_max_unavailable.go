package rules

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIMaxUnavailable denies a rolling update that may stop every replica at
// once. Percentages round down, as the Deployment controller rounds them.
func checkAPIMaxUnavailable(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	s := w.Deployment.Spec.Strategy
	if s.Type == appsv1.RecreateDeploymentStrategyType || s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil {
		return nil
	}
	replicas := int(w.Replicas())
	mu := s.RollingUpdate.MaxUnavailable
	path := workload.SpecPath.Child("strategy", "rollingUpdate", "maxUnavailable")
	n, err := intstr.GetScaledValueFromIntOrPercent(mu, replicas, false)
	if err != nil {
		return field.ErrorList{field.Invalid(path, mu.String(), "must be a whole number or a percentage; fix: set it to 0")}
	}
	if replicas > 0 && n >= replicas {
		return field.ErrorList{field.Invalid(path, mu.String(),
			fmt.Sprintf("lets a rollout stop all %d replicas at once; fix: set it below %d, ideally 0 with maxSurge 1", replicas, replicas))}
	}
	return nil
}
