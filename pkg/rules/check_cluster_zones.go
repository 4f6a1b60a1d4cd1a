package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkClusterZones warns where the schedulable nodes cannot give a zone
// spread: nodes without the zone label (bare metal, kind) or a single zone. No
// zone spread is injected or required there — a DoNotSchedule constraint over
// nodes that lack its key leaves every pod Pending — so a zone outage can take
// every replica, and the user should know.
func checkClusterZones(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	key := p.API.ZoneSpread.TopologyKey
	if w.Role == workload.RoleController {
		key = p.Controller.ZoneSpread.TopologyKey
	}
	if s.Nodes.CanSpread(key) {
		return nil
	}
	labelled, zones := s.Nodes.Spread(key)
	// Short: a warning is one line (docs/rules.md says the rest).
	return field.ErrorList{field.Invalid(workload.PodSpecPath.Child("topologySpreadConstraints"), key, fmt.Sprintf(
		"%d nodes, %d zone(s), %d unlabelled: no zone spread", s.Nodes.Hosts(), zones, s.Nodes.Hosts()-labelled))}
}
