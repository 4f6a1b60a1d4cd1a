package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIReadinessProbe denies an api with no readiness probe: without one, a
// rollout sends traffic to pods that cannot serve it yet.
func checkAPIReadinessProbe(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	return requireProbe(w, p, "readiness", "readinessProbe", p.API.Probes.Readiness, func(c *corev1.Container) *corev1.Probe { return c.ReadinessProbe })
}
