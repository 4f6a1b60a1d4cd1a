package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIGracefulShutdown warns when the api has no graceful shutdown at all:
// no preStop hook, and a grace period too short for set-api-prestop to add one
// (it never fills a hook the grace period cannot hold). Every rollout and
// drain then stops pods that endpoints and load balancers still route to.
// A warning, not a denial: the guide gives figures here, not minimums, and an
// application may drain on SIGTERM by itself.
func checkAPIGracefulShutdown(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, _ := w.MainContainer(p.API.ContainerName)
	if c == nil || (c.Lifecycle != nil && c.Lifecycle.PreStop != nil) {
		return nil
	}
	grace := int64(kubernetesDefaultGracePeriod)
	if g := w.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if grace > p.API.PreStop.Seconds {
		return nil
	}
	// Short: a warning is one line.
	return field.ErrorList{field.Invalid(workload.PodSpecPath.Child("terminationGracePeriodSeconds"), grace,
		fmt.Sprintf("%ds leaves no room for a %ds preStop delay", grace, p.API.PreStop.Seconds))}
}
