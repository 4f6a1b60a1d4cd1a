package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetControllerLeaderElection(t *testing.T) {
	const id = "set-controller-leader-election"
	env := envVars
	guideEnv := env(
		"LAMINAR_LEADER_ELECT", "true",
		"LAMINAR_LEADER_ELECT_LEASE_DURATION", "15s",
		"LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s",
		"LAMINAR_LEADER_ELECT_RETRY_PERIOD", "2s",
	)
	plus := func(a []corev1.EnvVar, b ...corev1.EnvVar) []corev1.EnvVar {
		return append(append([]corev1.EnvVar{}, a...), b...)
	}
	secretRef := corev1.EnvVar{Name: "LAMINAR_LEADER_ELECT", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}

	tests := []struct {
		name    string
		command []string
		args    []string
		env     []corev1.EnvVar
		policy  *policy.Policy
		changed bool
		wantEnv []corev1.EnvVar
	}{
		{name: "nothing at all gets the guide's variables", changed: true, wantEnv: guideEnv},
		// The shapes args cannot serve: added args would replace an image's CMD
		// (no command, no args) or become a script's $0 (sh -c).
		{name: "a command without args", command: []string{"/laminar", "controller"}, changed: true, wantEnv: guideEnv},
		{name: "a shell-wrapped command", command: []string{"sh", "-c", "exec /laminar controller"}, changed: true, wantEnv: guideEnv},
		{name: "variables go after the user's", args: []string{"controller"}, env: env("TZ", "UTC"), changed: true,
			wantEnv: plus(env("TZ", "UTC"), guideEnv...)},
		{name: "--leader-elect=false is the user's", args: []string{"--leader-elect=false"}},
		{name: "--leader-elect=true without timings is kept", args: []string{"--leader-elect=true"}},
		{name: "a bare --leader-elect is kept", args: []string{"--leader-elect"}},
		{name: "a single-dash -leader-elect=false in the command is the user's", command: []string{"/laminar", "-leader-elect=false"}},
		{name: "--leader-elect false (space) is the user's", args: []string{"--leader-elect", "false"}},
		{name: "the variable, false, is the user's", env: env("LAMINAR_LEADER_ELECT", "false"), wantEnv: env("LAMINAR_LEADER_ELECT", "false")},
		{name: "the variable from a Secret is the user's", env: []corev1.EnvVar{secretRef}, wantEnv: []corev1.EnvVar{secretRef}},
		{name: "the flag in a shell script is the user's", command: []string{"/bin/sh", "-c", "exec laminar --leader-elect=false"}},
		{name: "a longer flag that starts with leader-elect is not --leader-elect",
			args: []string{"--leader-elect-resource-name=laminar"}, changed: true, wantEnv: guideEnv},
		{name: "args after a shell script are not the binary's flags",
			command: []string{"sh", "-c", "exec laminar controller", "--leader-elect=false"}, changed: true, wantEnv: guideEnv},
		{name: "policy timings",
			policy: pol(func(p *policy.Policy) {
				p.Controller.LeaderElection = policy.LeaderElection{LeaseDuration: dur("1m"), RenewDeadline: dur("40s"), RetryPeriod: dur("5s")}
			}),
			changed: true,
			wantEnv: env("LAMINAR_LEADER_ELECT", "true", "LAMINAR_LEADER_ELECT_LEASE_DURATION", "1m0s",
				"LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "40s", "LAMINAR_LEADER_ELECT_RETRY_PERIOD", "5s")},
		{name: "policy names",
			policy: pol(func(p *policy.Policy) {
				p.Controller.Settings.LeaderElect = policy.Setting{Flag: "ha", Env: "HA"}
				p.Controller.Settings.RetryPeriod = policy.Setting{Flag: "ha-retry", Env: "HA_RETRY"}
			}),
			args: []string{"--leader-elect=false"}, changed: true,
			wantEnv: env("HA", "true", "LAMINAR_LEADER_ELECT_LEASE_DURATION", "15s", "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s", "HA_RETRY", "2s")},
		// Timings the user already gives are theirs, as a flag or a variable.
		{name: "the user's lease duration flag is kept",
			args: []string{"--leader-elect-lease-duration=30s"}, changed: true,
			wantEnv: env("LAMINAR_LEADER_ELECT", "true", "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s", "LAMINAR_LEADER_ELECT_RETRY_PERIOD", "2s")},
		{name: "the user's timings in the command, space-separated, are kept",
			command: []string{"/laminar", "--leader-elect-renew-deadline", "8s", "-leader-elect-retry-period=1s"}, changed: true,
			wantEnv: env("LAMINAR_LEADER_ELECT", "true", "LAMINAR_LEADER_ELECT_LEASE_DURATION", "15s")},
		{name: "the user's timing variable is kept",
			env: env("LAMINAR_LEADER_ELECT_RETRY_PERIOD", "1s"), changed: true,
			wantEnv: env("LAMINAR_LEADER_ELECT_RETRY_PERIOD", "1s", "LAMINAR_LEADER_ELECT", "true",
				"LAMINAR_LEADER_ELECT_LEASE_DURATION", "15s", "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := minimalControllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...), ctlEnv(tc.env...))
			assert.Equal(t, tc.changed, runDefault(t, id, s, p))
			c := s.Spec.Template.Spec.Containers[0]
			assert.Equal(t, tc.command, c.Command, "the command is never touched")
			assert.Equal(t, tc.args, c.Args, "args are never touched")
			want := tc.wantEnv
			if !tc.changed && want == nil {
				want = tc.env
			}
			assert.Equal(t, want, c.Env)
			assertDefaultIdempotent(t, id, s, p)
			assertNoErrs(t, runCheck(t, "controller-leader-election-timing", s, p))
			if tc.changed {
				assertNoErrs(t, runCheck(t, "controller-leader-election", ctlReplicasOf(s, 3), p))
			}
		})
	}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, controllerStatefulSet(), pol())
	})

	t.Run("no containers", func(t *testing.T) {
		assertDefaultNoop(t, id, minimalControllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol())
	})

	t.Run("main container", func(t *testing.T) {
		tests := []struct {
			name       string
			containers []string
			policyName string
			want       int
		}{
			{name: "the policy's", containers: []string{"controller", "laminar"}, policyName: "laminar", want: 1},
			{name: "the role's", containers: []string{"envoy", "controller"}, policyName: "engine", want: 1},
			{name: "the first", containers: []string{"laminar", "envoy"}, policyName: "engine", want: 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := pol(func(p *policy.Policy) { p.Controller.ContainerName = tc.policyName })
				s := minimalControllerStatefulSet(func(s *appsv1.StatefulSet) {
					s.Spec.Template.Spec.Containers = nil
					for _, n := range tc.containers {
						s.Spec.Template.Spec.Containers = append(s.Spec.Template.Spec.Containers, corev1.Container{Name: n})
					}
				})
				assert.True(t, runDefault(t, id, s, p))
				for i, c := range s.Spec.Template.Spec.Containers {
					if i == tc.want {
						assert.Equal(t, guideEnv, c.Env, c.Name)
					} else {
						assert.Empty(t, c.Env, c.Name)
					}
				}
			})
		}
	})
}

// ctlReplicasOf is s at n replicas, where leader election is judged.
func ctlReplicasOf(s *appsv1.StatefulSet, n int32) *appsv1.StatefulSet {
	out := s.DeepCopy()
	out.Spec.Replicas = &n
	return out
}
