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
		env      []corev1.EnvVar
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
			want: []wantErr{required(c0+".env", "3 controller replicas need leader election", "set env LAMINAR_LEADER_ELECT=true or --leader-elect=true")}},
		{name: "missing with no args at all",
			want: []wantErr{required(c0+".env", "leader election")}},
		{name: "a longer flag is not --leader-elect", args: []string{"--leader-elect-lease-duration=15s", "--leader-elect-resource-lock=leases"},
			want: []wantErr{required(c0 + ".env")}},
		{name: "--leader-elect=false", args: []string{"controller", "--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[1]", "--leader-elect=false", "3 controller replicas without leader election", "fix: set env LAMINAR_LEADER_ELECT=true")}},
		{name: "-leader-elect=false in the command", command: []string{"/laminar", "-leader-elect=false"},
			want: []wantErr{invalid(c0+".command[1]", "--leader-elect=false")}},
		{name: "--leader-elect=0", args: []string{"--leader-elect=0"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=0")}},
		{name: "--leader-elect=F", args: []string{"--leader-elect=F"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=F")}},
		{name: "not a boolean", args: []string{"--leader-elect=yes"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=yes", "is not a boolean", "fix: set env LAMINAR_LEADER_ELECT=true")}},
		{name: "the last occurrence wins: false", args: []string{"--leader-elect=true", "--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[1]", "--leader-elect=false")}},
		{name: "the last occurrence wins: true", args: []string{"--leader-elect=false", "--leader-elect=true"}},
		{name: "args come after the command", command: []string{"/laminar", "--leader-elect=false"}, args: []string{"--leader-elect"}},
		{name: "args false after command true", command: []string{"/laminar", "--leader-elect"}, args: []string{"--leader-elect=false"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=false")}},
		// The variable, when no flag is given.
		{name: "the variable true", args: []string{"controller"}, env: envVars("LAMINAR_LEADER_ELECT", "true")},
		{name: "the variable 1", args: []string{"controller"}, env: envVars("TZ", "UTC", "LAMINAR_LEADER_ELECT", "1")},
		{name: "the variable false", args: []string{"controller"}, env: envVars("TZ", "UTC", "LAMINAR_LEADER_ELECT", "false"),
			want: []wantErr{invalid(c0+".env[1].value", "false", "3 controller replicas without leader election", "fix: set env LAMINAR_LEADER_ELECT=true")}},
		{name: "the variable empty", args: []string{"controller"}, env: envVars("LAMINAR_LEADER_ELECT", ""),
			want: []wantErr{invalid(c0+".env[0].value", "", "is not a boolean")}},
		{name: "the last of duplicate variables wins", args: []string{"controller"}, env: envVars("LAMINAR_LEADER_ELECT", "true", "LAMINAR_LEADER_ELECT", "false"),
			want: []wantErr{invalid(c0+".env[1].value", "false")}},
		{name: "the flag wins over the variable: true", args: []string{"--leader-elect"}, env: envVars("LAMINAR_LEADER_ELECT", "false")},
		{name: "the flag wins over the variable: false", args: []string{"--leader-elect=false"}, env: envVars("LAMINAR_LEADER_ELECT", "true"),
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=false")}},
		{name: "a variable from a Secret is not read", args: []string{"controller"}, env: []corev1.EnvVar{{Name: "LAMINAR_LEADER_ELECT",
			ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "k"}}}}},
		// A shell script: its text is read, best effort.
		{name: "false in a shell script's text", command: []string{"/bin/sh", "-c", "exec laminar controller --leader-elect=false"},
			want: []wantErr{invalid(c0+".command[2]", "--leader-elect=false", "without leader election")}},
		{name: "true in a shell script's text", command: []string{"sh", "-c", "exec laminar controller --leader-elect"}},
		{name: "a script in args, after sh -c in the command", command: []string{"bash", "-c"}, args: []string{"laminar '--leader-elect=false'"},
			want: []wantErr{invalid(c0+".args[0]", "--leader-elect=false")}},
		// Words after the script are its $0, $1, …: they never reach the binary.
		{name: "args after a shell script are not flags", command: []string{"sh", "-c", "exec laminar controller"}, args: []string{"--leader-elect=true"},
			want: []wantErr{required(c0+".env", "3 controller replicas need leader election")}},
		{name: "the variable reaches the binary through a script", command: []string{"sh", "-c", "exec laminar controller"},
			env: envVars("LAMINAR_LEADER_ELECT", "true")},
		{name: "policy names", args: []string{"--elect=false"},
			want: []wantErr{invalid(c0+".args[0]", "--elect=false", "fix: set env ELECT=true or --elect=true")}},
		{name: "a single replica needs none", replicas: 1, args: []string{"--leader-elect=false"}},
		{name: "two replicas", replicas: 2, args: nil,
			want: []wantErr{required(c0+".env", "2 controller replicas")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := controllerStatefulSet(ctlCommand(tc.command...), ctlArgs(tc.args...), ctlEnv(tc.env...))
			if tc.replicas != 0 {
				ctlReplicas(i32(tc.replicas))(s)
			}
			p := pol()
			if tc.name == "policy names" {
				p.Controller.Settings.LeaderElect = policy.Setting{Flag: "elect", Env: "ELECT"}
			}
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
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
		assertErrs(t, id, runCheck(t, id, s, pol()), required("spec.template.spec.containers[1].env"))
	})
	t.Run("the policy's container is judged", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "engine"})
		}))
		p := pol(func(p *policy.Policy) { p.Controller.ContainerName = "engine" })
		assertErrs(t, id, runCheck(t, id, s, p), required("spec.template.spec.containers[1].env"))
	})
	t.Run("a controller Deployment is judged too", func(t *testing.T) {
		d := controllerDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Args = nil })
		assertErrs(t, id, runCheck(t, id, d, pol()), required(c0+".env"))
	})
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}

// envVars builds literal variables from name, value pairs.
func envVars(kv ...string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
	}
	return out
}
