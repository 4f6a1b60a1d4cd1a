package devenv

import (
	"context"
	"io"
	"os/exec"
	"strings"
)

// Kubectl runs bin/k8s/kubectl against this environment. stdin may be nil.
func (e *Env) Kubectl(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, e.KubectlPath, append([]string{"--kubeconfig", e.KubeconfigPath}, args...)...)
	cmd.Dir = e.RepoRoot
	cmd.Stdin = stdin
	var o, s strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	return o.String(), s.String(), err
}
