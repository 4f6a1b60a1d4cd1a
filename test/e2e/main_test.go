package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// env is the one control plane + webhook every test talks to.
var env *devenv.Env

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	root, err := devenv.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	assets := devenv.AssetsDir(root, "")
	if err := devenv.CheckAssets(assets); err != nil {
		// Never skip silently: a green run must mean the webhook was exercised.
		fmt.Fprintf(os.Stderr, `e2e: FAIL: %v

The e2e suite needs a real kube-apiserver, etcd and kubectl. Build them once with

    make controlplane

(or point KUBEBUILDER_ASSETS at a directory holding them), then run

    make e2e
`, err)
		return 1
	}

	logf := func(string, ...any) {}
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	ctrllog.SetLogger(logr.Discard())
	env, err = devenv.Start(ctx, devenv.Options{
		RepoRoot:      root,
		AssetsDir:     assets,
		WebhookBinary: os.Getenv("E2E_WEBHOOK_BINARY"), // empty: build ./cmd/webhook
		WebhookArgs:   []string{"--log-level=debug"},
		WorkDir:       os.Getenv("E2E_WORK_DIR"), // empty: a temp dir removed afterwards; set it to keep the webhook log
		Logf:          logf,
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: cannot start the environment:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: environment ready: %s\n", env.Timings)
	if os.Getenv(envOrphanProbe) != "" {
		return reportChildrenAndWait()
	}

	start := time.Now()
	code := m.Run()
	fmt.Fprintf(os.Stderr, "e2e: tests took %s\n", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: webhook log:\n%s\n", env.WebhookLog())
	}
	stopStart := time.Now()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: stopping the environment:", err)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "e2e: environment stopped in %s\n", time.Since(stopStart).Round(time.Millisecond))
	return code
}
