package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIStartupProbe warns of an api with a liveness probe and no startup
// probe: the liveness probe alone then decides how long a start may take
// (its delay plus its failures), and a start slower than that (a cold cache,
// a slow volume, a busy node) is restarted before it ever serves, often in a
// loop. The guide's startup probe allows 30 × 10 s. A warning, since a fast
// image needs none; without a liveness probe there is nothing to guard
// (api-liveness-probe denies that).
func checkAPIStartupProbe(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.API.ContainerName)
	if c == nil || c.LivenessProbe == nil || c.StartupProbe != nil {
		return nil
	}
	live := c.LivenessProbe
	// Kubernetes reads unset (0) periods as 10 s and thresholds as 3.
	period, failures := max(live.PeriodSeconds, 0), max(live.FailureThreshold, 0)
	if period == 0 {
		period = 10
	}
	if failures == 0 {
		failures = 3
	}
	want := p.API.Probes.Startup
	return field.ErrorList{field.Required(cPath.Child("startupProbe"),
		fmt.Sprintf("start over %ds restarts; fix: httpGet %s:%d", live.InitialDelaySeconds+period*failures, want.Path, want.Port))}
}
