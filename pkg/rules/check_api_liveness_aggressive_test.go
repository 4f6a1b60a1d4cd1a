package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestCheckAPILivenessAggressive: a liveness probe far more eager than the
// guide's MUST be warned about; the guide's and milder ones must not.
func TestCheckAPILivenessAggressive(t *testing.T) {
	const id, live = "api-liveness-aggressive", "spec.template.spec.containers[0].livenessProbe"
	with := func(f func(c *corev1.Container)) runtime.Object { return apiDeployment(apiMain(f)) }
	tests := []struct {
		name string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "the guide's probes", obj: apiDeployment()},
		{name: "one failure restarts", obj: with(func(c *corev1.Container) { c.LivenessProbe.FailureThreshold = 1 }),
			want: []wantErr{invalid(live+".failureThreshold", int32(1), "one failed check restarts")}},
		{name: "unset failureThreshold is Kubernetes' 3", obj: with(func(c *corev1.Container) { c.LivenessProbe.FailureThreshold = 0 })},
		{name: "no delay behind a startup probe is fine", obj: with(func(c *corev1.Container) { c.LivenessProbe.InitialDelaySeconds = 0 })},
		{name: "no delay and no startup probe", obj: with(func(c *corev1.Container) { c.LivenessProbe.InitialDelaySeconds, c.StartupProbe = 0, nil }),
			want: []wantErr{invalid(live+".initialDelaySeconds", int32(0), "0 with no startup probe")}},
		{name: "both", obj: with(func(c *corev1.Container) {
			c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.FailureThreshold, c.StartupProbe = 0, 1, nil
		}), want: []wantErr{invalid(live+".failureThreshold", int32(1)), invalid(live+".initialDelaySeconds", int32(0))}},
		{name: "no liveness probe is api-liveness-probe's", obj: with(func(c *corev1.Container) { c.LivenessProbe = nil })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, runCheck(t, id, tc.obj, pol()), tc.want...)
		})
	}
}
