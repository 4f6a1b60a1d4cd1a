package devenv

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// StartSuite starts the environment one test package shares, from its
// TestMain (after flag.Parse): the control plane of bin/k8s (and the simulated
// cluster's binaries when opts.Cluster is set), the webhook from
// $E2E_WEBHOOK_BINARY or built from ./cmd/webhook, progress on stderr when verbose (the
// caller's testing.Verbose(): this package is not a test's). Fields of
// opts already set are kept. A missing binary is an error saying how to build
// it, never a skip: a green run must mean the suite ran.
func StartSuite(opts Options, verbose bool) (*Env, error) {
	if opts.RepoRoot == "" {
		root, err := FindRepoRoot()
		if err != nil {
			return nil, err
		}
		opts.RepoRoot = root
	}
	if opts.AssetsDir == "" {
		opts.AssetsDir = AssetsDir(opts.RepoRoot, "")
	}
	checks := []func(string) error{CheckAssets}
	if opts.Cluster != nil {
		checks = append(checks, CheckClusterAssets)
	}
	for _, check := range checks {
		if err := check(opts.AssetsDir); err != nil {
			return nil, fmt.Errorf("%w\n\nBuild the binaries once with `make controlplane` (or point KUBEBUILDER_ASSETS at a directory holding them)", err)
		}
	}
	if opts.WebhookBinary == "" {
		opts.WebhookBinary = os.Getenv("E2E_WEBHOOK_BINARY")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
		if verbose {
			opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
		}
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return Start(ctx, opts)
}
