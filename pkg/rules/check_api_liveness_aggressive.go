package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPILivenessAggressive warns of a liveness probe far more eager to
// restart than the guide's (3 failures, 30 s delay, behind a startup probe): a
// single failed check, or checks from the first second with nothing guarding
// the start, turn one slow moment into a restart — on every replica at once
// when the slowness is shared (a database hiccup). A warning: the guide gives
// figures, not minimums.
func checkAPILivenessAggressive(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.API.ContainerName)
	if c == nil || c.LivenessProbe == nil {
		return nil
	}
	probe, path := c.LivenessProbe, cPath.Child("livenessProbe")
	var errs field.ErrorList
	// Kubernetes reads an unset (0) failureThreshold as 3.
	if probe.FailureThreshold == 1 {
		errs = append(errs, field.Invalid(path.Child("failureThreshold"), probe.FailureThreshold,
			"1: one failed check restarts"))
	}
	if c.StartupProbe == nil && probe.InitialDelaySeconds == 0 {
		errs = append(errs, field.Invalid(path.Child("initialDelaySeconds"), probe.InitialDelaySeconds,
			fmt.Sprintf("%d with no startup probe", probe.InitialDelaySeconds)))
	}
	return errs
}
