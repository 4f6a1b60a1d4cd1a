package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setControllerZoneSpread places controller replicas in different zones, a
// default beyond the guide's hostname rule: RocksDB's volumes are zonal in
// every cloud the guide names, so a controller pod cannot move out of its
// zone, and replicas that share a zone all go down in its outage however good
// leader election is. Like the api's spread, nothing is injected where the
// nodes cannot give one.
func setControllerZoneSpread(w *workload.Workload, p *policy.Policy, s Situation) bool {
	return addZoneSpread(w, p.Controller.ZoneSpread, s)
}
