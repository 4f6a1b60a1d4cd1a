package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerLeaderElection(t *testing.T) {
	const id = "controller-leader-election"
	const c0 = "spec.template.spec.containers[0]"
	tests := []struct {
		name     string
		command  []string
		args     []string
		replicas int32 // 0 means the compliant 3
		want     []wantErr
	}{
		{name: "--leader-elect=true", args: []string{"--leader-elect=true"}},
		{name: "bare --leader-elect", args: []string{"--leader-elect"}},
		{name: "bare -leader-elect", args: []string{"-leader-elect"}},
		{name: "-leader-elect=1", args: []string{"-leader-elect=1"}},
		{name: "--leader-elect=T", args: []string{"--leader-elect=T"}},
		{name: "in the command", command: []string{"/laminar", "controller", "--leader-elect=true"}},
		// Go's flag package never takes a boolean's value from the next word: the
		// controller runs with leader election on and "false" as an argument.
		{name: "--leader-elect false (space) is on", args: []string{"--leader-elect", "false"}},
		{name: "missing", args: []string{"controller"},
			want: []wantErr{required(c0+".args", "3 controller replicas need leader election", "add --leader-elect=true")}},
		{name: "missing with no args at all",
			want: []wantErr{required(c0+".args", "leader election")}},
		{name: "a longer flag is not --leader-elect", args: []string{"--leader-elect-lease-duration=15s", "--leader-elect-resource-lock=leases"},
			want: []wantErr{required(c0 + ".args")}},
		{name: "--leader-elect=false", args: []string{"controller", "--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[1]", "--leader-elect=false", "3 controller replicas without leader election", "use --leader-elect=true")}},
		{name: "-leader-elect=false in the command", command: []string{"/laminar", "-leader-elect=false"},
			want: []wantErr{invalid(c0+".command[1]", "--leader-elect=false")}},
		{name: "--leader-elect=0", args: []string{"--leader-elect=0"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=0")}},
		{name: "--leader-elect=F", args: []string{"--leader-elect=F"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=F")}},
		{name: "not a boolean", args: []string{"--leader-elect=yes"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=yes", "is not a boolean", "use --leader-elect=true")}},
		{name: "the last occurrence wins: false", args: []string{"--leader-elect=true", "--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[1]", "--leader-elect=false")}},
		{name: "the last occurrence wins: true", args: []string{"--leader-elect=false", "--leader-elect=true"}},
		{name: "args come after the command", command: []string{"/laminar", "--leader-elect=false"}, args: []string{"--leader-elect"}},
		{name: "args false after command true", command: []string{"/laminar", "--leader-elect"}, args: []string{"--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=false")}},
		{name: "a single replica needs none", replicas: 1, args: []string{"--leader-elect=false"}},
		{name: "two replicas", replicas: 2, args: nil,
			want: []wantErr{required(c0+".args", "2 controller replicas")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...))
			if tc.replicas != 0 {
				ctlReplicas(i32(tc.replicas))(s)
			}
			assertErrs(t, id, runCheck(t, id, s, pol()), tc.want...)
		})
	}

	t.Run("unset replicas (1) needs none", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlReplicas(nil), ctlArgs()), pol()))
	})
	t.Run("compliant", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(), pol()))
	})
	t.Run("the main container is judged", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			s.Containers = append([]corev1.Container{sidecar("envoy")}, s.Containers...)
		}))
		assertNoErrs(t, runCheck(t, id, s, pol()))
		s.Spec.Template.Spec.Containers[1].Args = nil
		assertErrs(t, id, runCheck(t, id, s, pol()), required("spec.template.spec.containers[1].args"))
	})
	t.Run("the policy's container is judged", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "engine"})
		}))
		p := pol(func(p *policy.Policy) { p.Controller.ContainerName = "engine" })
		assertErrs(t, id, runCheck(t, id, s, p), required("spec.template.spec.containers[1].args"))
	})
	t.Run("a controller Deployment is judged too", func(t *testing.T) {
		d := controllerDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Args = nil })
		assertErrs(t, id, runCheck(t, id, d, pol()), required(c0+".args"))
	})
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}
