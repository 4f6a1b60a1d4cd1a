package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIPreStop(t *testing.T) {
	const id = "set-api-prestop"
	sleepMode := func(secs int64) func(*policy.Policy) {
		return func(p *policy.Policy) { p.API.PreStop = policy.PreStop{Mode: policy.PreStopSleep, Seconds: secs} }
	}
	httpHook := &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/drain", Port: intstr.FromInt32(8000)}}
	postStart := &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"warm-up"}}}

	tests := []struct {
		name    string
		in      *corev1.Lifecycle
		grace   *int64
		policy  *policy.Policy
		changed bool
		want    *corev1.Lifecycle
	}{
		{name: "the guide's shell sleep", changed: true,
			want: &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 10")}},
		{name: "the native sleep action by policy", policy: pol(sleepMode(10)), changed: true,
			want: &corev1.Lifecycle{PreStop: sleepPreStop(10)}},
		{name: "policy seconds", policy: pol(func(p *policy.Policy) { p.API.PreStop.Seconds = 5 }), changed: true,
			want: &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 5")}},
		{name: "an existing preStop of another kind is the user's",
			in: &corev1.Lifecycle{PreStop: httpHook}, want: &corev1.Lifecycle{PreStop: httpHook}},
		{name: "an existing sleep preStop is the user's, even in sleep mode", policy: pol(sleepMode(10)),
			in: &corev1.Lifecycle{PreStop: sleepPreStop(3)}, want: &corev1.Lifecycle{PreStop: sleepPreStop(3)}},
		{name: "a postStart hook is kept next to the new preStop",
			in: &corev1.Lifecycle{PostStart: postStart}, changed: true,
			want: &corev1.Lifecycle{PostStart: postStart, PreStop: execPreStop("/bin/sh", "-c", "sleep 10")}},
		{name: "an empty lifecycle gets the preStop",
			in: &corev1.Lifecycle{}, changed: true, want: &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 10")}},
		{name: "unset grace period counts as the API server's 30s", grace: nil, changed: true,
			want: &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 10")}},
		{name: "fits in an explicit grace period of 11s", grace: i64(11), changed: true,
			want: &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 10")}},
		// A delay as long as the user's grace period would be denied by
		// api-prestop-within-grace: mutation must never produce a denied object.
		{name: "not injected when the user's grace period of 10s cannot hold it", grace: i64(10)},
		{name: "not injected when the user's grace period of 0s cannot hold it", grace: i64(0)},
		{name: "not injected in sleep mode either when the grace period cannot hold it", grace: i64(5), policy: pol(sleepMode(10))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = tc.grace }),
				apiMain(func(c *corev1.Container) { c.Lifecycle = tc.in.DeepCopy() }))
			assert.Equal(t, tc.changed, runDefault(t, id, d, p))
			assert.Equal(t, tc.want, d.Spec.Template.Spec.Containers[0].Lifecycle)
			assertDefaultIdempotent(t, id, d, p)
			if tc.changed {
				assertNoErrs(t, runCheck(t, "api-prestop-within-grace", d, p))
			}
		})
	}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})

	t.Run("no containers", func(t *testing.T) {
		assertDefaultNoop(t, id, minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol())
	})

	t.Run("main container", func(t *testing.T) {
		testAPIMainContainerSelection(t, func(t *testing.T, d *appsv1.Deployment, p *policy.Policy) []bool {
			assert.True(t, runDefault(t, id, d, p))
			var got []bool
			for _, c := range d.Spec.Template.Spec.Containers {
				got = append(got, c.Lifecycle != nil && c.Lifecycle.PreStop != nil)
			}
			return got
		})
	})
}
