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
	guideFlags := []string{
		"--leader-elect=true",
		"--leader-elect-lease-duration=15s",
		"--leader-elect-renew-deadline=10s",
		"--leader-elect-retry-period=2s",
	}
	plus := func(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }

	tests := []struct {
		name        string
		command     []string
		args        []string
		policy      *policy.Policy
		changed     bool
		wantCommand []string
		wantArgs    []string
	}{
		{name: "no args gets the guide's flags", changed: true, wantArgs: guideFlags},
		{name: "flags go after the user's args",
			args: []string{"controller", "--checkpoint-url=" + testCheckpointURL}, changed: true,
			wantArgs: plus([]string{"controller", "--checkpoint-url=" + testCheckpointURL}, guideFlags...)},
		{name: "a command without args keeps its command",
			command: []string{"/laminar", "controller"}, changed: true,
			wantCommand: []string{"/laminar", "controller"}, wantArgs: guideFlags},
		{name: "--leader-elect=false is the user's",
			args: []string{"--leader-elect=false"}, wantArgs: []string{"--leader-elect=false"}},
		{name: "--leader-elect=true without timings is kept",
			args: []string{"--leader-elect=true"}, wantArgs: []string{"--leader-elect=true"}},
		{name: "a bare --leader-elect is kept",
			args: []string{"--leader-elect"}, wantArgs: []string{"--leader-elect"}},
		{name: "a single-dash -leader-elect=false in the command is the user's",
			command:     []string{"/laminar", "-leader-elect=false"},
			wantCommand: []string{"/laminar", "-leader-elect=false"}},
		{name: "--leader-elect false (space) is the user's",
			args: []string{"--leader-elect", "false"}, wantArgs: []string{"--leader-elect", "false"}},
		{name: "a longer flag that starts with leader-elect is not --leader-elect",
			args: []string{"--leader-elect-resource-name=laminar"}, changed: true,
			wantArgs: plus([]string{"--leader-elect-resource-name=laminar"}, guideFlags...)},
		{name: "policy timings",
			policy: pol(func(p *policy.Policy) {
				p.Controller.LeaderElection = policy.LeaderElection{LeaseDuration: dur("1m"), RenewDeadline: dur("40s"), RetryPeriod: dur("5s")}
			}),
			changed:  true,
			wantArgs: []string{"--leader-elect=true", "--leader-elect-lease-duration=1m0s", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s"}},
		// Timing flags the user already gives are theirs: appending the policy's
		// would override them, since the last occurrence of a flag wins.
		{name: "the user's lease duration is kept",
			args: []string{"--leader-elect-lease-duration=30s"}, changed: true,
			wantArgs: []string{"--leader-elect-lease-duration=30s", "--leader-elect=true", "--leader-elect-renew-deadline=10s", "--leader-elect-retry-period=2s"}},
		{name: "the user's timings in the command, space-separated, are kept",
			command: []string{"/laminar", "--leader-elect-renew-deadline", "8s", "-leader-elect-retry-period=1s"}, changed: true,
			wantCommand: []string{"/laminar", "--leader-elect-renew-deadline", "8s", "-leader-elect-retry-period=1s"},
			wantArgs:    []string{"--leader-elect=true", "--leader-elect-lease-duration=15s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := minimalControllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...))
			assert.Equal(t, tc.changed, runDefault(t, id, s, p))
			c := s.Spec.Template.Spec.Containers[0]
			assert.Equal(t, tc.wantCommand, c.Command)
			assert.Equal(t, tc.wantArgs, c.Args)
			assertDefaultIdempotent(t, id, s, p)
			assertNoErrs(t, runCheck(t, "controller-leader-election-timing", s, p))
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
						assert.Equal(t, guideFlags, c.Args, c.Name)
					} else {
						assert.Empty(t, c.Args, c.Name)
					}
				}
			})
		}
	})
}
