package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIZoneSpread spreads API pods evenly over zones so a zone outage leaves the
// others serving. A constraint the user set on the zone key is kept as it is.
func setAPIZoneSpread(w *workload.Workload, p *policy.Policy) bool {
	spec := &w.Template.Spec
	z := p.API.ZoneSpread
	for _, c := range spec.TopologySpreadConstraints {
		if c.TopologyKey == z.TopologyKey {
			return false
		}
	}
	spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
		MaxSkew:           z.MaxSkew,
		TopologyKey:       z.TopologyKey,
		WhenUnsatisfiable: corev1.UnsatisfiableConstraintAction(z.WhenUnsatisfiable),
		LabelSelector:     ownPodSelector(w),
	})
	return true
}
