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
func setAPIStrategy(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	s := &w.Deployment.Spec.Strategy
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return false
	}
	changed := false
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
		changed = true
	}
	if s.RollingUpdate == nil {
		s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		changed = true
	}
	ru := s.RollingUpdate
	want := p.API.RollingUpdate
	unset := func(v *intstr.IntOrString) bool {
		return v == nil || (p.KubernetesDefaultsAsUnset() && v.Type == intstr.String && v.StrVal == kubernetesDefaultRollingValue)
	}
	// Filling a 0 next to the user's explicit 0 in the other half would make the
	// Deployment invalid, so the user's value decides whether the policy value fits.
	if unset(ru.MaxSurge) && !sameIntOrString(ru.MaxSurge, want.MaxSurge) && (unset(ru.MaxUnavailable) || !bothZero(want.MaxSurge, ru.MaxUnavailable)) {
		ru.MaxSurge = ptrTo(want.MaxSurge)
		changed = true
	}
	if unset(ru.MaxUnavailable) && !sameIntOrString(ru.MaxUnavailable, want.MaxUnavailable) && !bothZero(want.MaxUnavailable, ru.MaxSurge) {
		ru.MaxUnavailable = ptrTo(want.MaxUnavailable)
		changed = true
	}
	return changed
}

// sameIntOrString compares the halves the types use: a decoded IntOrString may
// carry a stale value in the other half.
func sameIntOrString(have *intstr.IntOrString, want intstr.IntOrString) bool {
	return have != nil && have.Type == want.Type && have.String() == want.String()
}

// bothZero reports whether a policy value and the object's other half are both 0.
func bothZero(want intstr.IntOrString, other *intstr.IntOrString) bool {
	isZero := func(v intstr.IntOrString) bool {
		n, err := intstr.GetScaledValueFromIntOrPercent(&v, 100, true)
		return err == nil && n == 0
	}
	return other != nil && isZero(want) && isZero(*other)
}

func ptrTo[T any](v T) *T { return &v }
