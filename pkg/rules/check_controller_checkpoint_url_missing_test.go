package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCheckControllerCheckpointURLMissing(t *testing.T) {
	const id = "controller-checkpoint-url-missing"
	const c0 = "spec.template.spec.containers[0]"
	tests := []struct {
		name    string
		command []string
		args    []string
		env     []corev1.EnvVar
		want    []wantErr
	}{
		{name: "flag in args", args: []string{"--checkpoint-url=" + testCheckpointURL}},
		{name: "flag in the command", command: []string{"/laminar", "--checkpoint-url", testCheckpointURL}},
		{name: "env value", env: []corev1.EnvVar{{Name: "LAMINAR_CHECKPOINT_URL", Value: testCheckpointURL}}},
		{name: "a bad URL is left to controller-checkpoint-url", args: []string{"--checkpoint-url=/data"}},
		{name: "none", args: []string{"controller"},
			want: []wantErr{required(c0+".args", "no checkpoint URL", "--checkpoint-url")}},
		{name: "none and no args", want: []wantErr{required(c0 + ".args")}},
		{name: "another env var", env: []corev1.EnvVar{{Name: "LAMINAR_CHECKPOINT_INTERVAL", Value: "30s"}},
			want: []wantErr{required(c0 + ".args")}},
		{name: "env from a Secret cannot be checked",
			env:  []corev1.EnvVar{{Name: "A", Value: "1"}, secretEnv("LAMINAR_CHECKPOINT_URL")},
			want: []wantErr{required(c0+".env[1].valueFrom", "not checked")}},
		{name: "env from a ConfigMap cannot be checked",
			env: []corev1.EnvVar{{Name: "LAMINAR_CHECKPOINT_URL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "laminar"}, Key: "url",
			}}}},
			want: []wantErr{required(c0+".env[0].valueFrom", "not checked")}},
		{name: "a flag makes the Secret irrelevant", args: []string{"--checkpoint-url=" + testCheckpointURL},
			env: []corev1.EnvVar{secretEnv("LAMINAR_CHECKPOINT_URL")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...), ctlEnv(tc.env...))
			assertErrs(t, id, runCheck(t, id, s, pol()), tc.want...)
		})
	}
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}
