package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestCheckControllerArtifactsURL: the guide's artifacts URL MUST be judged
// like the checkpoint URL, in its flag and environment forms.
func TestCheckControllerArtifactsURL(t *testing.T) {
	const id = "controller-artifacts-url"
	const c0 = "spec.template.spec.containers[0]"
	const fix = "fix: use a bucket URL such as s3://my-bucket/laminar/artifacts (schemes: s3, gs, azblob)"
	tests := []struct {
		name string
		args []string
		env  []corev1.EnvVar
		want []wantErr
	}{
		{name: "s3 bucket", args: []string{"--artifacts-url=s3://bucket/artifacts"}},
		{name: "gs as a separate value", args: []string{"--artifacts-url", "gs://b/a"}},
		{name: "env value", env: []corev1.EnvVar{{Name: "LAMINAR_ARTIFACTS_URL", Value: "azblob://c/a"}}},
		{name: "env from a Secret is not judged", env: []corev1.EnvVar{secretEnv("LAMINAR_ARTIFACTS_URL")}},
		{name: "none given is not judged"},
		{name: "local path", args: []string{"--artifacts-url=/var/lib/laminar/artifacts"},
			want: []wantErr{invalid(c0+".args[1]", "/var/lib/laminar/artifacts", "is a local path, not durable object storage; "+fix)}},
		{name: "file URL in the env", env: []corev1.EnvVar{{Name: "LAMINAR_ARTIFACTS_URL", Value: "file:///data"}},
			want: []wantErr{invalid(c0+".env[0].value", "file:///data", "scheme file is not durable object storage")}},
		{name: "empty", args: []string{"--artifacts-url="},
			want: []wantErr{invalid(c0+".args[1]", "", "is empty, so artifacts are lost with the pod")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := controllerStatefulSet(ctlMain(func(c *corev1.Container) {
				c.Args = append(c.Args[:1:1], tc.args...)
				if tc.args == nil {
					c.Args = c.Args[:1]
				}
				c.Env = tc.env
			}))
			assertErrs(t, id, runCheck(t, id, s, pol()), tc.want...)
		})
	}
}
