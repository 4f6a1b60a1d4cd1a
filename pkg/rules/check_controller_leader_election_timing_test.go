package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerLeaderElectionTiming(t *testing.T) {
	const id = "controller-leader-election-timing"
	const c0 = "spec.template.spec.containers[0]"
	tests := []struct {
		name    string
		command []string
		args    []string
		env     []corev1.EnvVar
		policy  *policy.Policy
		want    []wantErr
	}{
		{name: "the guide's timings", args: compliantControllerArgs()},
		{name: "no timing flags", args: []string{"--leader-elect=true"}},
		{name: "no flags at all"},
		{name: "longer timings", args: []string{"--leader-elect-lease-duration=60s", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s"}},
		{name: "space-separated values", args: []string{"--leader-elect-lease-duration", "60s", "--leader-elect-renew-deadline", "40s"}},
		{name: "single dash in the command", command: []string{"/laminar", "-leader-elect-lease-duration=30s"}},
		{name: "lease not longer than renew",
			args: []string{"--leader-elect-lease-duration=10s", "--leader-elect-renew-deadline=10s", "--leader-elect-retry-period=2s"},
			want: []wantErr{invalid(c0+".args[2]", "10s/10s/2s", "lease duration (10s) must be greater than renew deadline (10s)", "use the guide's 15s/10s/2s")}},
		{name: "a missing flag counts as the policy's value",
			args: []string{"--leader-elect-lease-duration=10s"},
			want: []wantErr{invalid(c0+".args[0]", "10s/10s/2s", "lease duration (10s)")}},
		{name: "renew not above 1.2 × retry",
			args: []string{"--leader-elect-retry-period=9s"},
			want: []wantErr{invalid(c0+".args[0]", "15s/10s/9s", "renew deadline (10s) must be greater than 1.2 × retry period (9s)")}},
		{name: "retry 0",
			args: []string{"--leader-elect-retry-period=0s"},
			want: []wantErr{invalid(c0+".args[0]", "15s/10s/0s", "retry period must be positive")}},
		{name: "space-separated bad value in the command",
			command: []string{"/laminar", "--leader-elect-renew-deadline", "20s"},
			want:    []wantErr{invalid(c0+".command[1]", "15s/20s/2s", "lease duration (15s) must be greater than renew deadline (20s)")}},
		{name: "not a duration",
			args: []string{"--leader-elect-renew-deadline=ten"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect-renew-deadline=ten", "is not a duration", "like 15s")}},
		{name: "a bare number is not a duration",
			args: []string{"--leader-elect-lease-duration=15"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect-lease-duration=15", "is not a duration")}},
		{name: "every unparsable flag is reported",
			args: []string{"--leader-elect-lease-duration=x", "--leader-elect-retry-period=y"},
			want: []wantErr{
				invalid(c0+".args[0]", "--leader-elect-lease-duration=x", "is not a duration"),
				invalid(c0+".args[1]", "--leader-elect-retry-period=y", "is not a duration"),
			}},
		{name: "a flag with no value", args: []string{"--leader-elect-lease-duration"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect-lease-duration=", "is not a duration")}},
		{name: "the last occurrence wins", args: []string{"--leader-elect-lease-duration=1s", "--leader-elect-lease-duration=20s"}},
		// The variables, as set-controller-leader-election writes them.
		{name: "the guide's timings as variables", args: []string{"controller"}, env: envVars("LAMINAR_LEADER_ELECT", "true",
			"LAMINAR_LEADER_ELECT_LEASE_DURATION", "15s", "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s", "LAMINAR_LEADER_ELECT_RETRY_PERIOD", "2s")},
		{name: "a variable not a duration", args: []string{"controller"}, env: envVars("LAMINAR_LEADER_ELECT_RETRY_PERIOD", "2"),
			want: []wantErr{invalid(c0+".env[0].value", "2", "is not a duration")}},
		{name: "a variable against a flag", args: []string{"--leader-elect-lease-duration=10s"}, env: envVars("LAMINAR_LEADER_ELECT_RENEW_DEADLINE", "10s"),
			want: []wantErr{invalid(c0+".env[0].value", "10s/10s/2s", "lease duration (10s)")}},
		{name: "the flag wins over the variable", args: []string{"--leader-elect-lease-duration=15s"}, env: envVars("LAMINAR_LEADER_ELECT_LEASE_DURATION", "1s")},
		{name: "a variable from a ConfigMap leaves the three unjudged", args: []string{"--leader-elect-lease-duration=10s"},
			env: []corev1.EnvVar{{Name: "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "k"}}}}},
		{name: "in a shell script's text", command: []string{"sh", "-c", "laminar --leader-elect-retry-period 9s"},
			want: []wantErr{invalid(c0+".command[2]", "15s/10s/9s", "renew deadline (10s)")}},
		{name: "missing flags take the policy's values",
			args: []string{"--leader-elect-lease-duration=15s"},
			policy: pol(func(p *policy.Policy) {
				p.Controller.LeaderElection = policy.LeaderElection{LeaseDuration: dur("1m"), RenewDeadline: dur("20s"), RetryPeriod: dur("5s")}
			}),
			want: []wantErr{invalid(c0+".args[0]", "15s/20s/5s", "lease duration (15s)")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...), ctlEnv(tc.env...))
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
			// The check must not write the container's values into the policy.
			if tc.policy == nil {
				assert.Equal(t, policy.Default().Controller.LeaderElection, p.Controller.LeaderElection)
			}
		})
	}
}
