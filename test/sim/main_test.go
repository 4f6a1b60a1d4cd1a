package sim

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

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
	var err error
	env, err = devenv.StartSuite(devenv.Options{Cluster: devenv.ThreeZones(), WorkDir: os.Getenv("E2E_WORK_DIR")}, testing.Verbose())
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
