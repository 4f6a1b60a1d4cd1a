package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// fillProbe sets the probe chosen by slot on the api's main container when the
// container has none; a probe the user wrote, of any kind, is kept.
func fillProbe(w *workload.Workload, p *policy.Policy, want policy.Probe, slot func(*corev1.Container) **corev1.Probe) bool {
	c, _ := w.MainContainer(p.API.ContainerName)
	if c == nil || *slot(c) != nil {
		return false
	}
	*slot(c) = httpProbe(want.Path, want.Port, want.InitialDelaySeconds, want.PeriodSeconds, want.FailureThreshold)
	return true
}
