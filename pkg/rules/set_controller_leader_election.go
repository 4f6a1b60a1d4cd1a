package rules

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setControllerLeaderElection turns on leader election with the guide's timings
// when the controller's main container says nothing about it, so two replicas
// never process pipelines at once.
//
// The default is environment variables, not flags. args is a list that
// strategic merge and server-side apply both replace whole, so flags appended
// to it differ from what the user applies on every apply: kubectl apply says
// "configured" each time and a GitOps diff never converges. env is merged by
// name in both, so entries the webhook adds sit beside the user's. A variable
// also reaches the binary whatever the command line is: a command without args
// (where added args would replace an image's CMD) and a shell script
// (sh -c "…", where added args become the script's $0, $1, … and never reach
// the binary).
//
// Any leader-election flag or variable, true or false, is the user's, and so
// is any timing already given (a flag wins over the variable, as the binary is
// assumed to read them): only the missing ones are added.
func setControllerLeaderElection(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return false
	}
	names := p.Controller.Settings
	if _, ok := findSetting(c, cPath, names.LeaderElect, false); ok {
		return false
	}
	le := p.Controller.LeaderElection
	c.Env = append(c.Env, corev1.EnvVar{Name: names.LeaderElect.Env, Value: "true"})
	for _, t := range []struct {
		name  policy.Setting
		value string
	}{
		{names.LeaseDuration, le.LeaseDuration.Duration.String()},
		{names.RenewDeadline, le.RenewDeadline.Duration.String()},
		{names.RetryPeriod, le.RetryPeriod.Duration.String()},
	} {
		if _, ok := findSetting(c, cPath, t.name, true); !ok {
			c.Env = append(c.Env, corev1.EnvVar{Name: t.name.Env, Value: t.value})
		}
	}
	return true
}
