package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIStartupProbe gives a slow-starting API server time (30 × 10s by default)
// before the liveness probe may restart it.
func setAPIStartupProbe(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	return fillProbe(w, p, p.API.Probes.Startup, func(c *corev1.Container) **corev1.Probe { return &c.StartupProbe })
}
