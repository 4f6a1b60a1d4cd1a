package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIZoneSpread denies an api that could sit in a single zone: it needs a
// topology spread constraint on the zone key selecting its own pods. Where the
// schedulable nodes cannot give a spread it is not required (cluster-zones warns).
func checkAPIZoneSpread(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	key := p.API.ZoneSpread.TopologyKey
	if !s.Nodes.CanSpread(key) {
		return nil
	}
	for _, c := range w.Template.Spec.TopologySpreadConstraints {
		if c.TopologyKey == key && selectsPods(c.LabelSelector, w.Template.Labels) {
			return nil
		}
	}
	return field.ErrorList{field.Required(workload.PodSpecPath.Child("topologySpreadConstraints"),
		fmt.Sprintf("no constraint on %s selects the api's own pods; fix: add maxSkew %d, whenUnsatisfiable %s, labelSelector %s",
			key, p.API.ZoneSpread.MaxSkew, p.API.ZoneSpread.WhenUnsatisfiable, selectorText(w)))}
}
