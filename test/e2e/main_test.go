package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// env is the one control plane + webhook every test talks to.
var env *devenv.Env

// policyFile is the webhook's policy file; basePolicy (the guide's defaults) is
// in it except while a serial test puts another in force.
var policyFile string

const basePolicy = "apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\n"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	policyDir, err := os.MkdirTemp("", "laminar-e2e-policy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL:", err)
		return 1
	}
	defer os.RemoveAll(policyDir)
	policyFile = filepath.Join(policyDir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(basePolicy), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL:", err)
		return 1
	}
	env, err = devenv.StartSuite(devenv.Options{
		// The policy is the guide's until a serial test rewrites it; the webhook
		// looks at it often so that such a test waits little.
		WebhookArgs: []string{"--log-level=debug", "--policy", policyFile, "--policy-reload-interval=100ms"},
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
