package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIZoneSpread spreads API pods evenly over zones so a zone outage leaves the
// others serving. A constraint the user set on the zone key is kept as it is.
//
// Beyond the guide's three fields, the constraint counts only the pods of the
// Deployment's current template (matchLabelKeys pod-template-hash), or a
// rollout, counting old and new ReplicaSets together, leaves the new pods
// bunched; and it honours node taints, or a tainted zone in an outage still
// counts as an empty domain and the replacements cannot schedule anywhere.
// Nothing is injected where the nodes cannot give a spread (cluster-zones warns).
func setAPIZoneSpread(w *workload.Workload, p *policy.Policy, s Situation) bool {
	return addZoneSpread(w, p.API.ZoneSpread, s)
}

// addZoneSpread adds the zone spread z over w's own pods, unless w has a
// constraint on z's key or the schedulable nodes cannot satisfy one.
func addZoneSpread(w *workload.Workload, z policy.ZoneSpread, s Situation) bool {
	spec := &w.Template.Spec
	for _, c := range spec.TopologySpreadConstraints {
		if c.TopologyKey == z.TopologyKey {
			return false
		}
	}
	if !s.Nodes.CanSpread(z.TopologyKey) {
		return false
	}
	honor := corev1.NodeInclusionPolicyHonor
	c := corev1.TopologySpreadConstraint{
		MaxSkew:           z.MaxSkew,
		TopologyKey:       z.TopologyKey,
		WhenUnsatisfiable: corev1.UnsatisfiableConstraintAction(z.WhenUnsatisfiable),
		LabelSelector:     ownPodSelector(w),
		NodeTaintsPolicy:  &honor,
	}
	if w.Kind == workload.KindDeployment {
		c.MatchLabelKeys = []string{"pod-template-hash"}
	}
	spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, c)
	return true
}
