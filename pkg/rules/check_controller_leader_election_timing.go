package rules

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerLeaderElectionTiming denies timings client-go's leader election
// refuses at start-up (lease > renew deadline > 1.2 × retry period), which would
// crash-loop every replica. A flag left out counts as the policy's value.
func checkControllerLeaderElectionTiming(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	le := p.Controller.LeaderElection
	durations := []struct {
		flag string
		val  *time.Duration
	}{
		{flagLeaseDuration, &le.LeaseDuration.Duration},
		{flagRenewDeadline, &le.RenewDeadline.Duration},
		{flagRetryPeriod, &le.RetryPeriod.Duration},
	}
	var errs field.ErrorList
	var lastPath *field.Path
	for _, d := range durations {
		f, ok := findFlag(c, cPath, d.flag, true)
		if !ok {
			continue
		}
		lastPath = f.Path
		v, err := time.ParseDuration(f.Value)
		if err != nil {
			errs = append(errs, field.Invalid(f.Path, "--"+d.flag+"="+f.Value, "is not a duration; fix: write it like 15s"))
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
