package admit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// captured runs fn with a logger at the given verbosity and returns the lines.
func captured(verbosity int, fn func(ctx context.Context)) []string {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: verbosity})
	fn(logf.IntoContext(context.Background(), log))
	return lines
}

func TestDecisionLogs(t *testing.T) {
	p := admit.Static(policy.Default())
	m := admit.NewMutator(admit.Config{Policy: p})
	v := admit.NewValidator(admit.Config{Policy: p})
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	good := fixtureJSON(t, "mutate/api-minimal.golden.yaml")
	unrelated := fixtureJSON(t, "mutate/not-laminar.yaml")

	t.Run("a denial is one info line with the rule IDs", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) { v.Handle(ctx, request(t, admissionv1.Create, "ns", bad, "")) })
		require.Len(t, lines, 1)
		assert.Contains(t, lines[0], `"msg"="denied"`)
		assert.Contains(t, lines[0], `"rules"=["replicas-min" "api-strategy-rolling"`)
	})
	t.Run("a mutation is one info line with the rule IDs", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) { m.Handle(ctx, request(t, admissionv1.Create, "ns", bad, "")) })
		require.Len(t, lines, 1)
		assert.Contains(t, lines[0], `"msg"="HA defaults applied"`)
		assert.Contains(t, lines[0], `"set-api-anti-affinity"`)
	})
	t.Run("allowed unchanged and unjudged requests are quiet at info", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) {
			v.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			m.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			v.Handle(ctx, request(t, admissionv1.Create, "ns", unrelated, ""))
		})
		assert.Empty(t, lines)
	})
	t.Run("debug shows them, and the patch, never the object", func(t *testing.T) {
		lines := captured(1, func(ctx context.Context) {
			v.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			m.Handle(ctx, request(t, admissionv1.Create, "ns", bad, ""))
			v.Handle(ctx, request(t, admissionv1.Create, "ns", unrelated, ""))
		})
		all := strings.Join(lines, "\n")
		assert.Contains(t, all, `"msg"="allowed"`)
		assert.Contains(t, all, `"msg"="patch"`)
		assert.Contains(t, all, `"msg"="not judged"`)
		assert.NotContains(t, all, "laminar/api:1.4.0", "the object's content is never logged")
	})
}

// TestExemptionLogKeepsTheReasonAtDebug: the info line of an exemption names
// its rules and expiry on every request it covers; the reason, free text any
// editor of the workload writes, appears only at debug.
func TestExemptionLogKeepsTheReasonAtDebug(t *testing.T) {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	until := now.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	const reason = "single-zone load-test cluster, INC-4711, call Dana on +1 555 0100"
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	exempted := strings.Replace(bad, `"name":"laminar-api"`, `"name":"laminar-api","annotations":{`+
		`"ha.laminar.io/exempt":"replicas-min,api-strategy-rolling,api-readiness-probe,api-liveness-probe,api-anti-affinity,api-zone-spread",`+
		`"ha.laminar.io/exempt-reason":"`+reason+`","ha.laminar.io/exempt-until":"`+until+`"}`, 1)
	require.NotEqual(t, bad, exempted, "the fixture's name is where the annotations go")
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default()), Clock: func() time.Time { return now }, Access: reviewer{allow: map[string]bool{"": true}}})
	judge := func(ctx context.Context) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "ns", exempted, ""))
		assert.True(t, r.Allowed, "every violated rule is exempted: %v", r.Result)
	}

	info := captured(0, judge)
	require.Len(t, info, 1)
	assert.Contains(t, info[0], `"msg"="exemption used"`)
	assert.Contains(t, info[0], `"exempted"=["replicas-min"`)
	assert.Contains(t, info[0], `"until"="`+until+`"`)
	assert.NotContains(t, info[0], "INC-4711", "the reason is not written at info")

	debug := strings.Join(captured(1, judge), "\n")
	assert.Contains(t, debug, `"msg"="exemption reason"`)
	assert.Contains(t, debug, `"reason"="`+reason+`"`)
}
