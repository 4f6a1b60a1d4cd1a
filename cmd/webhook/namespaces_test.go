package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/report"
)

// TestANamespaceInTheInputCannotSwitchItsOwnCheckOff: a pull request that adds a
// Namespace labelled enforce=off (or mutate=off, or enforce=warn) beside its
// workloads gets them judged as in any namespace, with a note saying the label
// was ignored; only --trust-namespace-labels honours such labels.
func TestANamespaceInTheInputCannotSwitchItsOwnCheckOff(t *testing.T) {
	t.Chdir(repoRoot)
	file := cliData + "/namespaces.yaml"
	judge := func(t *testing.T, args ...string) (int, map[string]report.Object) {
		t.Helper()
		code, stdout, stderr := cli(t, nil, append(append([]string{"check", "-o", "json"}, args...), "-f", file)...)
		var rep report.Report
		require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stderr)
		byNS := map[string]report.Object{}
		for _, o := range rep.Objects {
			if _, seen := byNS[o.Namespace]; !seen {
				byNS[o.Namespace] = o
			}
		}
		return code, byNS
	}

	code, untrusted := judge(t)
	assert.Equal(t, exitFail, code)
	for ns, label := range map[string]string{"sandbox": "ha.laminar.io/enforce=off", "legacy": "ha.laminar.io/enforce=warn", "hand-tuned": "ha.laminar.io/mutate=off"} {
		o, ok := untrusted[ns]
		require.True(t, ok, "an object in namespace %s is judged", ns)
		assert.Equal(t, "deny", o.Enforce, "%s: the policy's mode, not the input's label", ns)
		assert.Equal(t, "on", o.Mutate, "%s", ns)
		require.NotEmpty(t, o.Notes, "%s: the ignored label is named", ns)
		assert.Contains(t, o.Notes[len(o.Notes)-1], label+": ignored", ns)
		assert.Contains(t, o.Notes[len(o.Notes)-1], "--trust-namespace-labels", ns)
	}

	_, trusted := judge(t, "--trust-namespace-labels")
	assert.Equal(t, "off", trusted["sandbox"].Enforce)
	assert.Equal(t, "warn", trusted["legacy"].Enforce)
	assert.Equal(t, "off", trusted["hand-tuned"].Mutate)
	for ns, o := range trusted {
		for _, n := range o.Notes {
			assert.NotContains(t, n, "--trust-namespace-labels", "%s: nothing is ignored when trusted", ns)
		}
	}
}
