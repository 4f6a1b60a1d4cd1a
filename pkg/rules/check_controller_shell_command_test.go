package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCheckControllerShellCommand(t *testing.T) {
	const id = "controller-shell-command"
	const c0 = "spec.template.spec.containers[0]"
	const script = "exec laminar controller --leader-elect"
	tests := []struct {
		name    string
		command []string
		args    []string
		want    []wantErr
	}{
		{name: "the binary with flags in args", command: []string{"/laminar"}, args: []string{"controller", "--leader-elect"}},
		{name: "no command: the image's entrypoint", args: []string{"controller"}},
		{name: "a command without args", command: []string{"/laminar", "controller"}},
		{name: "sh -c", command: []string{"sh", "-c", script},
			want: []wantErr{invalid(c0+".command[2]", script, "script flags are unverified", "fix: args or env")}},
		{name: "/bin/bash -c", command: []string{"/bin/bash", "-c", script}, want: []wantErr{invalid(c0+".command[2]", script)}},
		{name: "an option group with c", command: []string{"/bin/sh", "-ec", script}, want: []wantErr{invalid(c0+".command[2]", script)}},
		{name: "options before -c", command: []string{"bash", "-e", "-o", "pipefail", "+x", "-c", script}, want: []wantErr{invalid(c0+".command[6]", script)}},
		{name: "the script in args", command: []string{"sh", "-c"}, args: []string{script, "laminar"}, want: []wantErr{invalid(c0+".args[0]", script)}},
		{name: "-c in args", command: []string{"sh"}, args: []string{"-c", script}, want: []wantErr{invalid(c0+".args[1]", script)}},
		{name: "behind env", command: []string{"/usr/bin/env", "-i", "TZ=UTC", "sh", "-c", script}, want: []wantErr{invalid(c0+".command[5]", script)}},
		{name: "a shell running a script file", command: []string{"sh", "/entrypoint.sh", "--leader-elect"}},
		{name: "-c with no script", command: []string{"sh", "-c"}},
		{name: "a shell in args only: the image's entrypoint runs first", args: []string{"sh", "-c", script}},
		{name: "a binary named like a shell option", command: []string{"/laminar", "-c", script}},
		{name: "a long option is not -c", command: []string{"bash", "--norc", script}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...))
			assertErrs(t, id, runCheck(t, id, s, pol()), tc.want...)
		})
	}
	t.Run("the main container is judged", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			hook := sidecar("hook")
			hook.Command = []string{"sh", "-c", "sleep infinity"}
			s.Containers = append([]corev1.Container{hook}, s.Containers...)
		}))
		assertNoErrs(t, runCheck(t, id, s, pol()))
	})
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}
