package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// TestCheckAPIGracefulShutdown: an api left with no preStop hook because its
// grace period cannot hold one MUST be flagged; it would otherwise be admitted
// with no graceful shutdown at all.
func TestCheckAPIGracefulShutdown(t *testing.T) {
	const id, path = "api-graceful-shutdown", "spec.template.spec.terminationGracePeriodSeconds"
	noHook := func(grace *int64) runtime.Object {
		return apiDeployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.TerminationGracePeriodSeconds = grace
			d.Spec.Template.Spec.Containers[0].Lifecycle = nil
		})
	}
	tests := []struct {
		name string
		obj  runtime.Object
		p    *policy.Policy
		want []wantErr
	}{
		{name: "the guide's hook and grace period", obj: apiDeployment()},
		{name: "a grace period of 10 and no hook", obj: noHook(i64(10)), want: []wantErr{invalid(path, int64(10), "10s leaves no room for a 10s preStop delay")}},
		{name: "a grace period of 0 and no hook", obj: noHook(i64(0)), want: []wantErr{invalid(path, int64(0))}},
		{name: "Kubernetes' 30s leaves room: set-api-prestop fills the hook", obj: noHook(nil)},
		{name: "11s leaves room", obj: noHook(i64(11))},
		{name: "a hook of the user's own is api-prestop-within-grace's to judge", obj: apiDeployment(apiPod(func(s *corev1.PodSpec) {
			s.TerminationGracePeriodSeconds = i64(5)
		}))},
		{name: "the policy's delay is the measure", obj: noHook(i64(20)),
			p:    pol(func(p *policy.Policy) { p.API.PreStop.Seconds = 20; p.API.TerminationGracePeriodSeconds = 90 }),
			want: []wantErr{invalid(path, int64(20), "20s leaves no room for a 20s preStop delay")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p == nil {
				p = pol()
			}
			assertErrs(t, id, runCheck(t, id, tc.obj, p), tc.want...)
		})
	}
}
