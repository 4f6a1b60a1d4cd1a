package rules

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIPreStop delays the API container's shutdown so endpoints and load balancers
// stop routing to it before it stops accepting. The guide's form is a shell sleep;
// images without a shell get the kubelet's native sleep action by policy.
// A grace period the user chose too short to hold the delay is left for
// api-prestop-within-grace to judge: filling the hook would only get the object denied.
func setAPIPreStop(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	c, _ := w.MainContainer(p.API.ContainerName)
	if c == nil || (c.Lifecycle != nil && c.Lifecycle.PreStop != nil) {
		return false
	}
	secs := p.API.PreStop.Seconds
	grace := int64(kubernetesDefaultGracePeriod)
	if g := w.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if secs >= grace {
		return false
	}
	if c.Lifecycle == nil {
		c.Lifecycle = &corev1.Lifecycle{}
	}
	if p.API.PreStop.Mode == policy.PreStopSleep {
		c.Lifecycle.PreStop = &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: secs}}
	} else {
		c.Lifecycle.PreStop = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			Command: []string{"/bin/sh", "-c", "sleep " + strconv.FormatInt(secs, 10)},
		}}
	}
	return true
}
