package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerCheckpointURL(t *testing.T) {
	const id = "controller-checkpoint-url"
	const c0 = "spec.template.spec.containers[0]"
	const fix = "fix: use a bucket URL such as s3://my-bucket/laminar/checkpoints (schemes: s3, gs, azblob)"
	env := func(v string) corev1.EnvVar { return corev1.EnvVar{Name: "LAMINAR_CHECKPOINT_URL", Value: v} }
	tests := []struct {
		name    string
		command []string
		args    []string
		env     []corev1.EnvVar
		policy  *policy.Policy
		want    []wantErr
	}{
		{name: "s3 with a bucket", args: []string{"--checkpoint-url=s3://bucket/laminar/checkpoints"}},
		{name: "s3 bucket only", args: []string{"--checkpoint-url=s3://bucket"}},
		{name: "gs", args: []string{"--checkpoint-url=gs://b/x"}},
		{name: "azblob", args: []string{"--checkpoint-url=azblob://container/laminar"}},
		{name: "upper-case scheme", args: []string{"--checkpoint-url=S3://bucket/x"}},
		{name: "--flag value", args: []string{"--checkpoint-url", "s3://bucket/x"}},
		{name: "-flag=value", args: []string{"-checkpoint-url=gs://b/x"}},
		{name: "-flag value in the command", command: []string{"/laminar", "-checkpoint-url", "gs://b/x"}},
		{name: "env value", env: []corev1.EnvVar{env("s3://bucket/x")}},
		{name: "env from a Secret is not judged", env: []corev1.EnvVar{secretEnv("LAMINAR_CHECKPOINT_URL")}},
		{name: "no URL is left to controller-checkpoint-url-missing"},
		{name: "file URL", args: []string{"controller", "--checkpoint-url=file:///data"},
			want: []wantErr{invalid(c0+".args[1]", "file:///data", "scheme file is not durable object storage; "+fix)}},
		{name: "absolute path", args: []string{"--checkpoint-url=/data/ckpt"},
			want: []wantErr{invalid(c0+".args[0]", "/data/ckpt", "is a local path, not durable object storage; "+fix)}},
		{name: "relative path", args: []string{"--checkpoint-url", "checkpoints"},
			want: []wantErr{invalid(c0+".args[0]", "checkpoints", "is a local path")}},
		{name: "s3 with no bucket", args: []string{"--checkpoint-url=s3://"},
			want: []wantErr{invalid(c0+".args[0]", "s3://", "names no bucket; "+fix)}},
		{name: "s3 with a path but no bucket", args: []string{"--checkpoint-url=s3:///laminar"},
			want: []wantErr{invalid(c0+".args[0]", "s3:///laminar", "names no bucket")}},
		{name: "http is not object storage by default", args: []string{"--checkpoint-url=http://minio:9000/bucket"},
			want: []wantErr{invalid(c0+".args[0]", "http://minio:9000/bucket", "scheme http")}},
		{name: "unparsable URL", args: []string{"--checkpoint-url=s3://bucket/%zz"},
			want: []wantErr{invalid(c0+".args[0]", "s3://bucket/%zz")}},
		{name: "empty flag value", args: []string{"--checkpoint-url="},
			want: []wantErr{invalid(c0+".args[0]", "", "is empty")}},
		{name: "flag in the command", command: []string{"/laminar", "--checkpoint-url=file:///data"},
			want: []wantErr{invalid(c0+".command[1]", "file:///data", "scheme file")}},
		{name: "-flag value in the command", command: []string{"/laminar", "-checkpoint-url", "/data"},
			want: []wantErr{invalid(c0+".command[1]", "/data", "local path")}},
		{name: "env file URL", env: []corev1.EnvVar{{Name: "OTHER", Value: "x"}, env("file:///data")},
			want: []wantErr{invalid(c0+".env[1].value", "file:///data", "scheme file")}},
		{name: "env empty value", env: []corev1.EnvVar{env("")},
			want: []wantErr{invalid(c0+".env[0].value", "", "is empty")}},
		{name: "the last env entry wins", env: []corev1.EnvVar{env("s3://bucket/x"), env("/data")},
			want: []wantErr{invalid(c0+".env[1].value", "/data")}},
		{name: "the flag wins over the env var", args: []string{"--checkpoint-url=s3://bucket/x"}, env: []corev1.EnvVar{env("/data")}},
		{name: "the flag is judged even when the env var is fine", args: []string{"--checkpoint-url=/data"}, env: []corev1.EnvVar{env("s3://bucket/x")},
			want: []wantErr{invalid(c0+".args[0]", "/data")}},
		{name: "policy schemes", args: []string{"--checkpoint-url=s3://bucket/x"},
			policy: pol(func(p *policy.Policy) { p.Controller.Checkpoints.Schemes = []string{"gs"} }),
			want:   []wantErr{invalid(c0+".args[0]", "s3://bucket/x", "scheme s3 is not durable", "(schemes: gs)")}},
		{name: "policy schemes may add one", args: []string{"--checkpoint-url=minio://bucket/x"},
			policy: pol(func(p *policy.Policy) {
				p.Controller.Checkpoints.Schemes = append(p.Controller.Checkpoints.Schemes, "minio")
			})},
		{name: "policy names", args: []string{"--checkpoint-url=/ignored", "--ckpt=/data"}, env: []corev1.EnvVar{{Name: "CKPT", Value: "s3://b/x"}},
			policy: pol(func(p *policy.Policy) {
				p.Controller.Settings.CheckpointURL = policy.Setting{Flag: "ckpt", Env: "CKPT"}
			}),
			want: []wantErr{invalid(c0+".args[1]", "/data", "is a local path")}},
		{name: "policy names: the variable", env: []corev1.EnvVar{env("s3://b/x"), {Name: "CKPT", Value: "/data"}},
			policy: pol(func(p *policy.Policy) {
				p.Controller.Settings.CheckpointURL = policy.Setting{Flag: "ckpt", Env: "CKPT"}
			}),
			want: []wantErr{invalid(c0+".env[1].value", "/data", "is a local path")}},
		// In a shell script the flag is read from its text, best effort
		// (controller-shell-command warns that it is unverified).
		{name: "a local path in a shell script's text", command: []string{"sh", "-c", "exec laminar controller --checkpoint-url /data"},
			want: []wantErr{invalid(c0+".command[2]", "/data", "is a local path")}},
		{name: "a bucket in a shell script's text", command: []string{"sh", "-c", `exec laminar controller "--checkpoint-url=s3://b/x"`}},
		{name: "args after a shell script are not the binary's flags", command: []string{"sh", "-c", "exec laminar controller"}, args: []string{"--checkpoint-url=/data"}},
		{name: "policy schemes in upper case", args: []string{"--checkpoint-url=s3://bucket/x"},
			policy: pol(func(p *policy.Policy) { p.Controller.Checkpoints.Schemes = []string{"S3"} })},
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

	t.Run("the main container is judged", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			backup := sidecar("backup")
			backup.Args = []string{"--checkpoint-url=/data"}
			s.Containers = append([]corev1.Container{backup}, s.Containers...)
		}))
		assertNoErrs(t, runCheck(t, id, s, pol()))
	})
	t.Run("a controller Deployment is judged too", func(t *testing.T) {
		d := controllerDeployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Args = []string{"--checkpoint-url=/data"}
		})
		assertErrs(t, id, runCheck(t, id, d, pol()), invalid(c0+".args[0]", "/data"))
	})
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
}
