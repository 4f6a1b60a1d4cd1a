package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// kubernetesDefaultGracePeriod is what the API server sets before admission when
// terminationGracePeriodSeconds is left out.
const kubernetesDefaultGracePeriod = 30

// setAPIGracePeriod gives in-flight API requests time to finish after the preStop
// delay; the guide asks for 60 seconds.
func setAPIGracePeriod(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	g := w.Template.Spec.TerminationGracePeriodSeconds
	want := p.API.TerminationGracePeriodSeconds
	unset := g == nil || (p.KubernetesDefaultsAsUnset() && *g == kubernetesDefaultGracePeriod)
	if !unset || (g != nil && *g == want) {
		return false
	}
	w.Template.Spec.TerminationGracePeriodSeconds = &want
	return true
}
