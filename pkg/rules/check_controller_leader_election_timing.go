package rules

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerLeaderElectionTiming denies timings client-go's leader election
// refuses at start-up (lease > renew deadline > 1.2 × retry period), which would
// crash-loop every replica. A timing left out counts as the policy's value; one
// from a Secret or ConfigMap cannot be read, so the three are then not judged
// together.
func checkControllerLeaderElectionTiming(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	le := p.Controller.LeaderElection
	names := p.Controller.Settings
	durations := []struct {
		name policy.Setting
		val  *time.Duration
	}{
		{names.LeaseDuration, &le.LeaseDuration.Duration},
		{names.RenewDeadline, &le.RenewDeadline.Duration},
		{names.RetryPeriod, &le.RetryPeriod.Duration},
	}
	var errs field.ErrorList
	var lastPath *field.Path
	for _, d := range durations {
		s, ok := findSetting(c, cPath, d.name, true)
		if !ok {
			continue
		}
		if s.FromRef {
			return errs
		}
		lastPath = s.Path
		v, err := time.ParseDuration(s.Value)
		if err != nil {
			errs = append(errs, field.Invalid(s.Path, s.shown(d.name.Flag), "is not a duration; fix: write it like 15s"))
			continue
		}
		*d.val = v
	}
	if len(errs) > 0 || lastPath == nil {
		return errs
	}
	if msg := policy.LeaderElectionTimingError(le.LeaseDuration.Duration, le.RenewDeadline.Duration, le.RetryPeriod.Duration); msg != "" {
		return field.ErrorList{field.Invalid(lastPath, le.LeaseDuration.Duration.String()+"/"+le.RenewDeadline.Duration.String()+"/"+le.RetryPeriod.Duration.String(),
			msg+"; fix: use the guide's 15s/10s/2s")}
	}
	return nil
}
