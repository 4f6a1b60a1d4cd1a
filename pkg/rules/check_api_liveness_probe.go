package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPILivenessProbe denies an api with no liveness probe: a hung server would
// keep its place in the Service forever.
func checkAPILivenessProbe(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	return requireProbe(w, p, "liveness", "livenessProbe", p.API.Probes.Liveness, func(c *corev1.Container) *corev1.Probe { return c.LivenessProbe })
}
