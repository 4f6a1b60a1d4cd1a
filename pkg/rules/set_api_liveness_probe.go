package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPILivenessProbe restarts an API container that stops answering /health.
func setAPILivenessProbe(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	return fillProbe(w, p, p.API.Probes.Liveness, func(c *corev1.Container) **corev1.Probe { return &c.LivenessProbe })
}
