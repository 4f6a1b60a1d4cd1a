package e2e

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// env is the one control plane + webhook every test talks to.
var env *devenv.Env

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	var err error
	env, err = devenv.StartSuite(devenv.Options{
		WebhookArgs: []string{"--log-level=debug"},
		WorkDir:     os.Getenv("E2E_WORK_DIR"), // empty: a temp dir removed afterwards; set it to keep the webhook log
	}, testing.Verbose())
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
