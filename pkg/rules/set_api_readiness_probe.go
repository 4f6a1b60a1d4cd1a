package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIReadinessProbe keeps traffic off an API pod until /ready answers, which is
// what makes maxUnavailable 0 mean something during a rollout.
func setAPIReadinessProbe(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	return fillProbe(w, p, p.API.Probes.Readiness, func(c *corev1.Container) **corev1.Probe { return &c.ReadinessProbe })
}
