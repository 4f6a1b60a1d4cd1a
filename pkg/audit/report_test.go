package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

func results(t *testing.T, d *workload.Workload, p *policy.Policy) map[string]string {
	t.Helper()
	r := Report(Judge(d, p, policy.ModeDeny, rules.Situation{Now: time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)}), p, policy.ModeWarn)
	out := map[string]string{}
	for _, res := range r.Results {
		out[res.Rule] = string(res.Result)
		assert.Equal(t, policy.ModeWarn, res.Properties["enforce"], "the namespace's mode rides along")
	}
	sum := r.Summary
	assert.Equal(t, len(r.Results), sum.Pass+sum.Fail+sum.Warn+sum.Skip, "the summary counts every result")
	return out
}

// A report MUST hold a result for every check that applies: fail for what
// deny would refuse, warn for warnings, skip for what an exemption excuses,
// pass for the rest, and nothing for a rule the policy turns off.
func TestAReportHoldsEveryApplicableCheck(t *testing.T) {
	obj := apiDeployment("ns", "api", 1)
	w, ok := workload.FromObject(obj)
	require.True(t, ok)
	got := results(t, w, policy.Default())
	assert.Equal(t, "fail", got["replicas-min"])
	assert.Equal(t, "fail", got["api-readiness-probe"], "no probe: deny would refuse it")
	assert.Equal(t, "pass", got["api-strategy-rolling"], "no Recreate: passes")
	assert.NotContains(t, got, "controller-kind-statefulset", "a controller rule does not apply to the api")
	assert.NotContains(t, got, "exemption-reason", "no exemption, nothing to judge of one")

	obj.Annotations = map[string]string{"ha.laminar.io/exempt": "replicas-min", "ha.laminar.io/exempt-reason": "batch, INC-1"}
	w, _ = workload.FromObject(obj)
	p := policy.Default()
	p.Rules["api-readiness-probe"] = policy.RuleOff
	got = results(t, w, p)
	assert.Equal(t, "skip", got["replicas-min"], "exempted: reported as such, not hidden")
	assert.NotContains(t, got, "api-readiness-probe", "off: not run")
}

// Report names MUST be valid object names whatever the workload's name.
func TestReportNamesFit(t *testing.T) {
	assert.Equal(t, "laminar-ha-deployment-api", ReportName("Deployment", "api"))
	long := ReportName("StatefulSet", strings.Repeat("x", 253))
	assert.Len(t, long, 253)
	assert.NotEqual(t, long, ReportName("StatefulSet", strings.Repeat("x", 252)+"y"), "cut names stay apart")
}
