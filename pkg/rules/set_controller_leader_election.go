package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Leader-election flags the controller understands.
const (
	flagLeaderElect       = "leader-elect"
	flagLeaseDuration     = "leader-elect-lease-duration"
	flagRenewDeadline     = "leader-elect-renew-deadline"
	flagRetryPeriod       = "leader-elect-retry-period"
	flagCheckpointURL     = "checkpoint-url"
	flagCheckpointEvery   = "checkpoint-interval"
	envCheckpointURL      = "LAMINAR_CHECKPOINT_URL"
	envCheckpointInterval = "LAMINAR_CHECKPOINT_INTERVAL"
)

// setControllerLeaderElection turns on leader election with the guide's timings
// when the controller's main container says nothing about it, so two replicas never
// process pipelines at once. Any --leader-elect flag, true or false, is the user's,
// and so is any timing flag already given: only the missing ones are added, since a
// flag appended after the user's would win over it.
func setControllerLeaderElection(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return false
	}
	if _, ok := findFlag(c, cPath, flagLeaderElect, false); ok {
		return false
	}
	le := p.Controller.LeaderElection
	c.Args = append(c.Args, "--"+flagLeaderElect+"=true")
	for _, f := range []struct {
		name  string
		value string
	}{
		{flagLeaseDuration, le.LeaseDuration.Duration.String()},
		{flagRenewDeadline, le.RenewDeadline.Duration.String()},
		{flagRetryPeriod, le.RetryPeriod.Duration.String()},
	} {
		if _, ok := findFlag(c, cPath, f.name, true); !ok {
			c.Args = append(c.Args, "--"+f.name+"="+f.value)
		}
	}
	return true
}
