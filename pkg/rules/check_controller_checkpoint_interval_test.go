package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerCheckpointInterval(t *testing.T) {
	const id = "controller-checkpoint-interval"
	const c0 = "spec.template.spec.containers[0]"
	env := func(v string) corev1.EnvVar { return corev1.EnvVar{Name: "LAMINAR_CHECKPOINT_INTERVAL", Value: v} }
	tests := []struct {
		name    string
		command []string
		args    []string
		env     []corev1.EnvVar
		policy  *policy.Policy
		want    []wantErr
	}{
		{name: "none set"},
		{name: "30s", args: []string{"--checkpoint-interval=30s"}},
		{name: "10s", args: []string{"--checkpoint-interval", "10s"}},
		{name: "env 15s", env: []corev1.EnvVar{env("15s")}},
		{name: "env from a Secret is not judged", env: []corev1.EnvVar{secretEnv("LAMINAR_CHECKPOINT_INTERVAL")}},
		{name: "1m", args: []string{"controller", "--checkpoint-interval=1m"},
			want: []wantErr{invalid(c0+".args[1]", "1m", "exceeds 30s", "fix: set 30s or less")}},
		{name: "31s in the command", command: []string{"/laminar", "-checkpoint-interval", "31s"},
			want: []wantErr{invalid(c0+".command[1]", "31s", "exceeds 30s")}},
		{name: "env 5m", env: []corev1.EnvVar{env("5m")},
			want: []wantErr{invalid(c0+".env[0].value", "5m", "exceeds 30s")}},
		{name: "not a duration", args: []string{"--checkpoint-interval=30"},
			want: []wantErr{invalid(c0+".args[0]", "30", "not a duration", "30s")}},
		{name: "env not a duration", env: []corev1.EnvVar{env("often")},
			want: []wantErr{invalid(c0+".env[0].value", "often", "not a duration")}},
		{name: "the flag wins over the env var", args: []string{"--checkpoint-interval=10s"}, env: []corev1.EnvVar{env("5m")}},
		{name: "policy maximum", args: []string{"--checkpoint-interval=1m"},
			policy: pol(func(p *policy.Policy) { p.Controller.Checkpoints.MaxInterval = dur("2m") })},
		{name: "policy maximum exceeded", args: []string{"--checkpoint-interval=3m"},
			policy: pol(func(p *policy.Policy) { p.Controller.Checkpoints.MaxInterval = dur("2m") }),
			want:   []wantErr{invalid(c0+".args[0]", "3m", "exceeds 2m0s")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...), ctlEnv(tc.env...))
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
		})
	}
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}
