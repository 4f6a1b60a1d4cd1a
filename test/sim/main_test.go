package sim

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

// env is the one simulated cluster every test uses. The tests run one after
// another: a failed node would disturb a parallel test's pods.
var env *devenv.Env

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	root, err := devenv.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		return 1
	}
	assets := devenv.AssetsDir(root, "")
	for _, check := range []func(string) error{devenv.CheckAssets, devenv.CheckClusterAssets} {
		if err := check(assets); err != nil {
			// Never skip silently: a green run must mean the cluster ran.
			fmt.Fprintf(os.Stderr, "sim: FAIL: %v\n\nBuild the binaries once with `make controlplane`.\n", err)
			return 1
		}
	}
	logf := func(string, ...any) {}
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	env, err = devenv.Start(ctx, devenv.Options{
		RepoRoot:      root,
		AssetsDir:     assets,
		WebhookBinary: os.Getenv("E2E_WEBHOOK_BINARY"), // empty: build ./cmd/webhook
		WorkDir:       os.Getenv("E2E_WORK_DIR"),       // empty: a temp dir removed afterwards
		Logf:          logf,
		Cluster:       devenv.ThreeZones(),
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim: FAIL: cannot start the simulated cluster:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "sim: cluster ready: %s\n", env.Timings)

	start := time.Now()
	code := m.Run()
	fmt.Fprintf(os.Stderr, "sim: tests took %s\n", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		for _, name := range []string{"kube-scheduler", "kube-controller-manager"} {
			fmt.Fprintln(os.Stderr, env.Cluster.LogTail(name))
		}
		for _, n := range env.Cluster.Nodes() {
			fmt.Fprintln(os.Stderr, env.Cluster.LogTail("kwok-"+n.Name))
		}
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "sim: FAIL: stopping the cluster:", err)
		code = 1
	}
	return code
}
