package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIAntiAffinity prefers one API pod per node, so a node failure takes at most
// one replica. It is preferred, not required, so a small cluster can still roll
// out with maxSurge. Any existing anti-affinity term on the same topology key is
// the user's choice and is kept as it is.
//
// A preferred list the user already has, on other keys, is left alone too
// (api-anti-affinity then asks for the term): the list is atomic under
// strategic merge and server-side apply, so a term appended to it would be
// taken away by every apply of the user's manifest and added back by the
// webhook, a drift a GitOps diff never resolves.
func setAPIAntiAffinity(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	spec := &w.Template.Spec
	key := p.API.AntiAffinity.TopologyKey
	if req, pref := antiAffinityTerms(spec, key); len(req)+len(pref) > 0 {
		return false
	}
	if aa := spec.Affinity; aa != nil && aa.PodAntiAffinity != nil && len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0 {
		return false
	}
	aa := ensurePodAntiAffinity(spec)
	aa.PreferredDuringSchedulingIgnoredDuringExecution = append(aa.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{
			Weight: p.API.AntiAffinity.Weight,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: ownPodSelector(w),
				TopologyKey:   key,
			},
		})
	return true
}
