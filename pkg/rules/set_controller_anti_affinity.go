package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setControllerAntiAffinity requires controller replicas on different nodes: the
// standby must not die with the leader. A term the user already has on the same
// key — even a preferred one — is their choice; validation judges it. Where
// the replicas outnumber the schedulable hosts, a required term would leave
// the surplus Pending for good: nothing is injected, controller-hosts warns.
// A required list the user already has, on other keys, is left alone
// (controller-anti-affinity then asks for the term): it is atomic under
// strategic merge and server-side apply, and an appended term would drift.
func setControllerAntiAffinity(w *workload.Workload, p *policy.Policy, s Situation) bool {
	spec := &w.Template.Spec
	key := p.Controller.AntiAffinity.TopologyKey
	if req, pref := antiAffinityTerms(spec, key); len(req)+len(pref) > 0 {
		return false
	}
	if aa := spec.Affinity; aa != nil && aa.PodAntiAffinity != nil && len(aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 {
		return false
	}
	if !s.Nodes.FitsHosts(w.Replicas(), key) {
		return false
	}
	aa := ensurePodAntiAffinity(spec)
	aa.RequiredDuringSchedulingIgnoredDuringExecution = append(aa.RequiredDuringSchedulingIgnoredDuringExecution,
		corev1.PodAffinityTerm{LabelSelector: ownPodSelector(w), TopologyKey: key})
	return true
}
