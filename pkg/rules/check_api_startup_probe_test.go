package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestCheckAPIStartupProbe: an api whose liveness probe alone bounds its start
// MUST be warned about, naming how long a start may take; one with a startup
// probe, or with no liveness probe to guard against, must not.
func TestCheckAPIStartupProbe(t *testing.T) {
	const id, startup = "api-startup-probe", "spec.template.spec.containers[0].startupProbe"
	with := func(f func(c *corev1.Container)) runtime.Object { return apiDeployment(apiMain(f)) }
	tests := []struct {
		name string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "the guide's probes", obj: apiDeployment()},
		{name: "liveness alone: 30s delay + 3 × 10s", obj: with(func(c *corev1.Container) { c.StartupProbe = nil }),
			want: []wantErr{required(startup, "start over 60s restarts", "fix: httpGet /health:8000")}},
		{name: "unset period and threshold are Kubernetes' 10s and 3", obj: with(func(c *corev1.Container) {
			c.StartupProbe, c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.FailureThreshold = nil, 0, 0, 0
		}), want: []wantErr{required(startup, "start over 30s restarts")}},
		{name: "no liveness probe is api-liveness-probe's", obj: with(func(c *corev1.Container) { c.StartupProbe, c.LivenessProbe = nil, nil })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, runCheck(t, id, tc.obj, pol()), tc.want...)
		})
	}
}
