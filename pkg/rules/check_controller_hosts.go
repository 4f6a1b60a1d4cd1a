package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerHosts warns when the controller asks for more replicas than
// there are schedulable nodes: with a required anti-affinity on the host key the
// surplus pods stay Pending for good; without one (none is injected then)
// replicas share a node, and losing it loses them together.
func checkControllerHosts(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	key := p.Controller.AntiAffinity.TopologyKey
	replicas := w.Replicas()
	if s.Nodes.FitsHosts(replicas, key) {
		return nil
	}
	hosts, _ := s.Nodes.Spread(key)
	detail := fmt.Sprintf("exceeds the %d schedulable nodes: replicas share nodes (no required anti-affinity)", hosts)
	if required, _ := antiAffinityTerms(&w.Template.Spec, key); anySelects(required, w.Template.Labels) {
		detail = fmt.Sprintf("exceeds the %d schedulable nodes: %d pod(s) stay Pending (required anti-affinity)", hosts, int(replicas)-hosts)
	}
	return field.ErrorList{field.Invalid(workload.SpecPath.Child("replicas"), replicas, detail)}
}

// anySelects reports whether one of the terms selects pods with podLabels.
func anySelects(terms []corev1.PodAffinityTerm, podLabels map[string]string) bool {
	for _, t := range terms {
		if selectsPods(t.LabelSelector, podLabels) {
			return true
		}
	}
	return false
}
