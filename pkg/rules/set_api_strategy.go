package rules

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// kubernetesDefaultRollingValue is what the API server puts in each unset half of a
// Deployment's rolling update before admission sees it.
const kubernetesDefaultRollingValue = "25%"

// setAPIStrategy gives the API server zero-downtime rollouts: a new pod must be
// ready before an old one goes (maxUnavailable 0, maxSurge 1). A Recreate strategy
// is the user's choice and is left for validation to judge.
func setAPIStrategy(w *workload.Workload, p *policy.Policy) bool {
	s := &w.Deployment.Spec.Strategy
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return false
	}
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.RollingUpdate == nil {
		s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
	}
	ru := s.RollingUpdate
	want := p.API.RollingUpdate
	unset := func(v *intstr.IntOrString) bool {
		return v == nil || (p.KubernetesDefaultsAsUnset() && v.Type == intstr.String && v.StrVal == kubernetesDefaultRollingValue)
	}
	changed := false
	if unset(ru.MaxSurge) && !sameIntOrString(ru.MaxSurge, want.MaxSurge) {
		ru.MaxSurge = ptrTo(want.MaxSurge)
		changed = true
	}
	// Filling maxUnavailable 0 next to a user's maxSurge 0 would make the Deployment
	// invalid, so the user's surge decides whether the policy value fits.
	if unset(ru.MaxUnavailable) && !sameIntOrString(ru.MaxUnavailable, want.MaxUnavailable) && !bothZero(want.MaxUnavailable, ru.MaxSurge) {
		ru.MaxUnavailable = ptrTo(want.MaxUnavailable)
		changed = true
	}
	return changed
}

func sameIntOrString(have *intstr.IntOrString, want intstr.IntOrString) bool {
	return have != nil && *have == want
}

func bothZero(unavailable intstr.IntOrString, surge *intstr.IntOrString) bool {
	isZero := func(v intstr.IntOrString) bool {
		n, err := intstr.GetScaledValueFromIntOrPercent(&v, 100, true)
		return err == nil && n == 0
	}
	return surge != nil && isZero(unavailable) && isZero(*surge)
}

func ptrTo[T any](v T) *T { return &v }
