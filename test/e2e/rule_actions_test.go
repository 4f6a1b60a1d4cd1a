package e2e

// The test in this file is NOT parallel: it changes the webhook's policy,
// which every other test relies on being the guide's.

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usePolicy puts doc in force and waits until probe, a kubectl run whose
// stderr tells the policies apart, shows it; the guide's policy is put back
// (and waited for) when the test ends.
func usePolicy(t *testing.T, doc string, probe func() string, inForce func(stderr string) bool) {
	t.Helper()
	write := func(doc string) {
		tmp := policyFile + ".tmp"
		require.NoError(t, os.WriteFile(tmp, []byte(doc), 0o600))
		require.NoError(t, os.Rename(tmp, policyFile))
	}
	write(doc)
	t.Cleanup(func() {
		write(basePolicy)
		require.Eventually(t, func() bool { return !inForce(probe()) }, 30*time.Second, 100*time.Millisecond,
			"the guide's policy never came back")
	})
	require.Eventually(t, func() bool { return inForce(probe()) }, 30*time.Second, 100*time.Millisecond,
		"the webhook never took up the policy")
}

// A policy's rules map MUST change one rule's action and nothing else: with
// api-strategy-rolling on audit, api-anti-affinity on warn and
// replicas-recommended off, the bad example in a deny namespace is still refused
// for its other violations; fixed for those, it is admitted with the audited and
// warned findings as kubectl warnings; and a default set to off fills nothing.
func TestPolicyRuleActionsChangeOneRuleAtATime(t *testing.T) {
	ns := newNamespace(t, nil)
	dryRun := func(file string) (string, string, error) {
		return kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", file, "-o", "yaml")
	}
	probe := func() string { _, stderr, _ := dryRun(example("api-bad.yaml")); return stderr }
	usePolicy(t, `apiVersion: ha.laminar.io/v1alpha1
kind: Policy
rules:
  api-strategy-rolling: audit
  api-anti-affinity: warn
  replicas-recommended: "off"
  set-api-prestop: off
`, probe, func(stderr string) bool {
		return strings.Contains(stderr, "would deny: spec.strategy.type: [api-strategy-rolling]")
	})

	_, stderr, err := dryRun(example("api-bad.yaml"))
	require.Error(t, err, "replicas-min still denies")
	assert.Contains(t, stderr, "spec.replicas: Invalid value: 1: [replicas-min]")
	assert.NotContains(t, stderr, `Invalid value: "Recreate"`, "audited, not denied")

	// The same object with 2 replicas and a longer grace period breaks only the
	// rules the policy softened.
	fixed := strings.NewReplacer("replicas: 1", "replicas: 2", "terminationGracePeriodSeconds: 15", "terminationGracePeriodSeconds: 60").
		Replace(string(mustRead(t, example("api-bad.yaml"))))
	path := t.TempDir() + "/api-softened.yaml"
	require.NoError(t, os.WriteFile(path, []byte(fixed), 0o600))
	_, stderr, err = dryRun(path)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, `Warning: would deny: spec.strategy.type: [api-strategy-rolling]`)
	assert.Contains(t, stderr, `Warning: spec.template.spec.affinity.podAntiAffinity: [api-anti-affinity]`)
	assert.NotContains(t, stderr, "[replicas-recommended]", "a rule turned off says nothing")

	// set-api-prestop is off: the good example gets every default but the hook.
	out, stderr, err := dryRun(example("api-good.yaml"))
	require.NoError(t, err, stderr)
	assert.Contains(t, out, "livenessProbe:", "the other defaults still fill")
	assert.NotContains(t, out, "preStop:", "a default turned off fills nothing")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
