package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckAPIPreStopWithinGrace(t *testing.T) {
	const id = "api-prestop-within-grace"
	const path = "spec.template.spec.terminationGracePeriodSeconds"
	shell := func(script string) *corev1.LifecycleHandler { return execPreStop("/bin/sh", "-c", script) }
	tests := []struct {
		name    string
		preStop *corev1.LifecycleHandler
		grace   *int64
		policy  *policy.Policy
		want    []wantErr
	}{
		{name: "exec sleep 10 within 60", preStop: shell("sleep 10"), grace: i64(60)},
		{name: "exec sleep 10 within 11", preStop: shell("sleep 10"), grace: i64(11)},
		{name: "exec sleep 10 with grace 10", preStop: shell("sleep 10"), grace: i64(10),
			want: []wantErr{invalid(path, int64(10), "preStop delay of 10s", "spec.template.spec.containers[0].lifecycle.preStop", "raise it above 10")}},
		{name: "native sleep 10 within 60", preStop: sleepPreStop(10), grace: i64(60)},
		{name: "native sleep 10 with grace 10", preStop: sleepPreStop(10), grace: i64(10),
			want: []wantErr{invalid(path, int64(10), "preStop delay of 10s")}},
		{name: "native sleep 90 with grace 60", preStop: sleepPreStop(90), grace: i64(60),
			want: []wantErr{invalid(path, int64(60), "delay of 90s", "raise it above 90")}},
		{name: "unset grace is the API server's 30: sleep 29 fits", preStop: sleepPreStop(29), grace: nil},
		{name: "unset grace is the API server's 30: sleep 30 does not", preStop: shell("sleep 30"), grace: nil,
			want: []wantErr{invalid(path, int64(30), "delay of 30s")}},
		{name: "grace 0 with any delay", preStop: sleepPreStop(1), grace: i64(0),
			want: []wantErr{invalid(path, int64(0), "delay of 1s")}},
		{name: "sleep run directly", preStop: execPreStop("sleep", "70"), grace: i64(60),
			want: []wantErr{invalid(path, int64(60), "delay of 70s")}},
		{name: "sleep by absolute path", preStop: execPreStop("/usr/bin/sleep", "20"), grace: i64(15),
			want: []wantErr{invalid(path, int64(15), "delay of 20s")}},
		{name: "sleep after another command", preStop: shell("nginx -s quit; sleep 15"), grace: i64(10),
			want: []wantErr{invalid(path, int64(10), "delay of 15s")}},
		{name: "sleep before another command", preStop: shell("sleep 15 && nginx -s quit"), grace: i64(10),
			want: []wantErr{invalid(path, int64(10), "delay of 15s")}},
		{name: "quoted seconds", preStop: shell(`sleep "12"`), grace: i64(12),
			want: []wantErr{invalid(path, int64(12), "delay of 12s")}},
		{name: "seconds followed by a semicolon", preStop: shell("sleep 12; echo done"), grace: i64(12),
			want: []wantErr{invalid(path, int64(12), "delay of 12s")}},
		{name: "the fix names the delay to exceed, whatever the policy's own delay", preStop: sleepPreStop(20), grace: i64(20),
			policy: pol(func(p *policy.Policy) { p.API.PreStop.Seconds = 5 }),
			want:   []wantErr{invalid(path, int64(20), "raise it above 20", "or shorten the delay")}},
		{name: "a sleep the webhook cannot read is not judged", preStop: shell("sleep $DELAY"), grace: i64(1)},
		{name: "a command without sleep is not judged", preStop: shell("nginx -s quit"), grace: i64(1)},
		{name: "an httpGet hook is not judged", grace: i64(1),
			preStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/drain", Port: intstr.FromInt32(8000)}}},
		{name: "an empty exec is not judged", preStop: execPreStop(), grace: i64(1)},
		{name: "no preStop", grace: i64(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := apiDeployment(
				apiPod(func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = tc.grace }),
				apiMain(func(c *corev1.Container) {
					c.Lifecycle = nil
					if tc.preStop != nil {
						c.Lifecycle = &corev1.Lifecycle{PreStop: tc.preStop}
					}
				}))
			assertErrs(t, id, runCheck(t, id, d, p), tc.want...)
		})
	}

	t.Run("the main container's hook is judged", func(t *testing.T) {
		d := apiDeployment(
			apiPod(func(s *corev1.PodSpec) {
				s.TerminationGracePeriodSeconds = i64(20)
				envoy := sidecar("envoy")
				envoy.Lifecycle = &corev1.Lifecycle{PreStop: sleepPreStop(5)}
				s.Containers = append([]corev1.Container{envoy}, s.Containers...)
				s.Containers[1].Lifecycle.PreStop = sleepPreStop(25)
			}))
		assertErrs(t, id, runCheck(t, id, d, pol()),
			invalid(path, int64(20), "delay of 25s", "spec.template.spec.containers[1].lifecycle.preStop"))
	})
	t.Run("no containers", func(t *testing.T) {
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) { s.Containers = nil }))
		assertNoErrs(t, runCheck(t, id, d, pol()))
	})
}
