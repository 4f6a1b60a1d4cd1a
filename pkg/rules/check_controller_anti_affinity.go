package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerAntiAffinity denies controllers that may share a node: a preferred
// term is not enough, because the scheduler may still co-locate leader and standby.
// It is not required where the replicas outnumber the schedulable hosts
// (controller-hosts warns there).
func checkControllerAntiAffinity(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	key := p.Controller.AntiAffinity.TopologyKey
	if !s.Nodes.FitsHosts(w.Replicas(), key) {
		return nil
	}
	req, _ := antiAffinityTerms(&w.Template.Spec, key)
	for _, t := range req {
		if selectsPods(t.LabelSelector, w.Template.Labels) {
			return nil
		}
	}
	return field.ErrorList{field.Required(antiAffinityPath.Child("requiredDuringSchedulingIgnoredDuringExecution"),
		fmt.Sprintf("no required term on %s selects the controller's own pods; fix: add one with labelSelector %s", key, selectorText(w)))}
}
